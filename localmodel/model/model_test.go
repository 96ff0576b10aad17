package model_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/internal/modeltest"
	"github.com/etcd-charm/etcd/localmodel/model"
)

func deploy(t *testing.T, m *model.Model, app string, n int) {
	t.Helper()
	if _, err := m.Deploy(app, modeltest.Charm(t), nil, nil, n); err != nil {
		t.Fatal(err)
	}
}

func TestDeploySequenceAndPeerJoin(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "tc", 2)
	ran := modeltest.Drain(t, m)
	want0 := []string{"data-storage-attached", "install", "peers-relation-created", "leader-elected", "config-changed", "start",
		"peers-relation-joined", "peers-relation-changed"}
	want1 := []string{"data-storage-attached", "install", "peers-relation-created", "leader-settings-changed", "config-changed", "start",
		"peers-relation-joined", "peers-relation-changed"}
	if !reflect.DeepEqual(ran["tc/0"], want0) || !reflect.DeepEqual(ran["tc/1"], want1) {
		t.Errorf("deploy sequences:\n%q\n%q", ran["tc/0"], ran["tc/1"])
	}
	u0, _ := m.Unit("tc/0")
	u1, _ := m.Unit("tc/1")
	if u0.Address == u1.Address || !u0.IsLeader() || u1.IsLeader() {
		t.Errorf("addresses %s %s, leader %v %v", u0.Address, u1.Address, u0.IsLeader(), u1.IsLeader())
	}
}

func TestRelationChangedOnlyAfterCommitAndOnlyToTheOtherSide(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "tc", 3)
	modeltest.Drain(t, m)
	r, _ := m.Relation(0)

	ctx, end := modeltest.Context(t, m, "tc/1")
	if err := ctx.RelationSet(r, false, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	end(1)
	if ran := modeltest.Drain(t, m); len(ran) != 0 {
		t.Errorf("a failed write notified units: %v", ran)
	}
	if len(r.UnitBags["tc/1"]) != 0 {
		t.Errorf("a failed write was committed: %v", r.UnitBags["tc/1"])
	}

	ctx, end = modeltest.Context(t, m, "tc/1")
	_ = ctx.RelationSet(r, false, map[string]string{"k": "v"})
	end(0)
	ran := modeltest.Drain(t, m)
	if len(ran["tc/1"]) != 0 || len(ran["tc/0"]) != 1 || len(ran["tc/2"]) != 1 || ran["tc/0"][0] != "peers-relation-changed" {
		t.Errorf("after a committed write: %v", ran)
	}

	// Writing the same value again changes nothing, so nobody is told.
	ctx, end = modeltest.Context(t, m, "tc/1")
	_ = ctx.RelationSet(r, false, map[string]string{"k": "v"})
	end(0)
	if ran := modeltest.Drain(t, m); len(ran) != 0 {
		t.Errorf("an unchanged bag notified units: %v", ran)
	}
}

func TestIdenticalNotificationsCoalesce(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "tc", 1)
	modeltest.Drain(t, m)
	for i := 0; i < 3; i++ {
		if err := m.SetConfig("tc", map[string]any{"count": int64(10 + i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if ran := modeltest.Drain(t, m); !reflect.DeepEqual(ran["tc/0"], []string{"config-changed"}) {
		t.Errorf("three config changes queued behind each other: %q", ran["tc/0"])
	}
	if err := m.SetConfig("tc", map[string]any{"count": int64(12)}, nil); err != nil {
		t.Fatal(err)
	}
	if ran := modeltest.Drain(t, m); len(ran) != 0 {
		t.Errorf("setting the same value ran %v", ran)
	}
	if err := m.SetConfig("tc", map[string]any{"bogus": "x"}, nil); err == nil {
		t.Error("unknown option accepted")
	}
}

func TestLeaderLeavesAndLeaseExpires(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "tc", 3)
	modeltest.Drain(t, m)
	if err := m.RemoveUnit("tc/0"); err != nil {
		t.Fatal(err)
	}
	ran := modeltest.Drain(t, m)
	if want := []string{"peers-relation-departed", "peers-relation-departed", "peers-relation-broken", "data-storage-detaching", "stop", "remove"}; !reflect.DeepEqual(ran["tc/0"], want) {
		t.Errorf("leaving leader ran %q", ran["tc/0"])
	}
	a, _ := m.Application("tc")
	if a.Leader != "" || !m.LeadershipPending("tc") {
		t.Fatalf("leadership should be pending, leader=%q", a.Leader)
	}
	if idle, _ := m.Idle(nil); idle {
		t.Error("model idle while an election is pending")
	}
	m.Tick(m.Now().Add(time.Second))
	ran = modeltest.Drain(t, m)
	if !reflect.DeepEqual(ran["tc/1"], []string{"leader-elected"}) || len(ran["tc/2"]) != 0 {
		t.Errorf("after the lease: %v", ran)
	}
	if u, err := m.AnyUnit("tc/0"); err != nil || len(u.History) == 0 {
		t.Errorf("removed unit's history unavailable: %v", err)
	}
}

func TestRemoveRelationDepartsThenBreaksAndRevokesGrants(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "a", 1)
	deploy(t, m, "b", 2)
	modeltest.Drain(t, m)
	r, err := m.Integrate("a:db", "b")
	if err != nil {
		t.Fatal(err)
	}
	ran := modeltest.Drain(t, m)
	if want := []string{"db-relation-created", "db-relation-joined", "db-relation-changed", "db-relation-joined", "db-relation-changed"}; !reflect.DeepEqual(ran["a/0"], want) {
		t.Errorf("a/0 after integrate: %q", ran["a/0"])
	}
	ctx, end := modeltest.Context(t, m, "a/0")
	uri, err := ctx.SecretAdd(model.SecretArgs{Content: map[string]string{"password": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ctx.SecretGrant(uri, r, ""); err != nil {
		t.Fatal(err)
	}
	end(0)
	if err := m.RemoveRelation(r.ID); err != nil {
		t.Fatal(err)
	}
	ran = modeltest.Drain(t, m)
	if want := []string{"db-relation-departed", "db-relation-departed", "db-relation-broken"}; !reflect.DeepEqual(ran["a/0"], want) {
		t.Errorf("a/0 after remove-relation: %q", ran["a/0"])
	}
	if want := []string{"backend-relation-departed", "backend-relation-broken"}; !reflect.DeepEqual(ran["b/1"], want) {
		t.Errorf("b/1 after remove-relation: %q", ran["b/1"])
	}
	if _, err := m.Relation(r.ID); err == nil {
		t.Error("relation not deleted after every unit broke it")
	}
	if g := m.Secrets()[0].Grants(); len(g) != 0 {
		t.Errorf("grants survived their relation: %v", g)
	}
	if err := m.RemoveRelation(0); err == nil {
		t.Error("removing a peer relation should fail")
	}
}

func TestSecretRevisionTracking(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "a", 1)
	deploy(t, m, "b", 2)
	modeltest.Drain(t, m)
	r, _ := m.Integrate("a:db", "b")
	modeltest.Drain(t, m)

	ctx, end := modeltest.Context(t, m, "a/0")
	uri, _ := ctx.SecretAdd(model.SecretArgs{Content: map[string]string{"password": "one"}})
	_ = ctx.SecretGrant(uri, r, "b/1")
	end(0)
	for _, u := range []string{"b/0", "b/1"} {
		ctx, end = modeltest.Context(t, m, u)
		c, err := ctx.SecretGet(uri, "", false, false)
		end(0)
		if u == "b/0" && err != model.ErrPermissionDenied {
			t.Errorf("unit grant leaked to b/0: %v %v", c, err)
		}
		if u == "b/1" && (err != nil || c["password"] != "one") {
			t.Errorf("b/1 with a unit grant: %v %v", c, err)
		}
	}
	ctx, end = modeltest.Context(t, m, "a/0")
	_ = ctx.SecretSet(uri, model.SecretArgs{Content: map[string]string{"password": "one"}})
	end(0)
	if ran := modeltest.Drain(t, m); len(ran) != 0 {
		t.Errorf("identical content made a revision: %v", ran)
	}
	ctx, end = modeltest.Context(t, m, "a/0")
	_ = ctx.SecretSet(uri, model.SecretArgs{Content: map[string]string{"password": "two"}})
	end(0)
	if ran := modeltest.Drain(t, m); !reflect.DeepEqual(ran, map[string][]string{"b/1": {"secret-changed"}}) {
		t.Errorf("after a new revision: %v", ran)
	}
	ctx, end = modeltest.Context(t, m, "b/1")
	c, _ := ctx.SecretGet(uri, "", false, true)
	end(0)
	if c["password"] != "two" {
		t.Errorf("refresh read %v", c)
	}
	ran := modeltest.Drain(t, m)
	if !reflect.DeepEqual(ran, map[string][]string{"a/0": {"secret-remove"}}) {
		t.Errorf("owner after revision 1 lost its consumer: %v", ran)
	}
	u, _ := m.AnyUnit("a/0")
	if env := u.History[len(u.History)-1].Env; env["JUJU_SECRET_REVISION"] != "1" {
		t.Errorf("secret-remove env %v", env)
	}
}

func TestForceRemoveRunsNoHooksOnTheDeadUnit(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "tc", 2)
	modeltest.Drain(t, m)
	if err := m.ForceRemoveUnit("tc/1"); err != nil {
		t.Fatal(err)
	}
	ran := modeltest.Drain(t, m)
	if !reflect.DeepEqual(ran, map[string][]string{"tc/0": {"peers-relation-departed"}}) {
		t.Errorf("after machine death: %v", ran)
	}
	if _, err := m.Unit("tc/1"); err == nil {
		t.Error("force-removed unit still in the model")
	}
}

func TestFailedHookBlocksQueueUntilResolved(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "tc", 1)
	run := m.NextRun("tc/0")
	m.FinishRun(run, 1, "")
	u, _ := m.Unit("tc/0")
	if u.Workload.Current != "error" || u.Workload.Message != `hook failed: "data-storage-attached"` {
		t.Errorf("status after failure: %+v", u.Workload)
	}
	if m.NextRun("tc/0") != nil {
		t.Error("queue not blocked by the failed hook")
	}
	if _, errored := m.Idle(nil); len(errored) != 1 {
		t.Errorf("Idle should report the unit in error: %v", errored)
	}
	if err := m.Resolve("tc/0", true); err != nil {
		t.Fatal(err)
	}
	if run := m.NextRun("tc/0"); run == nil || run.Event.Hook != "data-storage-attached" {
		t.Errorf("resolve should retry the failed hook, got %+v", run)
	}
}

func TestGivenStorageDirectivesWhenDeployingThenTheCharmsRangeIsEnforced(t *testing.T) {
	m := modeltest.New(t)
	if _, err := m.DeployWithStorage("tc", modeltest.Charm(t), nil, nil, map[string]int{"data": 2}, 1); err == nil {
		t.Fatal("two instances of a single-instance storage were accepted")
	}
	if _, err := m.DeployWithStorage("tc", modeltest.Charm(t), nil, nil, map[string]int{"nope": 1}, 1); err == nil {
		t.Fatal("an undeclared storage was accepted")
	}
	if _, err := m.DeployWithStorage("tc", modeltest.Charm(t), nil, nil, map[string]int{"data": 1}, 1); err != nil {
		t.Fatalf("one instance of data: %v", err)
	}
}
