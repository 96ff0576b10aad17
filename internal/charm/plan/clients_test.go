package plan

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/cluster"
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
	p := Clients(Registry{}, reqs, ClientPolicy{EtcdUsers: []string{"root"}}, planNow)
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
	wantDB := []cluster.Permission{{Key: "\x00", RangeEnd: "/etcd-charm/", Type: cluster.ReadWrite},
		{Key: "/etcd-charm0", RangeEnd: "\x00", Type: cluster.ReadWrite}}
	if p := p.Grants["db:3"].Permissions(); !slices.Equal(p, wantDB) {
		t.Errorf("db grant permissions %v, want the whole keyspace less the charm's coordination range", p)
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
			p := Clients(current, []ClientRequest{good, tc.req}, ClientPolicy{EtcdUsers: []string{"root", "app-a", "alice"}}, planNow)
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
	p := Clients(current, []ClientRequest{clientReq(t, "etcd-client:5", "a", "/a/", "app-a2")}, ClientPolicy{EtcdUsers: []string{"root", "app-a", "db-3-kube"}}, planNow)
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
	// And a grant whose renewed data is bad keeps its last good grant, with the problem reported: one
	// mistake in a requirer does not cut it off
	bad := clientReq(t, "etcd-client:5", "a", "/a/", "app-a")
	bad.CertPEM = selfSigned(t, "app-a", true, planNow.Add(time.Hour))
	p = Clients(current, []ClientRequest{bad}, ClientPolicy{}, planNow)
	if len(p.Problems) != 1 || p.Grants["etcd-client:5"] != current["etcd-client:5"] || len(p.Revoke) != 1 || p.Revoke[0].User != "db-3-kube" {
		t.Errorf("grants %v problems %v revoke %v, want the last good grant kept and the problem named", p.Grants, p.Problems, p.Revoke)
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

func grantOf(t *testing.T, rel, app, prefix, cn string) Grant {
	t.Helper()
	req := clientReq(t, rel, app, prefix, cn)
	_, leaf, reason := CheckClientCertificate(req.CertPEM, planNow)
	if reason != "" {
		t.Fatal(reason)
	}
	return Grant{Endpoint: ClientEndpoint, RelationID: rel, App: app, User: cn, Prefix: prefix, Certificate: leaf}
}

// Item 1 of the trust boundaries: a served requirer that widens its prefix over another's is refused, the
// other keeps its grant whatever the order of the relation keys, and the widening one keeps its last good grant.
func TestGivenTwoServedRequirersWhenOneWidensItsPrefixOverTheOtherThenItIsRefusedAndBothKeepTheirGrants(t *testing.T) {
	for _, keys := range [][2]string{{"etcd-client:1", "etcd-client:2"}, {"etcd-client:2", "etcd-client:1"}} {
		pgKey, otherKey := keys[0], keys[1]
		current := Registry{
			pgKey:    grantOf(t, pgKey, "pg", "/pg/", "pg"),
			otherKey: grantOf(t, otherKey, "app2", "/app2/", "app2"),
		}
		widened := clientReq(t, pgKey, "pg", "/", "pg")
		p := Clients(current, []ClientRequest{widened, clientReq(t, otherKey, "app2", "/app2/", "app2")}, ClientPolicy{EtcdUsers: []string{"root", "pg", "app2"}}, planNow)
		if len(p.Revoke) != 0 {
			t.Fatalf("%s widening: revoked %v", pgKey, p.Revoke)
		}
		if p.Grants[otherKey].Prefix != "/app2/" || p.Grants[pgKey].Prefix != "/pg/" {
			t.Fatalf("%s widening: grants %v, want both as they were", pgKey, p.Grants)
		}
		if len(p.Problems) != 1 || p.Problems[0].App != "pg" || !strings.Contains(p.Problems[0].Reason, `prefix "/" overlaps prefix "/app2/"`) {
			t.Fatalf("%s widening: problems %v, want pg refused, naming app2's prefix", pgKey, p.Problems)
		}
	}
}

// Item 6: identical prefixes are a namespace shared on purpose (the rolling-ops library sends one from
// every application), each with its own user; nesting is refused unless allowed; / is served alone.
func TestGivenPrefixesWhenPlannedThenIdenticalOnesShareNestedOnesNeedTheOptionAndRootPrefixIsServedAlone(t *testing.T) {
	a := clientReq(t, "etcd-client:1", "a", "/locks/", "a")
	b := clientReq(t, "etcd-client:2", "b", "/locks/", "b")
	p := Clients(Registry{}, []ClientRequest{a, b}, ClientPolicy{}, planNow)
	if len(p.Problems) != 0 || p.Grants["etcd-client:1"].User != "a" || p.Grants["etcd-client:2"].User != "b" {
		t.Fatalf("identical prefixes: grants %v problems %v, want both served, each its own user", p.Grants, p.Problems)
	}
	nested := clientReq(t, "etcd-client:3", "c", "/locks/c/", "c")
	p = Clients(Registry{}, []ClientRequest{a, nested}, ClientPolicy{}, planNow)
	if len(p.Problems) != 1 || p.Problems[0].App != "c" {
		t.Fatalf("nested prefix: problems %v, want c refused", p.Problems)
	}
	p = Clients(Registry{}, []ClientRequest{a, nested}, ClientPolicy{NestedPrefixes: true}, planNow)
	if len(p.Problems) != 0 || len(p.Grants) != 2 {
		t.Fatalf("nested prefix with the option: grants %v problems %v, want both served", p.Grants, p.Problems)
	}
	root := clientReq(t, "etcd-client:4", "k8s", "/", "k8s")
	if p = Clients(Registry{}, []ClientRequest{root}, ClientPolicy{}, planNow); len(p.Problems) != 0 || p.Grants["etcd-client:4"].Prefix != "/" {
		t.Fatalf("/ alone: grants %v problems %v, want it served", p.Grants, p.Problems)
	}
	if p = Clients(Registry{}, []ClientRequest{root, a}, ClientPolicy{}, planNow); len(p.Problems) != 1 || len(p.Grants) != 1 {
		t.Fatalf("/ beside /locks/: grants %v problems %v, want one of them refused", p.Grants, p.Problems)
	}
}

// Items 3 and 6: names and ranges no client may take.
func TestGivenReservedNamesAndTheCharmsOwnKeysWhenRequestedThenTheyAreRefused(t *testing.T) {
	policy := ClientPolicy{MemberNamePrefix: "etcd-"}
	for _, tc := range []struct {
		name, prefix, cn, reason string
	}{
		{"member name", "/x/", "etcd-2", "name of a member"},
		{"future member name", "/x/", "etcd-17", "name of a member"},
		{"issued db identity", "/x/", "db-3-kube", "shape of the names the charm gives"},
		{"issued proxy identity", "/x/", "proxy-12-gw", "shape of the names the charm gives"},
		{"coordination prefix", "/etcd-charm/", "x", "own coordination"},
		{"inside the coordination prefix", "/etcd-charm/turns/", "x", "own coordination"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Clients(Registry{}, []ClientRequest{clientReq(t, "etcd-client:9", "x", tc.prefix, tc.cn)}, policy, planNow)
			if len(p.Problems) != 1 || !strings.Contains(p.Problems[0].Reason, tc.reason) || len(p.Grants) != 0 {
				t.Fatalf("grants %v problems %v, want refused with %q", p.Grants, p.Problems, tc.reason)
			}
		})
	}
	// Names that only look alike are fine.
	for _, cn := range []string{"etcd-app", "etcdx-1", "db-kube", "dbx-3-a"} {
		if p := Clients(Registry{}, []ClientRequest{clientReq(t, "etcd-client:9", "x", "/x/", cn)}, policy, planNow); len(p.Problems) != 0 {
			t.Errorf("CN %q refused: %v", cn, p.Problems)
		}
	}
}

// Item 3: no client role covers the charm's coordination range, whatever it was granted.
func TestGivenGrantsThatCoverTheCharmsKeysWhenTheirPermissionsAreMadeThenTheCoordinationRangeIsLeftOut(t *testing.T) {
	covers := func(perms []cluster.Permission, key string) bool {
		for _, p := range perms {
			end := p.RangeEnd
			if p.Prefix {
				end = prefixEnd(p.Key)
			}
			if key >= p.Key && (end == "\x00" || key < end) {
				return true
			}
		}
		return false
	}
	for _, g := range []Grant{
		{Endpoint: "db", User: "db-1-kube"},
		{Endpoint: "proxy", User: "proxy-2-gw"},
		{Endpoint: ClientEndpoint, User: "k8s", Prefix: "/"},
		{Endpoint: ClientEndpoint, User: "e", Prefix: "/etcd"},
		{Endpoint: ClientEndpoint, User: "e", Prefix: "/etcd-charm"},
	} {
		perms := g.Permissions()
		for _, key := range []string{"/etcd-charm/turns/restart", "/etcd-charm/", "/etcd-charm/status/application"} {
			if covers(perms, key) {
				t.Errorf("%s's grant (%s %q) covers %q: %v", g.User, g.Endpoint, g.Prefix, key, perms)
			}
		}
		for _, key := range []string{"/etcd-charm0", "/etcd-charmx", "/etcd", "/etcd-charm"} {
			if strings.HasPrefix(key, g.Prefix) && !covers(perms, key) {
				t.Errorf("%s's grant (%s %q) lost %q, outside the coordination range: %v", g.User, g.Endpoint, g.Prefix, key, perms)
			}
		}
	}
	if perms := (Grant{Endpoint: ClientEndpoint, Prefix: "/app/"}).Permissions(); len(perms) != 1 || perms[0] != cluster.PrefixPermission("/app/", cluster.ReadWrite) {
		t.Errorf("an ordinary prefix should stay one prefix permission: %v", perms)
	}
	if got := prefixEnd("a\xff\xff"); got != "b" {
		t.Errorf("prefixEnd: %q", got)
	}
	if got := prefixEnd("\xff"); got != "\x00" {
		t.Errorf("prefixEnd of the last key: %q", got)
	}
}

// Item 4: every field a requirer sends is bounded, and only an excerpt of it is ever shown.
func TestGivenOversizedRequirerDataWhenPlannedThenItIsRefusedWithABoundedMessage(t *testing.T) {
	huge := "/" + strings.Repeat("p", 1<<20)
	p := Clients(Registry{}, []ClientRequest{clientReq(t, "etcd-client:9", "x", huge, "x")}, ClientPolicy{}, planNow)
	if len(p.Problems) != 1 || !strings.Contains(p.Problems[0].Reason, "longer than 512 bytes") || len(p.Problems[0].String()) > 300 {
		t.Fatalf("problems %.400v, want the prefix refused in a short message", p.Problems)
	}
	req := clientReq(t, "etcd-client:9", "x", "/x/", "x")
	req.CertPEM += strings.Repeat("A", MaxCertificateBytes)
	p = Clients(Registry{}, []ClientRequest{req}, ClientPolicy{}, planNow)
	if len(p.Problems) != 1 || !strings.Contains(p.Problems[0].Reason, "more than 16384") {
		t.Fatalf("problems %v, want the certificate refused for its size", p.Problems)
	}
	long := clientReq(t, "etcd-client:9", "x", "/x/", strings.Repeat("c", 65))
	p = Clients(Registry{}, []ClientRequest{long}, ClientPolicy{}, planNow)
	if len(p.Problems) != 1 || !strings.Contains(p.Problems[0].Reason, "longer than 64 bytes") {
		t.Fatalf("problems %v, want the CN refused for its length", p.Problems)
	}
	if got := Excerpt(strings.Repeat("é", 100)); !strings.HasSuffix(got, "(200 bytes)") || len(got) > 80 {
		t.Errorf("Excerpt: %s", got)
	}
}

func TestGivenDBAdminWhenDBAndOtherClientsArePlannedThenOnlyDBConsumersHoldRootAndTheOptionFollowsConfig(t *testing.T) {
	// Given a db relation, a proxy relation and an etcd-client requirer, with db_admin on
	reqs := []ClientRequest{
		{Key: "db:3", Endpoint: DBEndpoint, RelationID: "db:3", App: "kube"},
		{Key: "proxy:4", Endpoint: "proxy", RelationID: "proxy:4", App: "gw"},
		clientReq(t, "etcd-client:5", "a", "/a/", "app-a"),
	}
	on := ClientPolicy{EtcdUsers: []string{"root"}, DBAdmin: true}
	// When the leader plans
	p := Clients(Registry{}, reqs, on, planNow)
	// Then the db consumer holds root beside its own role (kube-apiserver compacts), and no one else does
	if got := p.Grants["db:3"].Roles(); !slices.Equal(got, []string{"db-3-kube", "root"}) {
		t.Errorf("db roles %v, want its own and root", got)
	}
	for _, key := range []string{"proxy:4", "etcd-client:5"} {
		if g := p.Grants[key]; g.Admin || slices.Contains(g.Roles(), cluster.RootRole) {
			t.Errorf("%s holds root: %+v", key, g.Roles())
		}
	}
	// When the operator turns db_admin off, the established db grant keeps its user and secret and loses root
	off := on
	off.DBAdmin = false
	p2 := Clients(p.Grants, reqs, off, planNow)
	g := p2.Grants["db:3"]
	if g.Admin || !slices.Equal(g.Roles(), []string{"db-3-kube"}) || g.User != p.Grants["db:3"].User || len(p2.Revoke) != 0 {
		t.Errorf("after db_admin=false: %+v roles %v, revoke %v", g, g.Roles(), p2.Revoke)
	}
	// And turning it on again gives root back to the same user
	if g := Clients(p2.Grants, reqs, on, planNow).Grants["db:3"]; !g.Admin || g.User != "db-3-kube" {
		t.Errorf("after db_admin=true again: %+v", g)
	}
}

func TestGivenRequirersIntegratedTogetherWhenSomeHaveNotSentARequestThenTheyArePending(t *testing.T) {
	related := map[string]string{
		"app-a": "joined", "app-a/0": "active",
		"app-b": "joined", "app-b/0": "waiting",
		"app-c": "joined",
		"app-d": "dying", "app-d/0": "dying",
	}
	if got := PendingRequirers(related, []string{"app-a"}); got != 2 {
		t.Errorf("pending %d, want 2 (app-b and app-c; app-a was heard, app-d is leaving, units are not requirers)", got)
	}
	if got := PendingRequirers(related, []string{"app-a", "app-b", "app-c"}); got != 0 {
		t.Errorf("pending %d once every live requirer was heard, want 0", got)
	}
	if got := PendingRequirers(nil, nil); got != 0 {
		t.Errorf("pending %d with nothing related", got)
	}
}
