package client_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/lmtest"
)

func TestSecretGrantsRevisionsAndTracking(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "prov", 2, nil)
	deploy(t, m, "req", 2, nil)
	deploy(t, m, "other", 1, nil)
	waitIdle(t, m)
	id, err := m.Integrate(ctx, "prov:db", "req:backend")
	if err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)

	if _, e := call(t, m, "prov/1", "AddSecret", "password=one"); !strings.Contains(e, "not the leader") {
		t.Errorf("non-leader adding an application secret: %q", e)
	}
	var unitOwned string
	mustCall(t, m, "prov/1", &unitOwned, "AddSecret", "token=mine", "--owner=unit")
	var raw string
	mustCall(t, m, "prov/0", &raw, "AddSecret", "password=one", "--label=pw")
	if !strings.HasSuffix(raw, "\n") {
		t.Errorf("secret-add output %q lacks the trailing newline goops passes through", raw)
	}
	uri := strings.TrimSpace(raw)
	if !strings.HasPrefix(uri, "secret:") || len(strings.TrimPrefix(uri, "secret:")) != 20 {
		t.Errorf("secret URI %q is not secret:<20-char id>", uri)
	}
	var content map[string]string
	mustCall(t, m, "prov/1", &content, "GetSecretByLabel", "pw")
	if content["password"] != "one" {
		t.Errorf("a unit of the owning application reads by owner label: %v", content)
	}
	if _, e := call(t, m, "req/0", "GetSecretByID", uri); !strings.Contains(e, "permission denied") {
		t.Errorf("consumer without a grant: %q", e)
	}
	if _, e := call(t, m, "prov/1", "GetSecretInfoByID", strings.TrimSpace(unitOwned)); e != "" {
		t.Errorf("owner unit reading its unit-owned secret info: %q", e)
	}
	mustCall(t, m, "prov/0", nil, "GrantSecretToRelation", uri, fmt.Sprintf("db:%d", id))
	for _, u := range []string{"req/0", "req/1"} {
		mustCall(t, m, u, &content, "GetSecretByID", uri)
		if content["password"] != "one" {
			t.Errorf("%s reads %v", u, content)
		}
	}
	if _, e := call(t, m, "other/0", "GetSecretByID", uri); !strings.Contains(e, "permission denied") {
		t.Errorf("an application outside the grant: %q", e)
	}
	if _, e := call(t, m, "req/0", "GetSecretInfoByID", uri); !strings.Contains(e, "not found") {
		t.Errorf("consumer reading secret info: %q", e)
	}

	n := map[string]int{}
	for _, u := range []string{"prov/0", "req/0", "req/1"} {
		n[u] = len(hooks(t, m, u))
	}
	mustCall(t, m, "prov/0", nil, "SetSecret", uri, "password=two")
	waitIdle(t, m)
	for _, u := range []string{"req/0", "req/1"} {
		if got := hooks(t, m, u)[n[u]:]; !equal(got, []string{"secret-changed"}) {
			t.Errorf("%s after a new revision: %q", u, got)
		}
	}
	runs, _ := m.HookHistory(ctx, "req/0")
	if env := runs[len(runs)-1].Env; env["JUJU_SECRET_ID"] != uri {
		t.Errorf("secret-changed env: %v", env)
	}
	mustCall(t, m, "req/0", &content, "GetSecretByID", uri)
	if content["password"] != "one" {
		t.Errorf("a consumer keeps reading its tracked revision: %v", content)
	}
	mustCall(t, m, "req/1", &content, "GetSecretByID", uri, "peek")
	if content["password"] != "two" {
		t.Errorf("--peek reads the latest: %v", content)
	}
	mustCall(t, m, "req/1", &content, "GetSecretByID", uri)
	if content["password"] != "one" {
		t.Errorf("--peek must not move tracking: %v", content)
	}
	mustCall(t, m, "req/0", &content, "GetSecretByID", uri, "refresh")
	if content["password"] != "two" {
		t.Errorf("--refresh reads the latest: %v", content)
	}
	if got := hooks(t, m, "prov/0")[n["prov/0"]:]; len(got) != 0 {
		t.Errorf("owner told to remove a revision still tracked by req/1: %q", got)
	}
	mustCall(t, m, "req/1", &content, "GetSecretByID", uri, "refresh")
	waitIdle(t, m)
	if got := hooks(t, m, "prov/0")[n["prov/0"]:]; !equal(got, []string{"secret-remove"}) {
		t.Errorf("owner after the old revision lost its last consumer: %q", got)
	}
	runs, _ = m.HookHistory(ctx, "prov/0")
	if env := runs[len(runs)-1].Env; env["JUJU_SECRET_REVISION"] != "1" || env["JUJU_SECRET_ID"] != uri || env["JUJU_SECRET_LABEL"] != "pw" {
		t.Errorf("secret-remove env: %v", env)
	}
	secrets, err := m.Secrets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if s.URI != uri {
			continue
		}
		if s.Latest != 2 || s.Tracking["req/0"] != 2 || s.Tracking["req/1"] != 2 || len(s.Grants) != 1 || s.Owner != "application-prov" {
			t.Errorf("secret inspection: %+v", s)
		}
	}
	var info map[string]struct {
		Revision int    `json:"revision"`
		Label    string `json:"label"`
		Owner    string `json:"owner"`
	}
	mustCall(t, m, "prov/0", &info, "GetSecretInfoByLabel", "pw")
	if i := info[strings.TrimPrefix(uri, "secret:")]; i.Revision != 2 || i.Label != "pw" || i.Owner != "application" {
		t.Errorf("secret-info-get: %+v", info)
	}

	// Grants go with the relation.
	if err := m.RemoveRelation(ctx, "prov", "req"); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	if _, e := call(t, m, "req/0", "GetSecretByID", uri); !strings.Contains(e, "permission denied") {
		t.Errorf("consumer after its relation was removed: %q", e)
	}
}
