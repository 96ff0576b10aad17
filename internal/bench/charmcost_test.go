package bench

import (
	"testing"
	"time"

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
	if cost.Runs != 2 || cost.MedianWall <= 0 || cost.MedianWall > cost.P99Wall || cost.MedianRSSKiB <= 0 || cost.MedianRSSKiB > cost.MaxRSSKiB {
		t.Errorf("install cost %+v: want 2 runs (one per unit), ordered positive times and memory", cost)
	}
	if _, err := HookCosts(ctx, m, "install", time.Now()); err == nil {
		t.Error("no install since now, yet a cost came back")
	}
	call, err := HookToolCall(ctx, m, "tc/0", 3)
	if err != nil || call <= 0 {
		t.Errorf("hook tool call: %v, %v", call, err)
	}
}
