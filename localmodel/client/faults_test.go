package client_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/client"
	"github.com/etcd-charm/etcd/localmodel/lmtest"
)

// onHook is the test charm's on-hook config for one hook's goops calls.
func onHook(t *testing.T, hook string, calls ...[]string) string {
	t.Helper()
	var list []map[string]any
	for _, c := range calls {
		list = append(list, map[string]any{"fn": c[0], "args": c[1:]})
	}
	b, err := json.Marshal(map[string]any{hook: list})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitError waits for the unit's queued hook to fail and returns the error wait-for-idle reports.
func waitError(t *testing.T, m *client.Model) string {
	t.Helper()
	err := m.WaitForIdle(lmtest.Ctx(t, time.Minute), waitOpts(45*time.Second))
	if err == nil {
		t.Fatal("the model went idle: the hook fault never fired")
	}
	return err.Error()
}

func TestHookFaultKillsAfterToolCallThenResolveRetries(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "tc", 1, nil)
	waitIdle(t, m)
	u, _ := m.Unit(ctx, "tc/0")
	before, _ := lmtest.CharmLog(u.Root)

	// config-changed calls is-leader (1) and config-get (2) before its on-hook calls: juju-log (3),
	// relation-set (4), state-set (5); then status-set (6). Kill it right after the relation-set.
	if _, err := m.InjectHookFault(ctx, "tc/0", client.HookFaultOptions{Hook: "config-changed", AfterToolCalls: 4}); err != nil {
		t.Fatal(err)
	}
	if err := m.SetConfig(ctx, "tc", map[string]string{"on-hook": onHook(t, "config-changed",
		[]string{"LogInfof", "written before the kill"}, []string{"SetUnitRelationData", "peers:0", "k=v"},
		[]string{"SetState", "k", "v"})}); err != nil {
		t.Fatal(err)
	}
	if why := waitError(t, m); !strings.Contains(why, `hook failed: "config-changed"`) {
		t.Fatalf("wait-for-idle: %s", why)
	}
	st, _ := m.Status(ctx)
	if ws := st.Applications["tc"].Units["tc/0"].WorkloadStatus; ws.Current != "error" || ws.Message != `hook failed: "config-changed"` {
		t.Errorf("status after the kill: %+v", ws)
	}
	kills, err := m.HookKills(ctx)
	if err != nil || len(kills) != 1 || kills[0].Unit != "tc/0" || kills[0].Hook != "config-changed" || kills[0].ToolCalls != 4 {
		t.Fatalf("kills: %+v %v", kills, err)
	}
	runs, _ := m.HookHistory(ctx, "tc/0")
	if last := runs[len(runs)-1]; last.Hook != "config-changed" || !last.FaultKilled || last.ToolCalls != 4 || last.Signal != "killed" || last.ExitCode == 0 {
		t.Errorf("history of the killed run: %+v", last)
	}
	// Juju commits relation data and unit state only when a hook succeeds; juju-log takes effect at once.
	if bag, _ := m.UnitBag(ctx, 0, "tc/0"); bag["k"] != "" {
		t.Errorf("the killed hook's relation-set was committed: %v", bag)
	}
	if state, _ := m.State(ctx, "tc/0"); state["k"] != "" {
		t.Errorf("the killed hook's state-set was committed: %v", state)
	}
	log, _ := m.DebugLog("tc/0")
	joined := strings.Join(log, "\n")
	for _, want := range []string{"written before the kill",
		"WARNING localjuju.fault fault injection: killed hook config-changed after 4 hook tool calls",
		`hook "config-changed" (via hook dispatching script: dispatch) failed: signal: killed`} {
		if !strings.Contains(joined, want) {
			t.Errorf("debug log lacks %q", want)
		}
	}
	// The charm ran nothing after its fourth call: it never wrote its own record of the run.
	if after, _ := lmtest.CharmLog(u.Root); len(after) != len(before) {
		t.Errorf("the killed run went on to write its record: %+v", after[len(before):])
	}
	if f, _ := m.HookFaults(ctx); len(f.Armed) != 0 {
		t.Errorf("a one-time fault is still armed: %+v", f.Armed)
	}

	if err := m.Resolve(ctx, "tc/0", false); err != nil {
		t.Fatal(err)
	}
	if err := m.WaitForIdle(ctx, client.WaitOptions{Status: "active", Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if bag, _ := m.UnitBag(ctx, 0, "tc/0"); bag["k"] != "v" {
		t.Errorf("the retried hook's relation-set: %v", bag)
	}
	if state, _ := m.State(ctx, "tc/0"); state["k"] != "v" {
		t.Errorf("the retried hook's state-set: %v", state)
	}
	if n, err := m.LastToolCalls(ctx, "tc/0", "config-changed"); n != 6 || err != nil {
		t.Errorf("tool calls of the retried config-changed: %d %v", n, err)
	}
	if kills, _ := m.HookKills(ctx); len(kills) != 1 {
		t.Errorf("the retry was killed too: %+v", kills)
	}
}

// TestHookFaultSweepCountsSystemctl kills config-changed after each of its tool calls in turn, the way a
// crash-safety test sweeps a hook. systemctl calls count, and take effect before the kill: the service is
// running after a kill that follows `systemctl start`, and not after one that precedes it.
func TestHookFaultSweepCountsSystemctl(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 4*time.Minute)
	deploy(t, m, "tc", 1, map[string]string{"service": "true"})
	waitIdle(t, m)
	// is-leader, config-get, unit-get, systemctl daemon-reload, enable, start, status-set.
	n, err := m.LastToolCalls(ctx, "tc/0", "config-changed")
	if err != nil || n != 7 {
		t.Fatalf("config-changed made %d tool calls (%v), want 7", n, err)
	}
	const start = 6
	for k := 1; k <= n; k++ {
		// reset-failed too: eight starts in a few seconds would trip systemd's start rate limit.
		if out, err := m.Exec(ctx, "tc/0", "systemctl stop testcharm-web && systemctl reset-failed testcharm-web"); err != nil || out.Code != 0 {
			t.Fatalf("stopping the service: %+v %v", out, err)
		}
		if _, err := m.InjectHookFault(ctx, "tc/0", client.HookFaultOptions{Hook: "config-changed", AfterToolCalls: k}); err != nil {
			t.Fatal(err)
		}
		if err := m.SetConfig(ctx, "tc", map[string]string{"count": fmt.Sprint(100 + k)}); err != nil {
			t.Fatal(err)
		}
		waitError(t, m)
		kills, _ := m.HookKills(ctx)
		if len(kills) != k || kills[k-1].ToolCalls != k {
			t.Fatalf("sweep point %d: kills %+v", k, kills)
		}
		svc, _ := m.Service(ctx, "tc/0", "testcharm-web")
		if running := svc.ActiveState == "active"; running != (k >= start) {
			t.Errorf("killed after %d calls: service %s", k, svc.ActiveState)
		}
		if err := m.Resolve(ctx, "tc/0", false); err != nil {
			t.Fatal(err)
		}
		if err := m.WaitForIdle(ctx, client.WaitOptions{Status: "active", Timeout: time.Minute}); err != nil {
			runs, _ := m.HookHistory(ctx, "tc/0")
			log, _ := m.DebugLog("tc/0")
			t.Fatalf("after resolving sweep point %d: %v\nlast run: %+v\n%s", k, err, runs[len(runs)-1], strings.Join(log[max(0, len(log)-40):], "\n"))
		}
	}
	if svc, _ := m.Service(ctx, "tc/0", "testcharm-web"); svc.ActiveState != "active" {
		t.Errorf("service after the sweep: %+v", svc)
	}
}

// TestHookFaultAutoRetry checks that Juju's back-off retry re-runs a killed hook, and that --times kills
// the retry as well.
func TestHookFaultAutoRetry(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{AutoRetry: true})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "tc", 1, nil)
	waitIdle(t, m)
	f, err := m.InjectHookFault(ctx, "tc/0", client.HookFaultOptions{Hook: "config-changed", Random: true, Seed: 7, Times: 2})
	if err != nil || f.Seed != 7 || f.Times != 2 {
		t.Fatalf("armed %+v %v", f, err)
	}
	if err := m.SetConfig(ctx, "tc", map[string]string{"greeting": "again"}); err != nil {
		t.Fatal(err)
	}
	// The retries come after 5 s and then 10 s of back-off.
	var runs []api.HookRun
	lmtest.WaitFor(t, 40*time.Second, "config-changed to succeed after two kills", func() bool {
		runs, _ = m.HookHistory(ctx, "tc/0")
		last := runs[len(runs)-1]
		return last.Hook == "config-changed" && last.ExitCode == 0
	})
	kills, _ := m.HookKills(ctx)
	if len(kills) != 2 || !kills[0].Random || kills[0].Seed != 7 {
		t.Fatalf("kills: %+v", kills)
	}
	tail := runs[len(runs)-3:]
	for i, r := range tail[:2] {
		// A random point falls within the calls of the last complete config-changed (3 of them).
		if !r.FaultKilled || r.ToolCalls != kills[i].ToolCalls || r.ToolCalls < 1 || r.ToolCalls > 3 {
			t.Errorf("killed run %d: %+v (kill %+v)", i, r, kills[i])
		}
	}
	if tail[2].ToolCalls != 3 {
		t.Errorf("the successful retry made %d tool calls", tail[2].ToolCalls)
	}
	if err := m.WaitForIdle(ctx, client.WaitOptions{Status: "active", Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
}
