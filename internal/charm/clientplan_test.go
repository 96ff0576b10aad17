package charm

import (
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/pki"
)

var planNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// selfSigned makes a client certificate the way an etcd_client requirer does: its own key, self-signed.
func selfSigned(t *testing.T, cn string, isCA bool, notAfter time.Time) string {
	t.Helper()
	kp, err := pki.SelfSigned{CommonName: cn, NotBefore: planNow.Add(-time.Hour), NotAfter: notAfter, IsCA: isCA}.Issue()
	if err != nil {
		t.Fatal(err)
	}
	return string(kp.CertPEM)
}

func clientReq(t *testing.T, rel, app, prefix, cn string) clientRequest {
	return clientRequest{Key: rel, Endpoint: clientEndpoint, RelationID: rel, App: app, Prefix: prefix, HasPrefix: true,
		CertPEM: selfSigned(t, cn, false, planNow.Add(24*time.Hour))}
}

func TestPlanGrantsEachRequesterItsOwnIdentity(t *testing.T) {
	// Given a db relation, a proxy relation and two etcd-client requirers with disjoint prefixes
	reqs := []clientRequest{
		{Key: "db:3", Endpoint: dbEndpoint, RelationID: "db:3", App: "kube"},
		{Key: "proxy:4", Endpoint: proxyEndpoint, RelationID: "proxy:4", App: "gw"},
		clientReq(t, "etcd-client:5", "a", "/a/", "app-a"),
		clientReq(t, "etcd-client:6", "b", "/b/", "app-b"),
	}
	// When the leader plans with nothing granted yet
	plan := planClients(clientRegistry{}, reqs, []string{"root"}, planNow)
	// Then every request is granted under its own user, and nothing is refused or revoked
	if len(plan.Problems) != 0 || len(plan.Revoke) != 0 {
		t.Fatalf("problems %v, revoke %v", plan.Problems, plan.Revoke)
	}
	want := map[string]string{"db:3": "db-3-kube", "proxy:4": "proxy-4-gw", "etcd-client:5": "app-a", "etcd-client:6": "app-b"}
	for key, user := range want {
		if got := plan.Grants[key].User; got != user {
			t.Errorf("grant %s: user %q, want %q", key, got, user)
		}
	}
	if g := plan.Grants["etcd-client:5"]; g.Prefix != "/a/" || !strings.Contains(g.Certificate, "BEGIN CERTIFICATE") {
		t.Errorf("etcd-client grant lacks its prefix or pinned certificate: %+v", g)
	}
	if p := plan.Grants["db:3"].permissions(); len(p) != 1 || p[0] != wholeKeyspace {
		t.Errorf("db grant permissions %v, want the whole keyspace", p)
	}
}

func TestPlanRefusesBadRequestsAndKeepsOthers(t *testing.T) {
	good := clientReq(t, "etcd-client:5", "a", "/a/", "app-a")
	current := clientRegistry{"etcd-client:5": {Endpoint: clientEndpoint, RelationID: "etcd-client:5", App: "a", User: "app-a", Prefix: "/a/"}}
	expired := clientReq(t, "etcd-client:9", "x", "/x/", "x")
	expired.CertPEM = selfSigned(t, "x", false, planNow.Add(-time.Minute))
	caCert := clientReq(t, "etcd-client:9", "x", "/x/", "x")
	caCert.CertPEM = selfSigned(t, "x", true, planNow.Add(time.Hour))
	for _, tc := range []struct {
		name   string
		req    clientRequest
		reason string
	}{
		{"missing prefix", clientRequest{Key: "etcd-client:9", Endpoint: clientEndpoint, RelationID: "etcd-client:9", App: "x", CertPEM: good.CertPEM}, "no prefix requested"},
		{"relative prefix", clientReq(t, "etcd-client:9", "x", "x/", "x"), "does not start with /"},
		{"overlapping prefix", clientReq(t, "etcd-client:9", "x", "/a/b/", "x"), `overlaps prefix "/a/"`},
		{"covering prefix", clientReq(t, "etcd-client:9", "x", "/", "x"), `overlaps prefix "/a/"`},
		{"not PEM", clientRequest{Key: "etcd-client:9", Endpoint: clientEndpoint, RelationID: "etcd-client:9", App: "x", Prefix: "/x/", HasPrefix: true, CertPEM: "hello"}, "not a PEM certificate"},
		{"expired", expired, "expired on"},
		{"CA certificate", caCert, "CA certificate"},
		{"duplicate CN", clientReq(t, "etcd-client:9", "x", "/x/", "app-a"), `"app-a" already belongs to etcd-client:5`},
		{"root CN", clientReq(t, "etcd-client:9", "x", "/x/", "root"), "etcd's administrator"},
		{"foreign user", clientReq(t, "etcd-client:9", "x", "/x/", "alice"), `"alice" already exists`},
		{"unreadable secret", clientRequest{Key: "etcd-client:9", Endpoint: clientEndpoint, RelationID: "etcd-client:9", App: "x", Problem: "cannot read secret-mtls"}, "cannot read secret-mtls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Given an established client on /a/ and a newcomer with bad data
			plan := planClients(current, []clientRequest{good, tc.req}, []string{"root", "app-a", "alice"}, planNow)
			// Then the newcomer is refused with the reason, and the established client keeps its grant
			if len(plan.Problems) != 1 || !strings.Contains(plan.Problems[0].Reason, tc.reason) {
				t.Fatalf("problems %v, want one containing %q", plan.Problems, tc.reason)
			}
			if !strings.HasPrefix(plan.Problems[0].String(), "etcd-client:9 (x): ") {
				t.Errorf("problem %q does not name the relation and application", plan.Problems[0])
			}
			if _, ok := plan.Grants["etcd-client:9"]; ok {
				t.Error("the bad request was granted")
			}
			if plan.Grants["etcd-client:5"].User != "app-a" || len(plan.Revoke) != 0 {
				t.Errorf("the established client was disturbed: grants %v, revoke %v", plan.Grants, plan.Revoke)
			}
		})
	}
}

func TestPlanRevokesGoneRelationsAndChangedCNs(t *testing.T) {
	current := clientRegistry{
		"db:3":          {Endpoint: dbEndpoint, RelationID: "db:3", App: "kube", User: "db-3-kube", SecretID: "secret:1"},
		"etcd-client:5": {Endpoint: clientEndpoint, RelationID: "etcd-client:5", App: "a", User: "app-a", Prefix: "/a/"},
	}
	// Given the db relation is gone and the etcd-client requirer renewed its certificate with a new CN
	plan := planClients(current, []clientRequest{clientReq(t, "etcd-client:5", "a", "/a/", "app-a2")}, []string{"root", "app-a", "db-3-kube"}, planNow)
	// Then the db identity and the old CN are revoked, and the new CN is granted
	revoked := map[string]bool{}
	for _, g := range plan.Revoke {
		revoked[g.User] = true
	}
	if !revoked["db-3-kube"] || !revoked["app-a"] || len(plan.Revoke) != 2 {
		t.Errorf("revoked %v, want db-3-kube and app-a", plan.Revoke)
	}
	if plan.Grants["etcd-client:5"].User != "app-a2" {
		t.Errorf("grant %+v, want user app-a2", plan.Grants["etcd-client:5"])
	}
	// And a grant whose renewed data is bad is revoked too, not left trusting the old certificate
	bad := clientReq(t, "etcd-client:5", "a", "/a/", "app-a")
	bad.CertPEM = selfSigned(t, "app-a", true, planNow.Add(time.Hour))
	plan = planClients(current, []clientRequest{bad}, nil, planNow)
	if len(plan.Problems) != 1 || len(plan.Grants) != 0 {
		t.Errorf("grants %v problems %v, want the client refused", plan.Grants, plan.Problems)
	}
}

func TestTrustBundlePinsClientLeavesAfterTheCA(t *testing.T) {
	r := clientRegistry{
		"etcd-client:6": {Endpoint: clientEndpoint, Certificate: "LEAF-B\n"},
		"etcd-client:5": {Endpoint: clientEndpoint, Certificate: "LEAF-A"},
		"db:3":          {Endpoint: dbEndpoint, SecretID: "secret:1"},
	}
	got := string(trustBundle("CA\n", r))
	if got != "CA\nLEAF-A\nLEAF-B\n" {
		t.Errorf("bundle %q", got)
	}
	if trustDigest([]byte(got)) == trustDigest(trustBundle("CA", clientRegistry{})) {
		t.Error("different bundles share a digest")
	}
}
