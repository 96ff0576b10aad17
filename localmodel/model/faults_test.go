package model_test

import (
	"strings"
	"testing"

	"github.com/etcd-charm/etcd/localmodel/internal/modeltest"
	"github.com/etcd-charm/etcd/localmodel/model"
)

// runKilled plays a targeted run the way the controller does: it answers tool calls until the model says
// kill, reports the kill, and ends the run as a SIGKILLed process. It returns the calls answered.
func runKilled(t *testing.T, m *model.Model, run *model.Run, maxCalls int, between func(call int)) int {
	t.Helper()
	for call := 1; call <= maxCalls; call++ {
		if between != nil {
			between(call)
		}
		if m.ToolAnswered(run.Context) {
			m.HookKilled(run.Context)
			run.Signal = "killed"
			m.FinishRun(run, 1, "")
			return call
		}
	}
	m.FinishRun(run, 0, "")
	return 0
}

func TestHookFaultKillsAtTheToolCallAndDiscardsPendingChanges(t *testing.T) {
	var logged []string
	m := modeltest.NewLogged(t, &logged)
	deploy(t, m, "tc", 1)
	modeltest.Drain(t, m)
	r, _ := m.Relation(0)

	if _, err := m.ArmHookFault("tc/0", model.HookFault{Hook: "config-changed", AfterToolCalls: 3}); err != nil {
		t.Fatal(err)
	}
	if err := m.SetConfig("tc", map[string]any{"count": int64(5)}, nil); err != nil {
		t.Fatal(err)
	}
	run := m.NextRun("tc/0")
	if run == nil || run.Event.Hook != "config-changed" {
		t.Fatalf("expected config-changed, got %+v", run)
	}
	killedAt := runKilled(t, m, run, 10, func(call int) {
		switch call {
		case 1:
			run.Context.SetUnitStatus("maintenance", "halfway")
		case 2:
			_ = run.Context.RelationSet(r, false, map[string]string{"k": "v"})
		case 3:
			run.Context.StateSet("k", "v")
		}
	})
	if killedAt != 3 {
		t.Fatalf("killed after %d calls, want 3", killedAt)
	}
	u, _ := m.Unit("tc/0")
	if u.Failed() == nil || u.Workload.Current != "error" || u.Workload.Message != `hook failed: "config-changed"` {
		t.Errorf("after the kill: failed=%v workload=%+v", u.Failed(), u.Workload)
	}
	if len(r.UnitBags["tc/0"]) != 0 || len(u.State) != 0 {
		t.Errorf("a killed hook's relation-set or state-set was committed: bag %v state %v", r.UnitBags["tc/0"], u.State)
	}
	last := u.History[len(u.History)-1]
	if last.ToolCalls != 3 || !last.FaultKilled || last.Signal != "killed" {
		t.Errorf("history of the killed run: %+v", last)
	}
	kills := m.HookKills()
	if len(kills) != 1 || kills[0] != (model.HookKill{Unit: "tc/0", Hook: "config-changed", ToolCalls: 3, Time: kills[0].Time}) {
		t.Errorf("kills: %+v", kills)
	}
	if len(m.HookFaults()) != 0 {
		t.Errorf("a fault armed for one kill is still armed: %v", m.HookFaults())
	}
	joined := strings.Join(logged, "\n")
	for _, want := range []string{
		"unit-tc-0 WARNING localjuju.fault fault injection: killed hook config-changed after 3 hook tool calls",
		`hook "config-changed" (via hook dispatching script: dispatch) failed: signal: killed`,
	} {
		if !strings.Contains(joined, want) {
			t.Errorf("log lacks %q:\n%s", want, joined)
		}
	}

	// The status-set came before the kill and took effect at once, as in Juju: resolving shows it again.
	if err := m.Resolve("tc/0", true); err != nil {
		t.Fatal(err)
	}
	if u.Workload.Current != "maintenance" || u.Workload.Message != "halfway" {
		t.Errorf("status restored on resolve: %+v", u.Workload)
	}
	run = m.NextRun("tc/0")
	if run == nil || run.Event.Hook != "config-changed" {
		t.Fatalf("resolve did not retry config-changed: %+v", run)
	}
	_ = run.Context.RelationSet(r, false, map[string]string{"k": "v"})
	if runKilled(t, m, run, 5, nil) != 0 {
		t.Error("a disarmed fault killed the retry")
	}
	if r.UnitBags["tc/0"]["k"] != "v" || u.Failed() != nil {
		t.Errorf("the retry did not commit: bag %v failed %v", r.UnitBags["tc/0"], u.Failed())
	}
	if h := u.History[len(u.History)-1]; h.ToolCalls != 5 || h.FaultKilled {
		t.Errorf("history of the retry: %+v", h)
	}
}

func TestHookFaultTargetsAndTimes(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "tc", 1)
	modeltest.Drain(t, m)

	// Default target: every hook, but neither actions nor execs; killed twice, then disarmed.
	if _, err := m.ArmHookFault("tc/leader", model.HookFault{AfterToolCalls: 1, Times: 2}); err != nil {
		t.Fatal(err)
	}
	if f := m.HookFaults()["tc/0"]; f.Times != 2 {
		t.Fatalf("APP/leader should arm the leader's fault: %v", m.HookFaults())
	}
	if _, err := m.EnqueueAction("tc/0", "echo", nil); err != nil {
		t.Fatal(err)
	}
	if run := m.NextRun("tc/0"); runKilled(t, m, run, 3, nil) != 0 {
		t.Error("a fault without a hook name killed an action")
	}
	ctx, end := modeltest.Context(t, m, "tc/0")
	if m.ToolAnswered(ctx) {
		t.Error("a fault aimed at an exec")
	}
	end(0)
	for i := 0; i < 2; i++ {
		if err := m.SetConfig("tc", map[string]any{"count": int64(10 + i)}, nil); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if err := m.Resolve("tc/0", false); err != nil {
				t.Fatal(err)
			}
		}
		if run := m.NextRun("tc/0"); run == nil || runKilled(t, m, run, 3, nil) != 1 {
			t.Fatalf("run %d not killed after its first call", i)
		}
	}
	if len(m.HookKills()) != 2 || len(m.HookFaults()) != 0 {
		t.Errorf("after two kills: kills %v armed %v", m.HookKills(), m.HookFaults())
	}

	// A named action is targeted; a run that never reaches the kill point leaves the fault armed.
	_ = m.Resolve("tc/0", false)
	modeltest.Drain(t, m)
	if _, err := m.ArmHookFault("tc/0", model.HookFault{Hook: "echo", AfterToolCalls: 4}); err != nil {
		t.Fatal(err)
	}
	_, _ = m.EnqueueAction("tc/0", "echo", nil)
	if run := m.NextRun("tc/0"); runKilled(t, m, run, 3, nil) != 0 {
		t.Error("killed before the kill point")
	}
	if f, ok := m.HookFaults()["tc/0"]; !ok || f.Times != 1 {
		t.Errorf("a fault that did not fire disarmed itself: %v", m.HookFaults())
	}
	task, _ := m.EnqueueAction("tc/0", "echo", nil)
	if run := m.NextRun("tc/0"); runKilled(t, m, run, 9, nil) != 4 {
		t.Error("the named action was not killed at call 4")
	}
	u, _ := m.Unit("tc/0")
	if !task.Failed || task.Message != "signal: killed" || u.Failed() != nil {
		t.Errorf("a killed action fails its task (%v %q) and leaves the unit out of error (%v)", task.Failed, task.Message, u.Failed())
	}
	if k := m.HookKills()[2]; k.Action != "echo" || k.Hook != "" || k.ToolCalls != 4 {
		t.Errorf("action kill recorded as %+v", k)
	}

	// Clearing spares a run already aimed at.
	_, _ = m.ArmHookFault("tc/0", model.HookFault{Hook: "config-changed", AfterToolCalls: 1})
	_ = m.SetConfig("tc", map[string]any{"count": int64(99)}, nil)
	run := m.NextRun("tc/0")
	if err := m.ClearHookFault("tc/0"); err != nil {
		t.Fatal(err)
	}
	if runKilled(t, m, run, 3, nil) != 0 {
		t.Error("a cleared fault killed the run")
	}
}

func TestHookFaultRejectsWhatCouldNeverFire(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "tc", 1)
	for _, f := range []model.HookFault{
		{Hook: "config-changd", AfterToolCalls: 1},
		{Hook: "nope-relation-joined", AfterToolCalls: 1},
		{AfterToolCalls: 0},
		{AfterToolCalls: 2, Random: true},
		{AfterToolCalls: 1, Times: -1},
	} {
		if _, err := m.ArmHookFault("tc/0", f); err == nil {
			t.Errorf("fault %+v accepted", f)
		}
	}
	for _, name := range []string{"peers-relation-changed", "db-relation-joined", "backend-relation-broken",
		"data-storage-detaching", "leader-elected", "secret-rotate", "echo"} {
		if _, err := m.ArmHookFault("tc/0", model.HookFault{Hook: name, AfterToolCalls: 1}); err != nil {
			t.Errorf("fault on %s refused: %v", name, err)
		}
	}
	if _, err := m.ArmHookFault("tc/9", model.HookFault{AfterToolCalls: 1}); err == nil {
		t.Error("fault on an unknown unit accepted")
	}
}

// TestRandomHookFaultIsSeededWithinTheHook checks that random kill points fall within the tool calls of the
// hook's last complete run and replay exactly from the seed.
func TestRandomHookFaultIsSeededWithinTheHook(t *testing.T) {
	points := func(seed int64) []int {
		m := modeltest.New(t)
		deploy(t, m, "tc", 1)
		modeltest.Drain(t, m)
		// One complete config-changed of 6 calls tells the draws how long the hook is.
		_ = m.SetConfig("tc", map[string]any{"count": int64(2)}, nil)
		runKilled(t, m, m.NextRun("tc/0"), 6, nil)
		f, err := m.ArmHookFault("tc/0", model.HookFault{Hook: "config-changed", Random: true, Seed: seed, Times: 20})
		if err != nil || f.Seed != seed {
			t.Fatalf("arm: %v, seed %d", err, f.Seed)
		}
		var out []int
		for i := 0; i < 20; i++ {
			_ = m.SetConfig("tc", map[string]any{"count": int64(100 + i)}, nil)
			if i > 0 {
				_ = m.Resolve("tc/0", false)
			}
			at := runKilled(t, m, m.NextRun("tc/0"), 6, nil)
			if at < 1 || at > 6 {
				t.Fatalf("random kill point %d outside 1..6", at)
			}
			out = append(out, at)
		}
		return out
	}
	a, b := points(42), points(42)
	seen := map[int]bool{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("the same seed gave %v and %v", a, b)
		}
		seen[a[i]] = true
	}
	if len(seen) < 3 {
		t.Errorf("20 draws over 1..6 hit only %v", seen)
	}

	m := modeltest.New(t)
	deploy(t, m, "tc", 1)
	if f, _ := m.ArmHookFault("tc/0", model.HookFault{Random: true}); f.Seed == 0 {
		t.Error("a random fault without a seed must report the one it picked")
	}
}
