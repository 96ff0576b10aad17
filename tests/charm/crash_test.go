package charm_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// The crash scenarios kill the charm's own hooks (SIGKILL, as a machine losing power or an OOM kill would)
// after a chosen hook tool call, and let Juju's automatic retry run them again. Each run moves the kill
// points, so five runs sweep different steps of the same operation; the recorder checks that clients lost
// nothing and the harness that the cluster converged (every unit a healthy voter, no alarm, no member left
// behind).

// armKills arms, on each unit, one kill of hook after a tool call chosen by run and the unit's position,
// sweeping the calls the unit's last successful run of that hook made.
func armKills(t *testing.T, m *client.Model, units []string, hook string, run int) {
	t.Helper()
	ctx := context.Background()
	for i, u := range units {
		calls, err := m.LastToolCalls(ctx, u, hook)
		if err != nil || calls < 1 {
			calls = 8 // never run yet (a new unit): an early point still cuts the hook short
		}
		n := 1 + (run*len(units)+i*3)%calls
		if _, err := m.InjectHookFault(ctx, u, client.HookFaultOptions{Hook: hook, AfterToolCalls: n, Times: 1}); err != nil {
			t.Fatalf("arming a kill of %s on %s: %v", hook, u, err)
		}
		t.Logf("%s: %s killed after hook tool call %d of %d", u, hook, n, calls)
	}
}

// requireKills fails the run unless at least want kills happened since before: a fault that never fired
// proves nothing.
func requireKills(t *testing.T, m *client.Model, before, want int) {
	t.Helper()
	kills, err := m.HookKills(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := len(kills) - before; got < want {
		t.Fatalf("%d hook kills happened, want at least %d", got, want)
	}
	for _, k := range kills[before:] {
		t.Logf("killed %s %s%s after %d hook tool calls", k.Unit, k.Hook, k.Action, k.ToolCalls)
	}
}

// waitRetriedActive waits until every etcd unit is active and idle, riding out the hook errors the kills
// leave until Juju's automatic retry runs the hooks again (wait-for-idle stops at the first error).
func waitRetriedActive(t *testing.T, m *client.Model, timeout time.Duration) {
	t.Helper()
	settled := 0
	waitFor(t, timeout, "every unit active again after the retries", func() bool {
		st, err := m.Status(context.Background())
		if err != nil {
			return false
		}
		ok := len(st.Applications["etcd"].Units) > 0
		for _, u := range st.Applications["etcd"].Units {
			ok = ok && u.WorkloadStatus.Current == "active" && u.JujuStatus.Current == "idle"
		}
		if !ok {
			settled = 0
			return false
		}
		settled++
		return settled >= 3
	})
}

func killsSoFar(t *testing.T, m *client.Model) int {
	t.Helper()
	kills, err := m.HookKills(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return len(kills)
}

func clearKills(t *testing.T, m *client.Model, units []string) {
	t.Helper()
	for _, u := range units {
		if err := m.ClearHookFault(context.Background(), u); err != nil {
			t.Errorf("clearing the hook fault of %s: %v", u, err)
		}
	}
}

func TestReliabilityGivenTrafficWhenConfigChangedHooksAreKilledMidRestartThenEveryMemberStillRunsTheNewConfig(t *testing.T) {
	runScenario(t, scenario{name: "crash-config-change", units: 3, autoRetry: true, inject: func(t *testing.T, f *faultRun) {
		units := aliveUnits(t, f.m)
		before := etcdPIDs(t, f.m)
		kills := killsSoFar(t, f.m)
		armKills(t, f.m, units, "config-changed", f.run)
		defer clearKills(t, f.m, units)
		heartbeat := 110 + 10*f.run
		if err := f.m.SetConfig(context.Background(), "etcd", map[string]string{
			"heartbeat_interval": fmt.Sprint(heartbeat), "election_timeout": fmt.Sprint(10 * heartbeat)}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Minute, "every member restarted onto the new config", func() bool {
			now := etcdPIDs(t, f.m)
			for _, u := range units {
				if now[u] == 0 || now[u] == before[u] || !configHas(t, f.m, u, fmt.Sprintf("heartbeat-interval: %d", heartbeat)) {
					return false
				}
			}
			return true
		})
		requireKills(t, f.m, kills, len(units))
		waitRetriedActive(t, f.m, 5*time.Minute)
	}})
}

func TestReliabilityGivenTrafficWhenHooksAreKilledWhileAUnitJoinsAndTheLeadersUnitLeavesThenMembershipConverges(t *testing.T) {
	runScenario(t, scenario{name: "crash-scale", units: 3, autoRetry: true, inject: func(t *testing.T, f *faultRun) {
		ctx := context.Background()
		kills := killsSoFar(t, f.m)
		leader := jujuLeader(t, f.m)
		armKills(t, f.m, []string{leader}, "cluster-relation-joined", f.run)
		added, err := f.m.AddUnit(ctx, "etcd", 1)
		if err != nil {
			t.Fatal(err)
		}
		armKills(t, f.m, added, "cluster-relation-changed", f.run)
		waitFor(t, 5*time.Minute, "the new unit a voter", func() bool {
			return len(aliveUnits(t, f.m)) == 4 && slices.Contains(memberVotersOf(t, f.m), strings.Replace(added[0], "/", "-", 1))
		})
		waitRetriedActive(t, f.m, 5*time.Minute)
		clearKills(t, f.m, append([]string{leader}, added...))
		victim := raftLeaderUnit(t, f.m)
		armKills(t, f.m, []string{victim}, "cluster-relation-departed", f.run)
		t.Logf("added %v; removing %s, the raft leader's unit", added, victim)
		if err := f.m.RemoveUnit(ctx, victim); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Minute, victim+" gone", func() bool {
			infos, err := f.m.Units(ctx)
			if err != nil {
				return false
			}
			for _, u := range infos {
				if u.Name == victim {
					return false
				}
			}
			return true
		})
		requireKills(t, f.m, kills, 3)
		waitRetriedActive(t, f.m, 5*time.Minute)
	}})
}

// memberVotersOf names the members that vote, as etcd lists them.
func memberVotersOf(t *testing.T, m *client.Model) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	members, err := adminClient(t, m).Members(ctx)
	if err != nil {
		return nil
	}
	var names []string
	for _, mem := range members {
		if !mem.IsLearner && mem.Name != "" {
			names = append(names, mem.Name)
		}
	}
	return names
}

// crashRuns is how many kill points a crash test that deploys its own model sweeps: one in the CI selection,
// reliabilityEnv's runs in the full reliability run.
func crashRuns(t *testing.T) int {
	t.Helper()
	return reliabilityEnv(t).runs
}

// TestReliabilityGivenHooksKilledWhileTheClusterIsDeployedWhenJujuRetriesThemThenTheClusterForms: every unit of a new
// deployment has two of its hooks killed at seeded random points (install, leader-elected, the peer relation
// hooks that sign certificates, bootstrap and join); with Juju's retries the cluster still forms, every unit a
// healthy voter.
func TestReliabilityGivenHooksKilledWhileTheClusterIsDeployedWhenJujuRetriesThemThenTheClusterForms(t *testing.T) {
	env := reliabilityEnv(t)
	if !env.full {
		t.Skipf("crash-deploy runs only in the full reliability run: %s", fullRunCommand)
	}
	for run := range crashRuns(t) {
		t.Run(fmt.Sprintf("run-%d", run+1), func(t *testing.T) {
			m := newModelOpts(t, client.Options{UpdateStatusInterval: 20 * time.Second, AutoRetry: true})
			ctx := context.Background()
			units, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 3})
			if err != nil {
				t.Fatal(err)
			}
			for i, u := range units {
				opts := client.HookFaultOptions{Random: true, Seed: int64(100*run + i + 1), Times: 2}
				if i == 0 {
					// The first unit leads and bootstraps in its peer relation's first hook, which no
					// completed run measures beforehand: sweep fixed points through it instead.
					opts = client.HookFaultOptions{Hook: "cluster-relation-created", AfterToolCalls: 2 + 4*run, Times: 1}
				}
				if _, err := m.InjectHookFault(ctx, u, opts); err != nil {
					t.Fatal(err)
				}
			}
			waitRetriedActive(t, m, 6*time.Minute)
			requireKills(t, m, 0, 3)
			clearKills(t, m, units)
			if calls, err := m.LastToolCalls(ctx, units[0], "cluster-relation-created"); err == nil {
				t.Logf("%s's cluster-relation-created (the bootstrap) makes %d hook tool calls when it completes", units[0], calls)
			}
			keys := map[string]string{}
			put(t, m, keys, "after", "crashes")
			assertCluster(t, m, keys)
		})
	}
}

// TestReliabilityGivenTheLeadersClientHooksKilledWhenARequirerIsServedThenItsGrantAndTrustConverge: the Juju leader's
// etcd-client hooks are killed at points that sweep the client steps (read the request, grant the user and
// role, record the registry, publish the trust generation, answer); with Juju's retries the requirer is
// served, works on its prefix through every member, and nothing else.
func TestReliabilityGivenTheLeadersClientHooksKilledWhenARequirerIsServedThenItsGrantAndTrustConverge(t *testing.T) {
	env := reliabilityEnv(t)
	if !env.full {
		t.Skipf("crash-client-grant runs only in the full reliability run: %s", fullRunCommand)
	}
	buildRequirers(t)
	m := newModelOpts(t, client.Options{UpdateStatusInterval: 20 * time.Second, AutoRetry: true})
	ctx := context.Background()
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 3}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 5*time.Minute)
	leader := jujuLeader(t, m)
	for run := range crashRuns(t) {
		t.Run(fmt.Sprintf("run-%d", run+1), func(t *testing.T) {
			app := fmt.Sprintf("grant-%c", 'a'+run)
			deployRequirer(t, m, app, map[string]string{"prefix": "/" + app + "/"})
			kills := killsSoFar(t, m)
			if _, err := m.InjectHookFault(ctx, leader, client.HookFaultOptions{Hook: "etcd-client-relation-changed",
				Random: true, Seed: int64(run + 1), Times: 2}); err != nil {
				t.Fatal(err)
			}
			integrate(t, m, "etcd:etcd-client", app+":etcd-client")
			waitFor(t, 6*time.Minute, app+" active", func() bool {
				st, err := m.Status(ctx)
				if err != nil {
					return false
				}
				for _, u := range st.Applications[app].Units {
					return u.WorkloadStatus.Current == "active"
				}
				return false
			})
			requireKills(t, m, kills, 1)
			clearKills(t, m, []string{leader})
			waitRetriedActive(t, m, 5*time.Minute)
			files := requirerFiles(t, m, app+"/0", "etcd-client")
			files.mustWork(t, m, "/"+app+"/k")
			files.mustBeDenied(t, m, app+" outside its prefix", "put", "/outside-"+app, "x")
		})
	}
}

// TestReliabilityGivenHooksKilledWhileTheClusterIsRestoredWhenJujuRetriesThemThenEveryUnitRejoinsTheSnapshot:
// the restore action is killed at a point that moves with each run (before the old members are removed,
// with etcd stopped and its data moved, with the new cluster started but not yet published) and run again,
// as an operator reruns a failed action; the other units' hooks that follow the new cluster (wipe, join as a
// learner, promotion) are killed too and retried as Juju does. Every unit must end a healthy voter of the
// restored cluster that holds exactly the snapshot's keys, and take writes.
func TestReliabilityGivenHooksKilledWhileTheClusterIsRestoredWhenJujuRetriesThemThenEveryUnitRejoinsTheSnapshot(t *testing.T) {
	env := reliabilityEnv(t)
	if !env.full {
		t.Skipf("crash-restore runs only in the full reliability run: %s", fullRunCommand)
	}
	m := newModelOpts(t, client.Options{UpdateStatusInterval: 20 * time.Second, AutoRetry: true})
	ctx := context.Background()
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 3}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 5*time.Minute)
	leader := jujuLeader(t, m)
	const snapshotKeys = 200
	putMany(t, appClient(t, m, "etcd"), "snap", snapshotKeys)
	snap := runOK(t, m, leader, "snapshot", nil)
	onLeader := "/home/ubuntu/crash-restore.tar.gz"
	copyToUnit(t, m, leader, result(snap, "snapshot.path"), onLeader)
	restoreCalls := 0 // tool calls of the last restore that completed
	for run := range crashRuns(t) {
		t.Run(fmt.Sprintf("run-%d", run+1), func(t *testing.T) {
			putMany(t, appClient(t, m, "etcd"), fmt.Sprintf("after-%d", run), 20)
			kills := killsSoFar(t, m)
			others := othersOf(t, m, "etcd", leader)
			armKills(t, m, others, "cluster-relation-changed", run)
			calls := restoreCalls
			if calls == 0 {
				calls = 12
			}
			n := 1 + (run*5+3)%calls
			if _, err := m.InjectHookFault(ctx, leader, client.HookFaultOptions{Hook: "restore", AfterToolCalls: n, Times: 1}); err != nil {
				t.Fatal(err)
			}
			started := time.Now()
			var res api.ActionResult
			for attempt := 1; ; attempt++ {
				var err error
				res, err = m.Run(ctx, leader, "restore", map[string]any{"path": onLeader})
				if err == nil && res.Status == "completed" {
					break
				}
				if attempt == 3 {
					t.Fatalf("restore did not complete in %d attempts: %v %s %q", attempt, err, res.Status, res.Message)
				}
				t.Logf("restore attempt %d (killed after tool call %d of about %d): %v %s %q; running it again", attempt, n, calls, err, res.Status, res.Message)
			}
			if c, err := m.LastToolCalls(ctx, leader, "restore"); err == nil && c > 0 {
				restoreCalls = c
			}
			waitRetriedActive(t, m, 6*time.Minute)
			t.Logf("every unit active %s after the restore began", time.Since(started).Round(time.Second))
			requireKills(t, m, kills, 2)
			clearKills(t, m, append([]string{leader}, others...))
			if voters := memberVotersOf(t, m); len(voters) != 3 {
				t.Fatalf("voters after the restore: %v, want all 3 units", voters)
			}
			for unit, got := range unitKeys(t, m, "etcd", "snap/") {
				if got != snapshotKeys {
					t.Errorf("%s holds %d of the snapshot's %d keys", unit, got, snapshotKeys)
				}
			}
			for unit, got := range unitKeys(t, m, "etcd", "after-") {
				if got != 0 {
					t.Errorf("%s still holds %d keys written after the snapshot", unit, got)
				}
			}
			keys := map[string]string{}
			put(t, m, keys, fmt.Sprintf("written-after-restore-%d", run), "yes")
			assertCluster(t, m, keys)
		})
	}
}
