package client_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/lmtest"
)

func TestIntegrateAndRemoveRelationHookOrder(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "prov", 1, nil)
	deploy(t, m, "req", 2, nil)
	waitIdle(t, m)
	base := map[string]int{}
	for _, u := range []string{"prov/0", "req/0", "req/1"} {
		base[u] = len(hooks(t, m, u))
	}
	id, err := m.Integrate(ctx, "prov:db", "req")
	if err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	if got := hooks(t, m, "prov/0")[base["prov/0"]:]; !equal(got, []string{"db-relation-created",
		"db-relation-joined", "db-relation-changed", "db-relation-joined", "db-relation-changed"}) {
		t.Errorf("prov/0 after integrate: %q", got)
	}
	for _, u := range []string{"req/0", "req/1"} {
		if got := hooks(t, m, u)[base[u]:]; !equal(got, []string{"backend-relation-created", "backend-relation-joined", "backend-relation-changed"}) {
			t.Errorf("%s after integrate: %q", u, got)
		}
	}
	runs, _ := m.HookHistory(ctx, "prov/0")
	if env := runs[len(runs)-5].Env; env["JUJU_REMOTE_APP"] != "req" || env["JUJU_REMOTE_UNIT"] != "" {
		t.Errorf("relation-created env on prov/0: %v", env)
	}
	if env := runs[len(runs)-4].Env; env["JUJU_REMOTE_UNIT"] != "req/0" || env["JUJU_RELATION_ID"] != fmt.Sprintf("db:%d", id) {
		t.Errorf("first joined on prov/0: %v", env)
	}
	var units []string
	mustCall(t, m, "prov/0", &units, "ListRelationUnits", fmt.Sprintf("db:%d", id))
	if !equal(units, []string{"req/0", "req/1"}) {
		t.Errorf("relation-list on prov/0: %q", units)
	}
	var app string
	mustCall(t, m, "req/1", &app, "GetRelationApp", fmt.Sprintf("backend:%d", id))
	if app != "prov" {
		t.Errorf("relation-list --app on req/1: %q", app)
	}

	for u := range base {
		base[u] = len(hooks(t, m, u))
	}
	if err := m.RemoveRelation(ctx, "prov:db", "req:backend"); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	if got := hooks(t, m, "prov/0")[base["prov/0"]:]; !equal(got, []string{"db-relation-departed", "db-relation-departed", "db-relation-broken"}) {
		t.Errorf("prov/0 after remove-relation: %q", got)
	}
	for _, u := range []string{"req/0", "req/1"} {
		if got := hooks(t, m, u)[base[u]:]; !equal(got, []string{"backend-relation-departed", "backend-relation-broken"}) {
			t.Errorf("%s after remove-relation: %q", u, got)
		}
	}
	var ids []string
	mustCall(t, m, "prov/0", &ids, "GetRelationIDs", "db")
	if len(ids) != 0 {
		t.Errorf("relation-ids db after removal: %q", ids)
	}
	rels, _ := m.Relations(ctx)
	for _, r := range rels {
		if r.ID == id {
			t.Errorf("relation %d still exists: %+v", id, r)
		}
	}
}

func TestRelationDataPermissionsAndNotifications(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "prov", 1, nil)
	deploy(t, m, "req", 2, nil)
	waitIdle(t, m)
	id, err := m.Integrate(ctx, "prov:db", "req:backend")
	if err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	backend, db := fmt.Sprintf("backend:%d", id), fmt.Sprintf("db:%d", id)

	if _, e := call(t, m, "req/1", "SetAppRelationData", backend, "k=v"); !strings.Contains(e, "ERROR cannot write relation settings") {
		t.Errorf("non-leader app write: got error %q", e)
	}
	if _, e := call(t, m, "req/1", "GetAppRelationData", backend, "req/1"); !strings.Contains(e, "permission denied") {
		t.Errorf("non-leader reading own app bag in a non-peer relation: got error %q", e)
	}
	var peerIDs []string
	mustCall(t, m, "req/1", &peerIDs, "GetRelationIDs", "peers")
	mustCall(t, m, "req/1", nil, "GetAppRelationData", peerIDs[0], "req/1")

	before := map[string]int{}
	for _, u := range []string{"prov/0", "req/0", "req/1"} {
		before[u] = len(hooks(t, m, u))
	}
	mustCall(t, m, "req/0", nil, "SetAppRelationData", backend, "from=req")
	mustCall(t, m, "req/1", nil, "SetUnitRelationData", backend, "unit=one")
	waitIdle(t, m)
	runs, _ := m.HookHistory(ctx, "prov/0")
	var appChanged, unitChanged bool
	for _, r := range runs {
		if r.Hook != "db-relation-changed" {
			continue
		}
		if r.Env["JUJU_REMOTE_APP"] == "req" && r.Env["JUJU_REMOTE_UNIT"] == "" {
			appChanged = true
		}
		if r.Env["JUJU_REMOTE_UNIT"] == "req/1" && r.Env["JUJU_REMOTE_APP"] == "req" {
			unitChanged = true
		}
	}
	if !appChanged || !unitChanged {
		t.Errorf("prov/0 should see app-level and unit-level relation-changed: app=%v unit=%v", appChanged, unitChanged)
	}
	for _, u := range []string{"req/0", "req/1"} {
		if got := hooks(t, m, u)[before[u]:]; len(got) != 0 {
			t.Errorf("%s got hooks for its own application's writes: %q", u, got)
		}
	}
	var bag map[string]string
	mustCall(t, m, "prov/0", &bag, "GetAppRelationData", db, "req/1")
	if bag["from"] != "req" {
		t.Errorf("remote app bag read by prov/0: %v", bag)
	}
	mustCall(t, m, "prov/0", &bag, "GetUnitRelationData", db, "req/1")
	if bag["unit"] != "one" {
		t.Errorf("remote unit bag read by prov/0: %v", bag)
	}
	mustCall(t, m, "req/0", &bag, "GetAppRelationData", backend, "req/0")
	if bag["from"] != "req" {
		t.Errorf("leader reading its own app bag: %v", bag)
	}
	got, err := m.AppBag(ctx, id, "req")
	if err != nil || got["from"] != "req" {
		t.Errorf("AppBag inspection: %v %v", got, err)
	}
	// An empty value deletes the key, as in Juju.
	mustCall(t, m, "req/1", nil, "SetUnitRelationData", backend, "unit=")
	if got, _ := m.UnitBag(ctx, id, "req/1"); len(got) != 0 {
		t.Errorf("unit bag after deleting its only key: %v", got)
	}
}

func TestFailedHookRollsBackAndBlocksUntilResolved(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "tc", 1, nil)
	waitIdle(t, m)
	onHook := `{"config-changed":[{"fn":"SetState","args":["k","v"]},{"fn":"OpenPort","args":["9000","tcp"]},` +
		`{"fn":"SetUnitRelationData","args":["peers:0","a=b"]},{"fn":"SetUnitStatus","args":["maintenance","midway"]},` +
		`{"fn":"SetAppVersion","args":["9.9"]}]}`
	if err := m.SetConfig(ctx, "tc", map[string]string{"on-hook": onHook, "fail-hooks": "config-changed"}); err != nil {
		t.Fatal(err)
	}
	err := m.WaitForIdle(ctx, waitOpts(time.Minute))
	if err == nil || !strings.Contains(err.Error(), `hook failed: "config-changed"`) {
		t.Fatalf("wait-for-idle should fail fast on the hook error, got %v", err)
	}
	st, _ := m.Status(ctx)
	u := st.Applications["tc"].Units["tc/0"]
	if u.WorkloadStatus.Current != "error" || u.WorkloadStatus.Message != `hook failed: "config-changed"` {
		t.Errorf("workload status after failure: %+v", u.WorkloadStatus)
	}
	if len(u.OpenPorts) != 0 {
		t.Errorf("ports committed by a failed hook: %v", u.OpenPorts)
	}
	if st.Applications["tc"].Version != "9.9" {
		t.Errorf("application-version-set is immediate and survives a failed hook; version=%q", st.Applications["tc"].Version)
	}
	if state, _ := m.State(ctx, "tc/0"); state["k"] != "" {
		t.Errorf("state committed by a failed hook: %v", state)
	}
	if bag, _ := m.UnitBag(ctx, 0, "tc/0"); len(bag) != 0 {
		t.Errorf("relation data committed by a failed hook: %v", bag)
	}
	logs, _ := m.DebugLog("tc/0")
	if !strings.Contains(strings.Join(logs, "\n"), `ERROR juju.worker.uniter.operation hook "config-changed" (via hook dispatching script: dispatch) failed: exit status 1`) {
		t.Errorf("debug-log lacks the hook error:\n%s", strings.Join(logs, "\n"))
	}
	// The queue is blocked: a new config change does not run until resolved.
	n := len(hooks(t, m, "tc/0"))
	if err := m.SetConfig(ctx, "tc", map[string]string{"fail-hooks": ""}); err != nil {
		t.Fatal(err)
	}
	if got := hooks(t, m, "tc/0"); len(got) != n {
		t.Errorf("hooks ran while in error: %q", got[n:])
	}
	if err := m.Resolve(ctx, "tc/0", false); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	if state, _ := m.State(ctx, "tc/0"); state["k"] != "v" {
		t.Errorf("state after the retried hook succeeded: %v", state)
	}
	st, _ = m.Status(ctx)
	if u := st.Applications["tc"].Units["tc/0"]; u.WorkloadStatus.Current != "active" || !equal(u.OpenPorts, []string{"9000/tcp"}) {
		t.Errorf("after resolve: %+v", u)
	}
}

func TestResolveNoRetrySkipsTheHook(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "tc", 1, map[string]string{"fail-hooks": "install",
		"on-hook": `{"install":[{"fn":"SetState","args":["k","v"]}]}`})
	if err := m.WaitForIdle(ctx, waitOpts(time.Minute)); err == nil {
		t.Fatal("wait-for-idle succeeded with install failing")
	}
	if err := m.Resolve(ctx, "tc/0", true); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	if got := hooks(t, m, "tc/0"); !equal(got, cat([]string{"data-storage-attached", "install"}, deploySeq[2:])) {
		t.Errorf("hooks after resolve --no-retry: %q", got)
	}
	if state, _ := m.State(ctx, "tc/0"); len(state) != 0 {
		t.Errorf("a skipped hook's changes were committed: %v", state)
	}
	if err := m.Resolve(ctx, "tc/0", true); err == nil {
		t.Error("resolving a unit not in error should fail")
	}
}

func TestAutoRetryRerunsAFailedHook(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{AutoRetry: true})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "tc", 1, nil)
	waitIdle(t, m)
	if err := m.SetConfig(ctx, "tc", map[string]string{"fail-hooks": "config-changed"}); err != nil {
		t.Fatal(err)
	}
	lmtest.WaitFor(t, time.Minute, "the unit to be in error", func() bool {
		st, _ := m.Status(ctx)
		return st.Applications["tc"].Units["tc/0"].WorkloadStatus.Current == "error"
	})
	// The fix arrives while in error; Juju's retry (not a resolve) then runs the hook again and it passes.
	if err := m.SetConfig(ctx, "tc", map[string]string{"fail-hooks": ""}); err != nil {
		t.Fatal(err)
	}
	lmtest.WaitFor(t, time.Minute, "the retried hook to succeed", func() bool {
		st, _ := m.Status(ctx)
		return st.Applications["tc"].Units["tc/0"].WorkloadStatus.Current == "active"
	})
	waitIdle(t, m)
	runs, _ := m.HookHistory(ctx, "tc/0")
	var codes []int
	for _, r := range runs {
		if r.Hook == "config-changed" {
			codes = append(codes, r.ExitCode)
		}
	}
	if len(codes) < 3 || codes[1] != 1 || codes[len(codes)-1] != 0 {
		t.Errorf("config-changed exit codes: %v", codes)
	}
}
