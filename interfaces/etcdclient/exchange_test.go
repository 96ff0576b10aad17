package etcdclient_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/etcd-charm/etcd/interfaces/etcdclient"
	"github.com/etcd-charm/etcd/interfaces/internal/hooktest"
	"github.com/gruyaume/goops"
)

// relatedModel is etcd (2 units, provider endpoint etcd-client) related to app (1 unit, requirer endpoint
// db-client), with every hook settled. It returns the relation ID as each side names it.
func relatedModel(t *testing.T) (m *hooktest.Model, num int, provRel, reqRel string) {
	m = hooktest.New(t)
	m.Deploy("etcd", map[string]string{"etcd-client": "etcd_client"}, nil, 2)
	m.Deploy("app", nil, map[string]string{"db-client": "etcd_client"}, 1)
	num = m.Integrate("etcd:etcd-client", "app:db-client")
	m.Settle(nil)
	return m, num, fmt.Sprintf("etcd-client:%d", num), fmt.Sprintf("db-client:%d", num)
}

func appBag(t *testing.T, m *hooktest.Model, num int, app string) map[string]string {
	t.Helper()
	r, err := m.M.Relation(num)
	if err != nil {
		t.Fatal(err)
	}
	return maps.Clone(r.AppBags[app])
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func readRequests(t *testing.T, m *hooktest.Model, unit, rel string) ([]etcdclient.Request, []etcdclient.RequestProblem) {
	t.Helper()
	var reqs []etcdclient.Request
	var problems []etcdclient.RequestProblem
	must(t, m.Exec(unit, func() (err error) {
		reqs, problems, err = etcdclient.ReadRequests(rel)
		return err
	}))
	return reqs, problems
}

// ownedSecret reads, as the owner's leader, the info and content of the secret labelled label.
func ownedSecret(t *testing.T, m *hooktest.Model, unit, label string) (goops.SecretInfo, map[string]string) {
	t.Helper()
	var info goops.SecretInfo
	var content map[string]string
	must(t, m.Exec(unit, func() error {
		all, err := goops.GetSecretInfoByLabel(label)
		if err != nil {
			return err
		}
		for _, i := range all {
			info = i
		}
		content, err = goops.GetSecretByLabel(label, false, false)
		return err
	}))
	return info, content
}

func grant(t *testing.T, m *hooktest.Model, r etcdclient.Requirer, rel string) etcdclient.Grant {
	t.Helper()
	var g etcdclient.Grant
	must(t, m.Exec("app/0", func() (err error) {
		g, err = r.Grant(rel)
		return err
	}))
	return g
}

func response(username, ca string, hosts ...string) etcdclient.Response {
	resp := etcdclient.Response{Version: "3.6.16", Username: username, TLSCA: ca}
	for _, h := range hosts {
		resp.Endpoints = append(resp.Endpoints, h)
		resp.URIs = append(resp.URIs, "https://"+h)
	}
	return resp
}

func TestV0RequestGrantRenewAndWithdraw(t *testing.T) {
	m, num, provRel, reqRel := relatedModel(t)
	client := etcdclient.Requirer{Endpoint: "db-client"}
	certA := hooktest.ClientCert(t, "app-a")

	// Given the requirer's leader asks for /app/ with its certificate
	must(t, m.Exec("app/0", func() error { return client.Request(reqRel, "/app/", certA) }))
	bag := appBag(t, m, num, "app")
	wantKeys := []string{"prefix", "provided-secrets", "requested-secrets", "secret-mtls"}
	if got := slices.Sorted(maps.Keys(bag)); !slices.Equal(got, wantKeys) {
		t.Fatalf("requirer databag keys %q, want %q", got, wantKeys)
	}
	if bag["prefix"] != "/app/" || bag["provided-secrets"] != `["mtls-cert"]` ||
		bag["requested-secrets"] != `["username","uris","tls","tls-ca"]` ||
		!strings.HasPrefix(bag["secret-mtls"], "secret://"+hooktest.UUID+"/") {
		t.Fatalf("requirer databag %v", bag)
	}
	info, content := ownedSecret(t, m, "app/0", fmt.Sprintf("db-client.%d.mtls.secret", num))
	if info.Owner != "application" || content["mtls-cert"] != certA || len(content) != 1 {
		t.Fatalf("mtls secret %+v %v", info, content)
	}

	// When every provider unit reads the request (non-leaders need the certificate for their trust too)
	for _, unit := range []string{"etcd/0", "etcd/1"} {
		reqs, problems := readRequests(t, m, unit, provRel)
		// Then each sees one v0 request with the prefix and the certificate from the granted secret
		if len(problems) != 0 || len(reqs) != 1 {
			t.Fatalf("%s: requests %+v problems %+v", unit, reqs, problems)
		}
		r := reqs[0]
		if r.Version != "v0" || r.App != "app" || r.Prefix != "/app/" || !r.HasPrefix || r.CertificatePEM != certA ||
			r.CertSecretID != bag["secret-mtls"] || r.Key() != fmt.Sprint(num) || r.Raw != nil {
			t.Fatalf("%s: request %+v", unit, r)
		}
		cert, err := r.Certificate()
		if err != nil || cert.Subject.CommonName != "app-a" {
			t.Fatalf("certificate %v %v", cert, err)
		}
	}

	// When the provider's leader answers
	reqs, _ := readRequests(t, m, "etcd/0", provRel)
	resp := response("app-a", "CA-PEM", "127.0.0.1:2379", "127.0.0.2:2379")
	publish := func(resp etcdclient.Response) {
		t.Helper()
		must(t, m.Exec("etcd/0", func() error {
			return etcdclient.Publish(provRel, reqs, map[string]etcdclient.Response{reqs[0].Key(): resp})
		}))
	}
	publish(resp)

	// Then the provider databag holds the v0 keys and validates against the v0 schema
	pbag := appBag(t, m, num, "etcd")
	if got := slices.Sorted(maps.Keys(pbag)); !slices.Equal(got, []string{"endpoints", "prefix", "secret-tls", "secret-user", "version"}) {
		t.Fatalf("provider databag keys %q", got)
	}
	if pbag["endpoints"] != "127.0.0.1:2379,127.0.0.2:2379" || pbag["version"] != "3.6.16" || pbag["prefix"] != "/app/" {
		t.Fatalf("provider databag %v", pbag)
	}
	must(t, etcdclient.CheckProviderV0(pbag))
	userLabel, tlsLabel := fmt.Sprintf("etcd-client.%d.user.secret", num), fmt.Sprintf("etcd-client.%d.tls.secret", num)
	userInfo, user := ownedSecret(t, m, "etcd/0", userLabel)
	_, tls := ownedSecret(t, m, "etcd/0", tlsLabel)
	wantUser := map[string]string{"username": "app-a", "uris": "https://127.0.0.1:2379,https://127.0.0.2:2379"}
	if !maps.Equal(user, wantUser) || !maps.Equal(tls, map[string]string{"tls-ca": "CA-PEM", "tls": "True"}) {
		t.Fatalf("user secret %v, tls secret %v", user, tls)
	}
	// and the requirer reads a ready grant
	g := grant(t, m, client, reqRel)
	if !g.Ready() || g.Username != "app-a" || g.TLSCA != "CA-PEM" || g.Version != "3.6.16" || g.Prefix != "/app/" ||
		!slices.Equal(g.Endpoints, resp.Endpoints) || !slices.Equal(g.URIs, resp.URIs) {
		t.Fatalf("grant %+v", g)
	}

	// When the same answer is published again, no secret gets a new revision
	publish(resp)
	if again, _ := ownedSecret(t, m, "etcd/0", userLabel); again.Revision != userInfo.Revision {
		t.Fatalf("unchanged publish moved the user secret from revision %d to %d", userInfo.Revision, again.Revision)
	}
	// When the member set changes, the user secret gets a new revision the requirer sees
	publish(response("app-a", "CA-PEM", "127.0.0.3:2379"))
	if moved, _ := ownedSecret(t, m, "etcd/0", userLabel); moved.Revision != userInfo.Revision+1 {
		t.Fatalf("user secret revision %d after a change, want %d", moved.Revision, userInfo.Revision+1)
	}
	if g := grant(t, m, client, reqRel); !slices.Equal(g.URIs, []string{"https://127.0.0.3:2379"}) {
		t.Fatalf("grant after a member change %+v", g)
	}

	// When the requirer renews its certificate, the same secret carries it and the provider sees it
	certB := hooktest.ClientCert(t, "app-b")
	must(t, m.Exec("app/0", func() error { return client.Request(reqRel, "/app/", certB) }))
	if after := appBag(t, m, num, "app"); after["secret-mtls"] != bag["secret-mtls"] {
		t.Fatalf("renewal changed the secret URI from %s to %s", bag["secret-mtls"], after["secret-mtls"])
	}
	renewed, _ := readRequests(t, m, "etcd/1", provRel)
	if renewed[0].CertificatePEM != certB {
		t.Fatal("the provider did not see the renewed certificate")
	}

	// When the provider withdraws the request, its secrets and databag keys are gone
	must(t, m.Exec("etcd/0", func() error { return etcdclient.Withdraw(provRel, nil) }))
	if left := appBag(t, m, num, "etcd"); len(left) != 0 {
		t.Fatalf("provider databag after withdraw %v", left)
	}
	err := m.Exec("etcd/0", func() error {
		_, err := goops.GetSecretInfoByLabel(userLabel)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("user secret after withdraw: %v", err)
	}
	if g := grant(t, m, client, reqRel); g.Ready() {
		t.Fatalf("grant still ready after withdraw: %+v", g)
	}
}

func TestV1RequestCarriesRequestIDAndData(t *testing.T) {
	m, num, provRel, reqRel := relatedModel(t)
	client := etcdclient.Requirer{Endpoint: "db-client", Version: etcdclient.V1}
	cert := hooktest.ClientCert(t, "app-v1")

	// Given a v1 requirer asked twice for the same prefix
	must(t, m.Exec("app/0", func() error { return client.Request(reqRel, "/v1/", cert) }))
	first := appBag(t, m, num, "app")
	must(t, m.Exec("app/0", func() error { return client.Request(reqRel, "/v1/", cert) }))
	bag := appBag(t, m, num, "app")
	// Then its databag is the v1 form with a stable request-id derived from prefix and salt
	if bag["version"] != "v1" || bag["requests"] != first["requests"] {
		t.Fatalf("v1 requirer databag changed between identical requests: %v then %v", first, bag)
	}
	var elems []map[string]any
	must(t, json.Unmarshal([]byte(bag["requests"]), &elems))
	if len(elems) != 1 {
		t.Fatalf("requests %v", elems)
	}
	e := elems[0]
	salt, _ := e["salt"].(string)
	rid, _ := e["request-id"].(string)
	if e["resource"] != "/v1/" || len(salt) != 16 || rid != etcdclient.RequestID("/v1/", salt) || len(rid) != 16 {
		t.Fatalf("request element %v", e)
	}

	// When the provider reads and answers it
	reqs, problems := readRequests(t, m, "etcd/0", provRel)
	if len(problems) != 0 || len(reqs) != 1 {
		t.Fatalf("requests %+v problems %+v", reqs, problems)
	}
	r := reqs[0]
	if r.Version != "v1" || r.RequestID != rid || r.Salt != salt || r.Prefix != "/v1/" || r.CertificatePEM != cert ||
		r.Key() != fmt.Sprintf("%d-%s", num, rid) || r.Raw["resource"] != "/v1/" {
		t.Fatalf("request %+v", r)
	}
	must(t, m.Exec("etcd/0", func() error {
		return etcdclient.Publish(provRel, reqs, map[string]etcdclient.Response{r.Key(): response("app-v1", "CA", "127.0.0.1:2379")})
	}))

	// Then the provider databag has version, requests and data
	pbag := appBag(t, m, num, "etcd")
	if got := slices.Sorted(maps.Keys(pbag)); !slices.Equal(got, []string{"data", "requests", "version"}) || pbag["version"] != "v1" {
		t.Fatalf("provider databag %v", pbag)
	}
	var responses []map[string]any
	must(t, json.Unmarshal([]byte(pbag["requests"]), &responses))
	wantFields := []string{"endpoints", "read-only-endpoints", "request-id", "resource", "salt", "secret-entity",
		"secret-extra", "secret-tls", "secret-user", "version"}
	if len(responses) != 1 || !slices.Equal(slices.Sorted(maps.Keys(responses[0])), wantFields) ||
		responses[0]["request-id"] != rid || responses[0]["version"] != "3.6.16" || responses[0]["secret-extra"] != nil {
		t.Fatalf("responses %v", responses)
	}
	var data map[string]map[string]any
	must(t, json.Unmarshal([]byte(pbag["data"]), &data))
	if data[rid]["resource"] != "/v1/" || data[rid]["salt"] != salt {
		t.Fatalf("data %v", data)
	}
	// and the per-request secrets carry no `tls` flag, which a v1 requirer would JSON-decode
	_, tls := ownedSecret(t, m, "etcd/0", fmt.Sprintf("etcd-client.%d.%s.tls.secret", num, rid))
	if !maps.Equal(tls, map[string]string{"tls-ca": "CA"}) {
		t.Fatalf("v1 tls secret %v", tls)
	}
	if g := grant(t, m, client, reqRel); !g.Ready() || g.Username != "app-v1" || g.Prefix != "/v1/" || g.Version != "3.6.16" {
		t.Fatalf("grant %+v", g)
	}

	// When the request is no longer valid, withdrawing it keeps `data` and empties `requests`
	must(t, m.Exec("etcd/0", func() error { return etcdclient.Withdraw(provRel, nil) }))
	if left := appBag(t, m, num, "etcd"); left["requests"] != "[]" || left["data"] == "" {
		t.Fatalf("provider databag after withdraw %v", left)
	}
}

func TestUnusableRequestsComeBackAsProblems(t *testing.T) {
	m, num, provRel, reqRel := relatedModel(t)

	// Given an empty requirer databag, there is nothing to do and nothing wrong
	if reqs, problems := readRequests(t, m, "etcd/0", provRel); reqs != nil || problems != nil {
		t.Fatalf("empty databag: %+v %+v", reqs, problems)
	}

	cases := []struct {
		name string
		bag  map[string]string
		want string
	}{
		{"secret not granted", map[string]string{"prefix": "/x/", "secret-mtls": "secret:d0000000000000000000"}, "grant it"},
		{"v1 requests not JSON", map[string]string{"version": "v1", "requests": "{oops"}, "JSON array"},
		{"v1 request without id", map[string]string{"version": "v1", "requests": `[{"resource":"/x/"}]`}, "request-id"},
		{"v1 resource not a string", map[string]string{"version": "v1", "requests": `[{"request-id":"r1","resource":7}]`}, "not a string"},
		{"oversized secret URI", map[string]string{"prefix": "/x/", "secret-mtls": "secret:" + strings.Repeat("d", 1<<16)}, "longer than 256 bytes"},
		{"oversized inline certificate", map[string]string{"prefix": "/x/", "mtls-cert": strings.Repeat("A", 1<<17)}, "more than 65536"},
		{"v1 oversized request-id", map[string]string{"version": "v1", "requests": `[{"request-id":"` + strings.Repeat("r", 4096) + `","resource":"/x/"}]`}, "`request-id` is longer than 128"},
		{"v1 too many requests", map[string]string{"version": "v1", "requests": "[" + strings.Repeat(`{"request-id":"r","resource":"/x/"},`, 40) + `{"request-id":"r","resource":"/x/"}]`}, "more than 32"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			must(t, m.Exec("app/0", func() error {
				clear := map[string]string{"prefix": "", "secret-mtls": "", "mtls-cert": "", "version": "", "requests": ""}
				maps.Copy(clear, c.bag)
				return goops.SetAppRelationData(reqRel, clear)
			}))
			m.Settle(nil)
			reqs, problems := readRequests(t, m, "etcd/0", provRel)
			if len(reqs) != 0 || len(problems) != 1 || !strings.Contains(problems[0].Reason, c.want) ||
				problems[0].RelationID != provRel || problems[0].App != "app" || !strings.HasPrefix(problems[0].Key, fmt.Sprint(num)) {
				t.Fatalf("requests %+v problems %+v, want one problem mentioning %q", reqs, problems, c.want)
			}
			if !strings.Contains(problems[0].Error(), provRel) {
				t.Errorf("problem text %q does not name the relation", problems[0].Error())
			}
		})
	}

	// A request with a prefix but no certificate yet is not a problem: the requirer is still setting up
	must(t, m.Exec("app/0", func() error {
		return goops.SetAppRelationData(reqRel, map[string]string{"version": "", "requests": "", "prefix": "/late/"})
	}))
	reqs, problems := readRequests(t, m, "etcd/0", provRel)
	if len(problems) != 0 || len(reqs) != 1 || reqs[0].CertificatePEM != "" || reqs[0].Prefix != "/late/" {
		t.Fatalf("requests %+v problems %+v", reqs, problems)
	}
}

// On relation-broken both leaders clean up: the provider withdraws its secrets, the requirer releases its
// certificate secret.
func TestWithdrawAndReleaseOnRelationBroken(t *testing.T) {
	m, num, provRel, reqRel := relatedModel(t)
	cert := hooktest.ClientCert(t, "app")
	must(t, m.Exec("app/0", func() error { return etcdclient.Requirer{Endpoint: "db-client"}.Request(reqRel, "/app/", cert) }))
	reqs, _ := readRequests(t, m, "etcd/0", provRel)
	must(t, m.Exec("etcd/0", func() error {
		return etcdclient.Publish(provRel, reqs, map[string]etcdclient.Response{reqs[0].Key(): response("app", "CA", "127.0.0.1:2379")})
	}))

	must(t, m.Exec("etcd/0", func() error {
		if ids, err := goops.GetSecretIDs(); err != nil || len(ids) != 2 {
			return fmt.Errorf("secrets before withdraw: %v %v, want the user and tls secrets", ids, err)
		}
		return nil
	}))
	must(t, m.Exec("app/0", func() error {
		if ids, err := goops.GetSecretIDs(); err != nil || len(ids) != 1 {
			return fmt.Errorf("requirer secrets before release: %v %v, want the mtls secret", ids, err)
		}
		return nil
	}))
	must(t, m.M.RemoveRelation(num))
	var brokenOn []string
	m.Settle(func(unit, hook string) error {
		switch {
		case unit == "etcd/0" && hook == "etcd-client-relation-broken":
			brokenOn = append(brokenOn, unit)
			return etcdclient.Withdraw(provRel, nil)
		case unit == "app/0" && hook == "db-client-relation-broken":
			brokenOn = append(brokenOn, unit)
			return etcdclient.Requirer{Endpoint: "db-client"}.Release(reqRel)
		}
		return nil
	})
	if len(brokenOn) != 2 {
		t.Fatalf("relation-broken ran on %v", brokenOn)
	}
	for _, unit := range []string{"etcd/0", "app/0"} {
		must(t, m.Exec(unit, func() error {
			ids, err := goops.GetSecretIDs()
			if len(ids) != 0 {
				return fmt.Errorf("%s: secrets left after relation-broken: %v", unit, ids)
			}
			return err
		}))
	}
}
