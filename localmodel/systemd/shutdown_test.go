package systemd

import (
	"context"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"
)

// startTree starts a Restart=always service with a grandchild, a stubborn
// service and a paused one, returning every pid involved.
func startTree(t *testing.T, f *fixture) []int {
	t.Helper()
	if err := os.MkdirAll(f.path("run"), 0o755); err != nil {
		t.Fatal(err)
	}
	parent, child := f.path("run/tree.json"), f.path("run/tree-child.json")
	f.writeUnit("tree.service", "[Service]\nRestart=always\nRestartSec=1ms\nExecStart="+f.helper+" helper fork "+parent+" "+child+"\n")
	stubborn := f.helperUnit("stubborn", "ignore-term", "Restart=always\nRestartSec=1ms\nTimeoutStopSec=infinity")
	paused := f.helperUnit("paused", "serve", "Restart=always\nRestartSec=1ms")
	f.mustCtl(0, "start", "tree", "stubborn", "paused")
	pids := []int{readReport(t, parent).PID, readReport(t, child).PID, readReport(t, stubborn).PID, readReport(t, paused).PID}
	if err := f.sup.Signal("paused", syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	return pids
}

func assertNothingLeft(t *testing.T, f *fixture, pids []int) {
	t.Helper()
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("pid %d still alive", pid)
		}
	}
	if kids := children(t); len(kids) > 0 {
		t.Errorf("children of the test process remain: %v", kids)
	}
	r := f.ctl("start", "tree")
	if r.code != 1 {
		t.Errorf("start after shutdown: exit %d (%q)", r.code, r.stderr)
	}
	f.sup.mu.Lock()
	live := len(f.sup.live)
	f.sup.mu.Unlock()
	if live != 0 || f.sup.MainPID("tree") != 0 {
		t.Errorf("supervisor still tracks %d processes", live)
	}
}

func TestShutdownLeavesNothing(t *testing.T) {
	f := newFixture(t)
	pids := startTree(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	f.sup.Shutdown(ctx)
	assertNothingLeft(t, f, pids)
	for _, unit := range []string{"tree", "paused"} {
		if st := f.sup.ActiveState(unit); st != "inactive" {
			t.Errorf("%s: state %q after graceful shutdown", unit, st)
		}
	}
}

func TestKillLeavesNothing(t *testing.T) {
	f := newFixture(t)
	pids := startTree(t, f)
	f.sup.Kill()
	assertNothingLeft(t, f, pids)
	for _, unit := range []string{"tree", "stubborn", "paused"} {
		if st := f.sup.ActiveState(unit); !slices.Contains([]string{"inactive", "failed"}, st) {
			t.Errorf("%s: state %q after Kill", unit, st)
		}
	}
}
