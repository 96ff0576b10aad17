package client_test

import (
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/lmtest"
)

// Benchmarks of a charm's hook cost read these figures from the hook history, so every run must carry them.
func TestGivenADeployedUnitWhenItsHooksHaveRunThenTheHistoryRecordsWallTimeAndPeakMemoryOfEach(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{})
	before := time.Now()
	deploy(t, m, "tc", 1, nil)
	waitIdle(t, m)
	if _, err := m.Exec(lmtest.Ctx(t, time.Minute), "tc/0", "true"); err != nil {
		t.Fatal(err)
	}

	runs, err := m.HookHistory(lmtest.Ctx(t, time.Minute), "tc/0")
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) < 2 {
		t.Fatalf("want the deploy hooks and the exec in the history, got %d runs", len(runs))
	}
	for i, r := range runs {
		if r.Duration <= 0 || r.MaxRSSKiB <= 0 || r.Started.Before(before) {
			t.Errorf("run %d (%s%s): started %v, wall %v, max RSS %d KiB; want a start after %v, positive wall time and memory",
				i, r.Hook, r.Action, r.Started, r.Duration, r.MaxRSSKiB, before)
		}
		if i > 0 && r.Started.Before(runs[i-1].Started.Add(runs[i-1].Duration)) {
			t.Errorf("run %d (%s) started before run %d ended: one hook at a time per unit", i, r.Hook, i-1)
		}
	}
}
