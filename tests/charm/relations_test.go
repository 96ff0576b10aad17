package charm_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/version"

	"github.com/etcd-charm/etcd/interfaces/etcd"
	"github.com/etcd-charm/etcd/interfaces/etcdclient"
	"github.com/etcd-charm/etcd/interfaces/etcdproxy"
	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// The client relations, end to end: the example requirer on db and proxy (the classic interfaces) and two
// etcd_client requirers (v0 on /a/, v1 on /b/), then renewal, scaling and removal, all checked with a real
// etcdctl holding exactly the credentials each requirer received.
func TestGivenRequirersOnEveryEndpointWhenRelatedThenEachGetsExactlyItsOwnAccess(t *testing.T) {
	buildRequirers(t)
	m := newModel(t)
	ctx := context.Background()
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 3}); err != nil {
		t.Fatal(err)
	}
	deployRequirer(t, m, "classic", nil)
	deployRequirer(t, m, "client-a", map[string]string{"prefix": "/a/"})
	deployRequirer(t, m, "client-b", map[string]string{"prefix": "/b/", "client-version": "v1"})
	dbRel := integrate(t, m, "etcd:db", "classic:db")
	proxyRel := integrate(t, m, "etcd:proxy", "classic:proxy")
	relA := integrate(t, m, "etcd:etcd-client", "client-a:etcd-client")
	relB := integrate(t, m, "etcd:etcd-client", "client-b:etcd-client")
	waitAppsActive(t, m, 6*time.Minute, "etcd", "classic", "client-a", "client-b")
	caPEM := readCA(t, m)

	t.Run("db and proxy: every member publishes identical, complete unit data", func(t *testing.T) {
		assertClassicBags(t, m, dbRel, proxyRel, caPEM)
	})

	classic := requirerFiles(t, m, "classic/0", "db")
	t.Run("db: the consumer reads and writes anywhere in the keyspace", func(t *testing.T) {
		classic.mustWork(t, m, "/anywhere/classic")
		classic.mustWork(t, m, "/a/written-by-classic")
		res, err := m.Run(ctx, "classic/0", "put", map[string]any{"key": "/via-action", "value": "hello", "endpoint": "db"})
		if err != nil || res.Status != "completed" {
			t.Fatalf("put action on db: %v %+v", err, res)
		}
		proxyFiles := requirerFiles(t, m, "classic/0", "proxy")
		proxyFiles.mustWork(t, m, "/anywhere/proxy")
	})

	t.Run("db and proxy: their certificates do not open the peer port", func(t *testing.T) {
		proxyFiles := requirerFiles(t, m, "classic/0", "proxy")
		assertPeerPortMembersOnly(t, m, map[string]keyPair{
			"the db relation's certificate":    readKeyPair(t, classic.dir, "client.crt", "client.key"),
			"the proxy relation's certificate": readKeyPair(t, proxyFiles.dir, "client.crt", "client.key"),
		})
	})

	t.Run("db: the consumer compacts as kube-apiserver does (db_admin, the default)", func(t *testing.T) {
		if err := kubeAPIServerCompaction(classic.dial(t, m)); err != nil {
			t.Fatalf("compaction through the db relation's credentials: %v", err)
		}
	})

	t.Run("db: what an administering consumer writes among the charm's keys stops nothing", func(t *testing.T) {
		// A lease-less restart turn in a member's name, a trust generation far ahead of the leader's, and a
		// made-up application status: the renewal below needs a rolling restart onto the new trust.
		cli := classic.dial(t, m).Raw()
		for key, value := range map[string]string{
			"/etcd-charm/turns/restart":            "etcd-0",
			"/etcd-charm/clients/trust-generation": fmt.Sprintf(`{"generation":1000000,"changed":%d}`, time.Now().Add(time.Hour).UnixNano()),
			"/etcd-charm/status/application":       "forged by a db consumer",
		} {
			if _, err := cli.Put(ctx, key, value); err != nil {
				t.Fatalf("the db consumer writing %s: %v", key, err)
			}
		}
	})

	t.Run("etcd-client: app data and secrets match the spec", func(t *testing.T) {
		assertClientV0Answer(t, m, relA, "client-a", caPEM)
		assertClientV1Answer(t, m, relB, "client-b", "/b/", caPEM)
	})

	filesA := requirerFiles(t, m, "client-a/0", "etcd-client")
	filesB := requirerFiles(t, m, "client-b/0", "etcd-client")
	t.Run("etcd-client: each requirer is confined to its own prefix", func(t *testing.T) {
		filesA.mustWork(t, m, "/a/one")
		filesB.mustWork(t, m, "/b/one")
		filesA.mustBeDenied(t, m, "client-a writing /b/", "put", "/b/from-a", "x")
		filesA.mustBeDenied(t, m, "client-a reading /b/", "get", "/b/one")
		filesB.mustBeDenied(t, m, "client-b reading /a/", "get", "/a/one")
		filesA.mustBeDenied(t, m, "client-a writing the keyspace root", "put", "/outside", "x")
		filesB.mustBeDenied(t, m, "client-b listing the whole keyspace", "get", "", "--prefix")
	})

	t.Run("etcd-client: a renewed certificate works and the old one is rejected by every member", func(t *testing.T) {
		old := filesA.snapshot(t)
		res, err := m.Run(ctx, "client-a/0", "renew-certificate", nil)
		if err != nil || res.Status != "completed" {
			t.Fatalf("renew-certificate: %v %+v", err, res)
		}
		waitFor(t, 4*time.Minute, "the old certificate to be rejected everywhere", func() bool {
			return rejectedEverywhere(t, m, old)
		})
		waitAppsActive(t, m, 4*time.Minute, "etcd", "client-a")
		if same(t, old, filesA, "client.crt") {
			t.Fatal("renew-certificate did not change the requirer's certificate")
		}
		filesA.mustWork(t, m, "/a/after-renewal")
		old.rejectedByEveryMember(t, m)
		waitFor(t, 2*time.Minute, "the leader to replace the forged application status", func() bool {
			resp, err := adminClient(t, m).Raw().Get(ctx, "/etcd-charm/status/application")
			return err == nil && len(resp.Kvs) == 1 && !strings.Contains(string(resp.Kvs[0].Value), "forged")
		})
	})

	t.Run("db_admin=false: the db consumer is confined to the keyspace outside the charm's keys", func(t *testing.T) {
		if err := m.SetConfig(ctx, "etcd", map[string]string{"db_admin": "false"}); err != nil {
			t.Fatal(err)
		}
		waitIdle(t, m)
		err := kubeAPIServerCompaction(classic.dial(t, m))
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("compaction without db_admin: %v, want permission denied", err)
		}
		classic.mustBeDenied(t, m, "the db consumer writing the restart turn", "put", "/etcd-charm/turns/restart", "x")
		classic.mustBeDenied(t, m, "the db consumer reading the charm's keys", "get", "/etcd-charm/", "--prefix")
		classic.mustWork(t, m, "/etcd-charm0-beside-the-charms-keys")
		classic.mustWork(t, m, "/etcd-charm")
		classic.mustWork(t, m, "/anywhere/without-admin")
	})

	t.Run("scaling: connection data follows the member set and clients keep working", func(t *testing.T) {
		if _, err := m.AddUnit(ctx, "etcd", 1); err != nil {
			t.Fatal(err)
		}
		waitAppsActive(t, m, 5*time.Minute, "etcd", "classic", "client-a", "client-b")
		assertClassicBags(t, m, dbRel, proxyRel, caPEM)
		assertClientV0Answer(t, m, relA, "client-a", caPEM)
		for _, f := range []clientFiles{classic, filesA, filesB} {
			f.mustWork(t, m, prefixOf(f)+"after-scale-up")
		}
		units := aliveUnits(t, m)
		victim := units[len(units)-1]
		if err := m.RemoveUnit(ctx, victim); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 3*time.Minute, victim+" to be gone from the model", func() bool {
			infos, err := m.Units(ctx)
			return err == nil && !slices.ContainsFunc(infos, func(u api.UnitInfo) bool { return u.Name == victim })
		})
		waitAppsActive(t, m, 5*time.Minute, "etcd", "classic", "client-a", "client-b")
		assertClassicBags(t, m, dbRel, proxyRel, caPEM)
		assertClientV0Answer(t, m, relA, "client-a", caPEM)
		for _, f := range []clientFiles{classic, filesA, filesB} {
			f.mustWork(t, m, prefixOf(f)+"after-scale-down")
		}
	})

	t.Run("removal: the user, the trust and our secrets go with the relation", func(t *testing.T) {
		oldB := filesB.snapshot(t)
		oldClassic := classic.snapshot(t)
		if err := m.RemoveRelation(ctx, "etcd:etcd-client", "client-b:etcd-client"); err != nil {
			t.Fatal(err)
		}
		if err := m.RemoveRelation(ctx, "etcd:db", "classic:db"); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 4*time.Minute, "client-b's certificate to be rejected everywhere", func() bool {
			return rejectedEverywhere(t, m, oldB)
		})
		waitIdle(t, m)
		oldB.rejectedByEveryMember(t, m)
		oldClassic.mustBeDenied(t, m, "the db consumer after its relation went", "get", "/anywhere/classic")
		users, err := adminClient(t, m).Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, gone := range []string{"client-b", fmt.Sprintf("db-%d-classic", dbRel)} {
			if slices.Contains(users, gone) {
				t.Errorf("etcd user %s survived its relation: %v", gone, users)
			}
		}
		for _, s := range secrets(t, m) {
			ours := s.Owner == "application-etcd"
			if ours && (strings.HasPrefix(s.Label, fmt.Sprintf("etcd-client.%d.", relB)) || s.Label == fmt.Sprintf("client-db-%d", dbRel)) {
				t.Errorf("secret %s (%s) survived its relation", s.URI, s.Label)
			}
		}
		filesA.mustWork(t, m, "/a/after-removal")
	})
}

func prefixOf(f clientFiles) string {
	switch {
	case strings.Contains(f.dir, "client-a"):
		return "/a/"
	case strings.Contains(f.dir, "client-b"):
		return "/b/"
	}
	return "/classic/"
}

func rejectedEverywhere(t *testing.T, m *client.Model, f clientFiles) bool {
	for _, ep := range memberEndpoints(t, m) {
		out, err := f.etcdctl([]string{ep}, "get", "/anything")
		if err == nil || strings.Contains(out, "permission denied") {
			return false
		}
	}
	return true
}

func same(t *testing.T, a, b clientFiles, name string) bool {
	t.Helper()
	x, err1 := os.ReadFile(filepath.Join(a.dir, name))
	y, err2 := os.ReadFile(filepath.Join(b.dir, name))
	if err1 != nil || err2 != nil {
		t.Fatalf("reading %s: %v %v", name, err1, err2)
	}
	return string(x) == string(y)
}

func readCA(t *testing.T, m *client.Model) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(unitInfo(t, m, aliveUnits(t, m)[0]).Root, "etc/etcd/tls/ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func secrets(t *testing.T, m *client.Model) []api.SecretInfo {
	t.Helper()
	s, err := m.Secrets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// secretContent is the latest content of the secret with this URI (either URI form).
func secretContent(t *testing.T, m *client.Model, uri string) (api.SecretInfo, map[string]string) {
	t.Helper()
	for _, s := range secrets(t, m) {
		if s.URI == uri || strings.HasSuffix(uri, "/"+s.ID) || uri == s.ID {
			for _, r := range s.Revisions {
				if r.Revision == s.Latest {
					return s, r.Content
				}
			}
		}
	}
	t.Fatalf("no secret %s", uri)
	return api.SecretInfo{}, nil
}

func certCN(t *testing.T, p string) string {
	t.Helper()
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		t.Fatalf("not PEM: %q", p)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert.Subject.CommonName
}

// assertClassicBags checks db and proxy unit data key by key against the classic charm's wire format:
// raw strings, the same on every member, connection_string sorted, the proxy's cluster in member-ID order.
func assertClassicBags(t *testing.T, m *client.Model, dbRel, proxyRel int, caPEM string) {
	t.Helper()
	ctx := context.Background()
	urls := memberEndpoints(t, m)
	members, err := adminClient(t, m).Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var cluster []etcdproxy.Member
	for _, mem := range members {
		cluster = append(cluster, etcdproxy.Member{Name: mem.Name, PeerURL: mem.PeerURLs[0]})
	}
	var firstDB map[string]string
	for _, u := range aliveUnits(t, m) {
		db, err := m.UnitBag(ctx, dbRel, u)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"connection_string": etcd.ConnectionString(urls), "version": version.Version, "client_ca": caPEM}
		for k, v := range want {
			if db[k] != v {
				t.Errorf("%s db %s = %q, want %q", u, k, db[k], v)
			}
		}
		if cn := certCN(t, db["client_cert"]); cn != fmt.Sprintf("db-%d-classic", dbRel) {
			t.Errorf("%s db client_cert CN %q, want one unique to the relation", u, cn)
		}
		if !strings.Contains(db["client_key"], "PRIVATE KEY") {
			t.Errorf("%s db client_key is not a PEM key", u)
		}
		if firstDB == nil {
			firstDB = db
		} else {
			for _, k := range []string{"connection_string", "version", "client_cert", "client_key", "client_ca"} {
				if db[k] != firstDB[k] {
					t.Errorf("%s publishes a different %s from the other members", u, k)
				}
			}
		}
		proxy, err := m.UnitBag(ctx, proxyRel, u)
		if err != nil {
			t.Fatal(err)
		}
		if proxy["cluster"] != etcdproxy.ClusterString(cluster) {
			t.Errorf("%s proxy cluster = %q, want %q", u, proxy["cluster"], etcdproxy.ClusterString(cluster))
		}
		// Our addition: the client URLs, since the peer port no longer answers a proxy's certificate.
		if proxy["connection_string"] != etcd.ConnectionString(urls) {
			t.Errorf("%s proxy connection_string = %q, want %q", u, proxy["connection_string"], etcd.ConnectionString(urls))
		}
		if certCN(t, proxy["client_cert"]) != fmt.Sprintf("proxy-%d-classic", proxyRel) || proxy["client_ca"] != caPEM {
			t.Errorf("%s proxy credentials are not the proxy relation's own", u)
		}
	}
}

// assertClientV0Answer checks a v0 requirer's answer against charmed-etcd's wire format and the published
// v0 provider schema, and the two secrets key by key.
func assertClientV0Answer(t *testing.T, m *client.Model, rel int, app, caPEM string) {
	t.Helper()
	bag, err := m.AppBag(context.Background(), rel, "etcd")
	if err != nil {
		t.Fatal(err)
	}
	if err := etcdclient.CheckProviderV0(bag); err != nil {
		t.Errorf("provider databag fails the v0 schema: %v (%v)", err, bag)
	}
	var hostPorts, uris []string
	for _, u := range memberEndpoints(t, m) {
		hostPorts = append(hostPorts, strings.TrimPrefix(u, "https://"))
		uris = append(uris, u)
	}
	slices.Sort(hostPorts)
	slices.Sort(uris)
	got := strings.Split(bag["endpoints"], ",")
	slices.Sort(got)
	if !slices.Equal(got, hostPorts) || bag["version"] != version.Version {
		t.Errorf("endpoints %q version %q, want %v %s", bag["endpoints"], bag["version"], hostPorts, version.Version)
	}
	user, userContent := secretContent(t, m, bag["secret-user"])
	if userContent["username"] != app || !sameSet(userContent["uris"], uris) || len(userContent) != 2 {
		t.Errorf("user secret %v, want username %s and uris %v only", userContent, app, uris)
	}
	_, tlsContent := secretContent(t, m, bag["secret-tls"])
	if tlsContent["tls-ca"] != caPEM || tlsContent["tls"] != "True" || len(tlsContent) != 2 {
		t.Errorf("tls secret %v, want tls-ca = the cluster CA and tls = True", tlsContent)
	}
	if user.Owner != "application-etcd" || !grantedTo(user, rel) {
		t.Errorf("user secret owned by %q, grants %v: want the etcd application's, granted to relation %d", user.Owner, user.Grants, rel)
	}
}

func assertClientV1Answer(t *testing.T, m *client.Model, rel int, app, prefix, caPEM string) {
	t.Helper()
	bag, err := m.AppBag(context.Background(), rel, "etcd")
	if err != nil {
		t.Fatal(err)
	}
	if bag["version"] != "v1" {
		t.Fatalf("v1 answer has version %q", bag["version"])
	}
	var responses []map[string]any
	if err := json.Unmarshal([]byte(bag["requests"]), &responses); err != nil || len(responses) != 1 {
		t.Fatalf("requests %q: %v", bag["requests"], err)
	}
	r := responses[0]
	id, _ := r["request-id"].(string)
	if r["resource"] != prefix || id == "" || r["version"] != version.Version || r["salt"] == "" {
		t.Errorf("v1 response %v", r)
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(bag["data"]), &data); err != nil || data[id] == nil {
		t.Errorf("data %q lacks request %s: %v", bag["data"], id, err)
	}
	userURI, _ := r["secret-user"].(string)
	tlsURI, _ := r["secret-tls"].(string)
	if _, user := secretContent(t, m, userURI); user["username"] != app {
		t.Errorf("v1 user secret %v", user)
	}
	if _, tls := secretContent(t, m, tlsURI); tls["tls-ca"] != caPEM || tls["tls"] != "" {
		t.Errorf("v1 tls secret %v, want tls-ca only (a v1 requirer parses tls as JSON)", tls)
	}
}

func grantedTo(s api.SecretInfo, rel int) bool {
	for _, g := range s.Grants {
		if g.RelationID == rel {
			return true
		}
	}
	return false
}

func sameSet(commaList string, want []string) bool {
	got := strings.Split(commaList, ",")
	slices.Sort(got)
	return slices.Equal(got, want)
}
