package bench

import (
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/client"
	"github.com/etcd-charm/etcd/localmodel/lmtest"
)

func TestGivenAUnitThatRanItsDeployHooksWhenCostsAreReadThenEachHookHasWallTimeAndMemory(t *testing.T) {
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 2*time.Minute)
	before := time.Now()
	if _, err := m.Deploy(ctx, lmtest.Build(t).TestCharm, client.DeployOptions{App: "tc", NumUnits: 2}); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitForIdle(ctx, client.WaitOptions{Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}

	cost, err := HookCosts(ctx, m, "install", before)
	if err != nil {
		t.Fatal(err)
	}
	if cost.Runs != 2 || cost.MedianWall <= 0 || cost.MedianWall > cost.P99Wall || cost.MedianRSSKiB <= 0 || cost.MedianRSSKiB > cost.MaxRSSKiB || cost.MedianCPU <= 0 {
		t.Errorf("install cost %+v: want 2 runs (one per unit), ordered positive times, CPU time and memory", cost)
	}
	if _, err := HookCosts(ctx, m, "install", time.Now()); err == nil {
		t.Error("no install since now, yet a cost came back")
	}
	call, err := HookToolCall(ctx, m, "tc/0", 3)
	if err != nil || call <= 0 {
		t.Errorf("hook tool call: %v, %v", call, err)
	}
}

func TestGivenRunsOfSeveralUnitsWhenTheirCostIsSummedThenOverlapsBetweenUnitsAreCounted(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	run := func(unit string, startMS, wallMS int) unitRun {
		return unitRun{unit, api.HookRun{Hook: "config-changed", Started: t0.Add(time.Duration(startMS) * time.Millisecond),
			Duration: time.Duration(wallMS) * time.Millisecond, CPU: time.Duration(wallMS/2) * time.Millisecond, MaxRSSKiB: 1024}}
	}
	// etcd/0 and etcd/1 run together; etcd/2 runs alone later; etcd/0's second run follows its first.
	c := hookCostOf("config-changed", []unitRun{run("etcd/0", 0, 100), run("etcd/1", 50, 100), run("etcd/2", 500, 60),
		run("etcd/0", 120, 20)})
	if c.Runs != 4 || c.Overlapped != 3 {
		t.Errorf("runs %d, overlapped %d: want 4 runs, 3 overlapping another unit's (a unit's own runs never overlap)", c.Runs, c.Overlapped)
	}
	if c.MedianCPU != 30*time.Millisecond || c.MedianRSSKiB != 1024 {
		t.Errorf("median CPU %s, median RSS %d KiB: want 30ms and 1024", c.MedianCPU, c.MedianRSSKiB)
	}
}
