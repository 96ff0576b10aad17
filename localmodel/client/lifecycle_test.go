package client_test

import (
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/lmtest"
)

var deploySeq = []string{"data-storage-attached", "install", "peers-relation-created", "leader-elected", "config-changed", "start"}
var followerSeq = []string{"data-storage-attached", "install", "peers-relation-created", "leader-settings-changed", "config-changed", "start"}

func cat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestDeployAndScaleUpHookOrder(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "tc", 1, nil)
	waitIdle(t, m)
	wantHooks(t, m, "tc/0", deploySeq)

	if _, err := m.AddUnit(ctx, "tc", 1); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	wantHooks(t, m, "tc/0", cat(deploySeq, []string{"peers-relation-joined", "peers-relation-changed"}))
	wantHooks(t, m, "tc/1", cat(followerSeq, []string{"peers-relation-joined", "peers-relation-changed"}))

	runs, err := m.HookHistory(ctx, "tc/1")
	if err != nil {
		t.Fatal(err)
	}
	joined := runs[len(runs)-2]
	if joined.Env["JUJU_REMOTE_UNIT"] != "tc/0" || joined.Env["JUJU_RELATION_ID"] != "peers:0" || joined.Env["JUJU_REMOTE_APP"] != "tc" {
		t.Errorf("peers-relation-joined env on tc/1: %v", joined.Env)
	}
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u0 := st.Applications["tc"].Units["tc/0"]
	if !u0.Leader || u0.WorkloadStatus.Current != "active" || u0.JujuStatus.Current != "idle" {
		t.Errorf("tc/0 status: %+v", u0)
	}
	u1 := st.Applications["tc"].Units["tc/1"]
	if u1.Leader || u1.PublicAddress == u0.PublicAddress {
		t.Errorf("tc/1 should be a follower with its own address: %+v vs %+v", u1, u0)
	}
}

func TestScaleDownNonLeader(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "tc", 1, nil)
	waitIdle(t, m)
	if _, err := m.AddUnit(ctx, "tc", 1); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	if err := m.RemoveUnit(ctx, "tc/1"); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	join := []string{"peers-relation-joined", "peers-relation-changed"}
	wantHooks(t, m, "tc/1", cat(followerSeq, join, []string{"peers-relation-departed", "peers-relation-broken", "data-storage-detaching", "stop", "remove"}))
	wantHooks(t, m, "tc/0", cat(deploySeq, join, []string{"peers-relation-departed"}))
	runs, _ := m.HookHistory(ctx, "tc/0")
	dep := runs[len(runs)-1]
	if dep.Env["JUJU_REMOTE_UNIT"] != "tc/1" || dep.Env["JUJU_DEPARTING_UNIT"] != "tc/1" {
		t.Errorf("departed env on tc/0: %v", dep.Env)
	}
	runs, _ = m.HookHistory(ctx, "tc/1")
	dep = runs[len(runs)-5]
	if dep.Env["JUJU_REMOTE_UNIT"] != "tc/0" || dep.Env["JUJU_DEPARTING_UNIT"] != "tc/1" {
		t.Errorf("departed env on the leaving unit: %v", dep.Env)
	}
	st, _ := m.Status(ctx)
	if _, ok := st.Applications["tc"].Units["tc/1"]; ok {
		t.Error("tc/1 still in status after removal")
	}
}

func TestScaleDownLeaderMovesLeadership(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{LeaseDuration: 500 * time.Millisecond})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "tc", 1, nil)
	waitIdle(t, m)
	if _, err := m.AddUnit(ctx, "tc", 1); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	if err := m.RemoveUnit(ctx, "tc/0"); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	join := []string{"peers-relation-joined", "peers-relation-changed"}
	wantHooks(t, m, "tc/0", cat(deploySeq, join, []string{"peers-relation-departed", "peers-relation-broken", "data-storage-detaching", "stop", "remove"}))
	wantHooks(t, m, "tc/1", cat(followerSeq, join, []string{"peers-relation-departed", "leader-elected"}))
	var leader bool
	mustCall(t, m, "tc/1", &leader, "IsLeader")
	if !leader {
		t.Error("tc/1 is not leader after tc/0 left")
	}
}

func TestMachineDeathLeaderLoss(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{LeaseDuration: 500 * time.Millisecond})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "tc", 3, map[string]string{"service": "true"})
	waitIdle(t, m)
	before := hooks(t, m, "tc/0")
	svc, err := m.Service(ctx, "tc/0", "testcharm-web")
	if err != nil || svc.MainPID == 0 {
		t.Fatalf("service on tc/0 before death: %+v %v", svc, err)
	}
	if err := m.ForceRemoveUnit(ctx, "tc/0"); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	if got := hooks(t, m, "tc/0"); len(got) != len(before) {
		t.Errorf("the dead unit ran hooks after death: %q", got[len(before):])
	}
	lmtest.WaitFor(t, 10*time.Second, "the dead unit's workload to go", func() bool { return !processAlive(svc.MainPID) })
	st, _ := m.Status(ctx)
	leaders := 0
	for name, u := range st.Applications["tc"].Units {
		if u.Leader {
			leaders++
			got := hooks(t, m, name)
			if got[len(got)-1] != "leader-elected" {
				t.Errorf("new leader %s did not run leader-elected last: %q", name, got)
			}
		}
		got := hooks(t, m, name)
		if !contains(got, "peers-relation-departed") {
			t.Errorf("%s did not see tc/0 depart: %q", name, got)
		}
	}
	if leaders != 1 {
		t.Errorf("%d leaders after the leader's machine died", leaders)
	}
}

func TestUpdateStatusRunsPeriodically(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{UpdateStatusInterval: 300 * time.Millisecond})
	deploy(t, m, "tc", 1, nil)
	lmtest.WaitFor(t, 30*time.Second, "two update-status runs", func() bool {
		hs, _ := m.Hooks(lmtest.Ctx(t, time.Minute), "tc/0")
		n := 0
		for _, h := range hs {
			if h == "update-status" {
				n++
			}
		}
		return n >= 2
	})
	hs, _ := m.Hooks(lmtest.Ctx(t, time.Minute), "tc/0")
	firstUS := indexOf(hs, "update-status")
	if firstUS < indexOf(hs, "start") {
		t.Errorf("update-status ran before start: %q", hs)
	}
}

func TestRefreshRunsUpgradeSequence(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "tc", 2, nil)
	waitIdle(t, m)
	if _, err := call(t, m, "tc/0", "SetState", "kept", "yes"); err != "" {
		t.Fatal(err)
	}
	n0, n1 := len(hooks(t, m, "tc/0")), len(hooks(t, m, "tc/1"))
	if err := m.Refresh(ctx, "tc", lmtest.Build(t).TestCharm); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	if got := hooks(t, m, "tc/0")[n0:]; !equal(got, []string{"upgrade-charm", "config-changed", "start"}) {
		t.Errorf("leader upgrade sequence: %q", got)
	}
	if got := hooks(t, m, "tc/1")[n1:]; !equal(got, []string{"upgrade-charm", "config-changed", "leader-settings-changed", "start"}) {
		t.Errorf("follower upgrade sequence: %q", got)
	}
	var v string
	mustCall(t, m, "tc/0", &v, "GetState", "kept")
	if v != "yes" {
		t.Errorf("stored state lost over refresh: %q", v)
	}
	st, _ := m.Status(ctx)
	if st.Applications["tc"].CharmRev != 1 {
		t.Errorf("charm-rev after refresh = %d", st.Applications["tc"].CharmRev)
	}
}

func TestModelsSideBySideHaveDistinctAddresses(t *testing.T) {
	t.Parallel()
	a := lmtest.NewModel(t, lmtest.Options{})
	b := lmtest.NewModel(t, lmtest.Options{})
	deploy(t, a, "tc", 1, nil)
	deploy(t, b, "tc", 1, nil)
	ua, err := a.Unit(lmtest.Ctx(t, time.Minute), "tc/0")
	if err != nil {
		t.Fatal(err)
	}
	ub, err := b.Unit(lmtest.Ctx(t, time.Minute), "tc/0")
	if err != nil {
		t.Fatal(err)
	}
	if ua.Address == ub.Address {
		t.Errorf("two models share unit address %s", ua.Address)
	}
	waitIdle(t, a)
	waitIdle(t, b)
}

func contains(list []string, s string) bool { return indexOf(list, s) >= 0 }

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
