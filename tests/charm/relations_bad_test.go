package charm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/pki"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// requirerIdentity is a client key and self-signed certificate, made the way an etcd_client requirer makes
// its own, with whatever flaw a case needs.
type requirerIdentity struct{ certPEM, keyPEM string }

func newRequirerIdentity(t *testing.T, cn string, isCA bool, notAfter time.Time) requirerIdentity {
	t.Helper()
	kp, err := pki.SelfSigned{CommonName: cn, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: notAfter, IsCA: isCA}.Issue()
	if err != nil {
		t.Fatal(err)
	}
	return requirerIdentity{certPEM: string(kp.CertPEM), keyPEM: string(kp.KeyPEM)}
}

func (id requirerIdentity) files(t *testing.T, caPEM string) clientFiles {
	t.Helper()
	dir := t.TempDir()
	for name, data := range map[string]string{"ca.crt": caPEM, "client.crt": id.certPEM, "client.key": id.keyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return clientFiles{dir: dir}
}

// Every kind of bad etcd_client request, written by a raw requirer exactly as it would arrive: each is
// refused with a blocked status naming the relation and the fix, nothing is granted, the established client
// keeps working, and correcting the data recovers.
func TestGivenBadEtcdClientRequestsWhenRelatedThenEachIsRefusedNamingTheRelationAndNothingIsGranted(t *testing.T) {
	m := deployOneWithClientA(t)
	ctx := context.Background()
	if _, err := m.Deploy(ctx, requirers.raw, client.DeployOptions{App: "raw", NumUnits: 1}); err != nil {
		t.Fatal(err)
	}
	integrate(t, m, "etcd:etcd-client", "client-a:etcd-client")
	rawRel := integrate(t, m, "etcd:etcd-client", "raw:etcd-client")
	waitAppsActive(t, m, 5*time.Minute, "etcd", "client-a")
	filesA := requirerFiles(t, m, "client-a/0", "etcd-client")
	filesA.mustWork(t, m, "/a/before")
	caPEM := readCA(t, m)

	rel := fmt.Sprintf("etcd-client:%d", rawRel)
	good := newRequirerIdentity(t, "raw", false, time.Now().Add(30*24*time.Hour))
	mtls := runRaw(t, m, "raw/0", "AddSecret", "mtls-cert="+good.certPEM, "--owner=application", "--label=etcd-client."+fmt.Sprint(rawRel)+".mtls.secret")
	runRaw(t, m, "raw/0", "GrantSecretToRelation", mtls, rel)
	ungranted := runRaw(t, m, "raw/0", "AddSecret", "mtls-cert="+good.certPEM, "--owner=application")
	request := func(prefix, secretURI, cert string) {
		runRaw(t, m, "raw/0", "SetSecret", mtls, "mtls-cert="+cert)
		runRaw(t, m, "raw/0", "SetAppRelationData", rel, "prefix="+prefix, "secret-mtls="+secretURI,
			`requested-secrets=["username", "uris", "tls", "tls-ca"]`, `provided-secrets=["mtls-cert"]`)
	}
	cases := []struct {
		name, prefix, secret, cert, reason string
	}{
		{"missing prefix", "", mtls, good.certPEM, "no prefix requested"},
		{"malformed prefix", "raw/", mtls, good.certPEM, "does not start with /"},
		{"prefix overlapping another client's", "/a/raw/", mtls, good.certPEM, `overlaps prefix "/a/"`},
		{"certificate not PEM", "/raw/", mtls, "not a certificate", "not a PEM certificate"},
		{"expired certificate", "/raw/", mtls, newRequirerIdentity(t, "raw", false, time.Now().Add(-time.Hour)).certPEM, "expired"},
		{"CA certificate", "/raw/", mtls, newRequirerIdentity(t, "raw", true, time.Now().Add(time.Hour)).certPEM, "CA certificate"},
		{"CN of another client", "/raw/", mtls, newRequirerIdentity(t, "client-a", false, time.Now().Add(time.Hour)).certPEM, `"client-a" already belongs`},
		{"unreadable secret", "/raw/", ungranted, good.certPEM, "cannot read the secret-mtls secret"},
		// Trust boundaries: bounded input, the charm's own keys and names out of reach.
		{"oversized prefix", "/" + strings.Repeat("p", 100<<10), mtls, good.certPEM, "longer than 512 bytes"},
		{"prefix inside the charm's coordination keys", "/etcd-charm/turns/", mtls, good.certPEM, "own coordination"},
		{"CN of a member", "/raw/", mtls, newRequirerIdentity(t, "etcd-0", false, time.Now().Add(time.Hour)).certPEM, "name of a member"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			request(tc.prefix, tc.secret, tc.cert)
			var status string
			waitFor(t, 2*time.Minute, "the etcd leader to refuse the request", func() bool {
				status = unitStatuses(t, m)["etcd/0"]
				return strings.HasPrefix(status, "blocked: ") && strings.Contains(status, rel+" (raw)") &&
					strings.Contains(status, tc.reason)
			})
			t.Logf("status: %s", status)
			bag, err := m.AppBag(ctx, rawRel, "etcd")
			if err != nil {
				t.Fatal(err)
			}
			if bag["secret-user"] != "" || bag["secret-tls"] != "" {
				t.Errorf("a refused request was answered: %v", bag)
			}
			users, err := adminClient(t, m).Users(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(users, "raw") {
				t.Errorf("a refused request got an etcd user: %v", users)
			}
			filesA.mustWork(t, m, "/a/during-"+strings.ReplaceAll(tc.name, " ", "-"))
		})
	}

	t.Run("fixing the data recovers", func(t *testing.T) {
		request("/raw/", mtls, good.certPEM)
		waitAppsActive(t, m, 4*time.Minute, "etcd", "client-a")
		waitFor(t, 2*time.Minute, "the raw requirer to be answered", func() bool {
			bag, err := m.AppBag(ctx, rawRel, "etcd")
			return err == nil && bag["secret-user"] != ""
		})
		raw := good.files(t, caPEM)
		raw.mustWork(t, m, "/raw/works")
		raw.mustBeDenied(t, m, "the raw requirer outside its prefix", "get", "/a/before")
		filesA.mustWork(t, m, "/a/after")
	})

	// A served requirer that widens its prefix over another's (the takeover shape) is refused and named,
	// keeps its last good grant, and takes nothing from the other, whatever the order of their relations.
	raw := good.files(t, caPEM)
	t.Run("a served requirer widening its prefix over another's keeps its own grant and takes nothing", func(t *testing.T) {
		request("/", mtls, good.certPEM)
		waitFor(t, 2*time.Minute, "the etcd leader to refuse the wider prefix, naming raw", func() bool {
			status := unitStatuses(t, m)["etcd/0"]
			return strings.HasPrefix(status, "blocked: ") && strings.Contains(status, rel+" (raw)") &&
				strings.Contains(status, `prefix "/" overlaps prefix "/a/"`)
		})
		waitIdle(t, m)
		raw.mustWork(t, m, "/raw/still-served")
		raw.mustBeDenied(t, m, "the widening requirer reading another's keys", "get", "/a/before")
		filesA.mustWork(t, m, "/a/untouched")
	})

	// Identical prefixes are a namespace the requirers chose to share: both are served, each its own user.
	t.Run("the same prefix as another requirer is shared", func(t *testing.T) {
		request("/a/", mtls, good.certPEM)
		waitFor(t, 3*time.Minute, "the raw requirer to be granted /a/ beside client-a", func() bool {
			out, err := raw.etcdctl(memberEndpoints(t, m), "get", "/a/before", "--print-value-only")
			return err == nil && out != ""
		})
		waitAppsActive(t, m, 4*time.Minute, "etcd", "client-a")
		raw.mustWork(t, m, "/a/raw-shared")
		filesA.mustWork(t, m, "/a/after-sharing")
		raw.mustBeDenied(t, m, "the sharing requirer outside the shared prefix", "get", "/raw/still-served")
	})
}
