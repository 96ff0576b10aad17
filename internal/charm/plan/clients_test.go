package plan

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

func clientReq(t *testing.T, rel, app, prefix, cn string) ClientRequest {
	return ClientRequest{Key: rel, Endpoint: ClientEndpoint, RelationID: rel, App: app, Prefix: prefix, HasPrefix: true,
		CertPEM: selfSigned(t, cn, false, planNow.Add(24*time.Hour))}
}

func TestPlanGrantsEachRequesterItsOwnIdentity(t *testing.T) {
	// Given a db relation, a proxy relation and two etcd-client requirers with disjoint prefixes
	reqs := []ClientRequest{
		{Key: "db:3", Endpoint: "db", RelationID: "db:3", App: "kube"},
		{Key: "proxy:4", Endpoint: "proxy", RelationID: "proxy:4", App: "gw"},
		clientReq(t, "etcd-client:5", "a", "/a/", "app-a"),
		clientReq(t, "etcd-client:6", "b", "/b/", "app-b"),
	}
	// When the leader plans with nothing granted yet
	p := Clients(Registry{}, reqs, []string{"root"}, planNow)
	// Then every request is granted under its own user, and nothing is refused or revoked
	if len(p.Problems) != 0 || len(p.Revoke) != 0 {
		t.Fatalf("problems %v, revoke %v", p.Problems, p.Revoke)
	}
	want := map[string]string{"db:3": "db-3-kube", "proxy:4": "proxy-4-gw", "etcd-client:5": "app-a", "etcd-client:6": "app-b"}
	for key, user := range want {
		if got := p.Grants[key].User; got != user {
			t.Errorf("grant %s: user %q, want %q", key, got, user)
		}
	}
	if g := p.Grants["etcd-client:5"]; g.Prefix != "/a/" || !strings.Contains(g.Certificate, "BEGIN CERTIFICATE") {
		t.Errorf("etcd-client grant lacks its prefix or pinned certificate: %+v", g)
	}
	if p := p.Grants["db:3"].Permissions(); len(p) != 1 || p[0] != WholeKeyspace {
		t.Errorf("db grant permissions %v, want the whole keyspace", p)
	}
}

func TestPlanRefusesBadRequestsAndKeepsOthers(t *testing.T) {
	good := clientReq(t, "etcd-client:5", "a", "/a/", "app-a")
	current := Registry{"etcd-client:5": {Endpoint: ClientEndpoint, RelationID: "etcd-client:5", App: "a", User: "app-a", Prefix: "/a/"}}
	expired := clientReq(t, "etcd-client:9", "x", "/x/", "x")
	expired.CertPEM = selfSigned(t, "x", false, planNow.Add(-time.Minute))
	caCert := clientReq(t, "etcd-client:9", "x", "/x/", "x")
	caCert.CertPEM = selfSigned(t, "x", true, planNow.Add(time.Hour))
	for _, tc := range []struct {
		name   string
		req    ClientRequest
		reason string
	}{
		{"missing prefix", ClientRequest{Key: "etcd-client:9", Endpoint: ClientEndpoint, RelationID: "etcd-client:9", App: "x", CertPEM: good.CertPEM}, "no prefix requested"},
		{"relative prefix", clientReq(t, "etcd-client:9", "x", "x/", "x"), "does not start with /"},
		{"overlapping prefix", clientReq(t, "etcd-client:9", "x", "/a/b/", "x"), `overlaps prefix "/a/"`},
		{"covering prefix", clientReq(t, "etcd-client:9", "x", "/", "x"), `overlaps prefix "/a/"`},
		{"not PEM", ClientRequest{Key: "etcd-client:9", Endpoint: ClientEndpoint, RelationID: "etcd-client:9", App: "x", Prefix: "/x/", HasPrefix: true, CertPEM: "hello"}, "not a PEM certificate"},
		{"expired", expired, "expired on"},
		{"CA certificate", caCert, "CA certificate"},
		{"duplicate CN", clientReq(t, "etcd-client:9", "x", "/x/", "app-a"), `"app-a" already belongs to etcd-client:5`},
		{"root CN", clientReq(t, "etcd-client:9", "x", "/x/", "root"), "etcd's administrator"},
		{"foreign user", clientReq(t, "etcd-client:9", "x", "/x/", "alice"), `"alice" already exists`},
		{"unreadable secret", ClientRequest{Key: "etcd-client:9", Endpoint: ClientEndpoint, RelationID: "etcd-client:9", App: "x", Problem: "cannot read secret-mtls"}, "cannot read secret-mtls"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Given an established client on /a/ and a newcomer with bad data
			p := Clients(current, []ClientRequest{good, tc.req}, []string{"root", "app-a", "alice"}, planNow)
			// Then the newcomer is refused with the reason, and the established client keeps its grant
			if len(p.Problems) != 1 || !strings.Contains(p.Problems[0].Reason, tc.reason) {
				t.Fatalf("problems %v, want one containing %q", p.Problems, tc.reason)
			}
			if !strings.HasPrefix(p.Problems[0].String(), "etcd-client:9 (x): ") {
				t.Errorf("problem %q does not name the relation and application", p.Problems[0])
			}
			if _, ok := p.Grants["etcd-client:9"]; ok {
				t.Error("the bad request was granted")
			}
			if p.Grants["etcd-client:5"].User != "app-a" || len(p.Revoke) != 0 {
				t.Errorf("the established client was disturbed: grants %v, revoke %v", p.Grants, p.Revoke)
			}
		})
	}
}

func TestPlanRevokesGoneRelationsAndChangedCNs(t *testing.T) {
	current := Registry{
		"db:3":          {Endpoint: "db", RelationID: "db:3", App: "kube", User: "db-3-kube", SecretID: "secret:1"},
		"etcd-client:5": {Endpoint: ClientEndpoint, RelationID: "etcd-client:5", App: "a", User: "app-a", Prefix: "/a/"},
	}
	// Given the db relation is gone and the etcd-client requirer renewed its certificate with a new CN
	p := Clients(current, []ClientRequest{clientReq(t, "etcd-client:5", "a", "/a/", "app-a2")}, []string{"root", "app-a", "db-3-kube"}, planNow)
	// Then the db identity and the old CN are revoked, and the new CN is granted
	revoked := map[string]bool{}
	for _, g := range p.Revoke {
		revoked[g.User] = true
	}
	if !revoked["db-3-kube"] || !revoked["app-a"] || len(p.Revoke) != 2 {
		t.Errorf("revoked %v, want db-3-kube and app-a", p.Revoke)
	}
	if p.Grants["etcd-client:5"].User != "app-a2" {
		t.Errorf("grant %+v, want user app-a2", p.Grants["etcd-client:5"])
	}
	// And a grant whose renewed data is bad is revoked too, not left trusting the old certificate
	bad := clientReq(t, "etcd-client:5", "a", "/a/", "app-a")
	bad.CertPEM = selfSigned(t, "app-a", true, planNow.Add(time.Hour))
	p = Clients(current, []ClientRequest{bad}, nil, planNow)
	if len(p.Problems) != 1 || len(p.Grants) != 0 {
		t.Errorf("grants %v problems %v, want the client refused", p.Grants, p.Problems)
	}
}

func TestTrustBundlePinsClientLeavesAfterTheCA(t *testing.T) {
	r := Registry{
		"etcd-client:6": {Endpoint: ClientEndpoint, Certificate: "LEAF-B\n"},
		"etcd-client:5": {Endpoint: ClientEndpoint, Certificate: "LEAF-A"},
		"db:3":          {Endpoint: "db", SecretID: "secret:1"},
	}
	got := string(TrustBundle("CA\n", r))
	if got != "CA\nLEAF-A\nLEAF-B\n" {
		t.Errorf("bundle %q", got)
	}
	if got == string(TrustBundle("CA", Registry{})) {
		t.Error("different bundles share a digest")
	}
}
