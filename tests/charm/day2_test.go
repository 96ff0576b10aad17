package charm_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// One 3-unit deployment carries the snapshot, the failed-input checks, maintenance, the restore and, from the
// same snapshot, the migration into a second application: each step starts from what the previous left.
func TestGivenA3UnitClusterWhenSnapshotRestoreAndMaintenanceActionsRunThenDataFollowsTheSnapshotAndBadInputChangesNothing(t *testing.T) {
	m := deploy3(t)
	ctx := context.Background()
	cli := appClient(t, m, "etcd")
	leader := jujuLeader(t, m)
	follower := othersOf(t, m, "etcd", leader)[0]

	// Given 10k keys and a snapshot taken on a follower.
	putMany(t, cli, "data", 10000)
	snap := runOK(t, m, follower, "snapshot", nil)
	snapPath, snapSum := result(snap, "snapshot.path"), result(snap, "snapshot.sha256")
	if !regexp.MustCompile(`/home/ubuntu/etcd-snapshots/etcd-snapshot-\d{4}-\d\d-\d\d-\d\d\.\d\d\.\d\d\.tar\.gz$`).MatchString(snapPath) {
		t.Fatalf("snapshot.path %q is not named as the classic charm named it", snapPath)
	}
	if out, err := exec.Command("tar", "-tzf", snapPath).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "./db" {
		t.Fatalf("the tarball should hold ./db only: %v %q", err, out)
	}
	if keys, _ := strconv.Atoi(result(snap, "total-keys")); keys < 10000 || result(snap, "copy.cmd") == "" || len(snapSum) != 64 {
		t.Fatalf("snapshot results: %v", snap.Results)
	}

	// The operator copies the snapshot to the leader (juju scp), as restore reads it there.
	onLeader := "/home/ubuntu/etcd-snapshot.tar.gz"
	copyToUnit(t, m, leader, snapPath, onLeader)

	t.Run("bad parameters fail with what to do and change nothing", func(t *testing.T) {
		before := fingerprint(t, cli)
		garbage := "/home/ubuntu/garbage.db"
		writeOnUnit(t, m, leader, garbage, []byte(strings.Repeat("not a database ", 400)))
		runFails(t, m, follower, "snapshot", map[string]any{"keys-version": "v2"}, "etcd 3.6 and later have no v2 store")
		runFails(t, m, follower, "restore", map[string]any{"path": onLeader}, "Juju leader only")
		runFails(t, m, leader, "restore", map[string]any{"path": "/home/ubuntu/missing.tar.gz"}, "give the path of a snapshot")
		runFails(t, m, leader, "restore", nil, "juju attach-resource")
		runFails(t, m, leader, "restore", map[string]any{"path": garbage}, "snapshot action")
		runFails(t, m, leader, "restore", map[string]any{"path": onLeader, "sha256": strings.Repeat("0", 64)}, "check you have the right file")
		runFails(t, m, leader, "compact", map[string]any{"revision": 999999999}, "is in the future")
		runFails(t, m, leader, "compact", map[string]any{"revision": -1}, "not a positive integer")
		if _, err := m.Run(context.Background(), leader, "compact", map[string]any{"revision": "latest"}); err == nil ||
			!strings.Contains(err.Error(), "Expected: integer, given: string") {
			t.Fatalf("compact revision=latest: %v, want the schema to refuse it", err)
		}
		runFails(t, m, leader, "rebuild-cluster", nil, "has quorum")
		if after := fingerprint(t, cli); after != before {
			t.Fatalf("a failed action changed the cluster: %s, then %s", before, after)
		}
		waitActive(t, m, time.Minute)
	})

	t.Run("compact, defrag followers first and the raft leader last, alarm-list", func(t *testing.T) {
		raftLeader := raftLeaderUnit(t, m)
		// As the operator types it (issue 24): Juju sends revision=N as an integer.
		current, err := cli.Revision(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		res, err := jujuRun(t, m, leader, "compact", fmt.Sprintf("revision=%d", current), "physical=true")
		rev, _ := strconv.ParseInt(result(res, "revision"), 10, 64)
		if err != nil || result(res, "output") != fmt.Sprintf("compacted revision %d", current) || rev != current {
			t.Fatalf("juju run compact revision=%d: %v %v", current, err, res.Results)
		}
		runFails(t, m, leader, "compact", map[string]any{"revision": rev - 1}, "already compacted")
		res = runOK(t, m, follower, "defrag", nil)
		order := strings.Split(result(res, "order"), ",")
		if len(order) != 3 || order[2] != raftLeader || strings.Count(result(res, "output"), "Finished defragmenting") != 3 {
			t.Fatalf("defrag should do 3 members with the raft leader %s last: %v", raftLeader, res.Results)
		}
		res = runOK(t, m, follower, "defrag", map[string]any{"local": true})
		if result(res, "order") != follower {
			t.Fatalf("local defrag should do %s only: %v", follower, res.Results)
		}
		if res := runOK(t, m, leader, "alarm-list", nil); result(res, "count") != "0" {
			t.Fatalf("alarm-list on a healthy cluster: %v", res.Results)
		}
	})

	t.Run("restore brings back exactly the snapshot's keys and watchers never see the revision go back", func(t *testing.T) {
		lastBefore := putMany(t, cli, "after", 50)
		w := startRevisionWatcher(t, appClient(t, m, "etcd"), lastBefore)
		waitFor(t, 30*time.Second, "the watcher to see the last write", func() bool { return w.current().max == lastBefore })
		res := runOK(t, m, leader, "restore", map[string]any{"path": onLeader, "sha256": snapSum})
		waitActive(t, m, 5*time.Minute)
		wantUnitKeys(t, m, "data/", 10000, "of the snapshot's keys")
		wantUnitKeys(t, m, "after/", 0, "written after the snapshot")
		assertCluster(t, m, map[string]string{"data/00042": "v"})
		keys := map[string]string{}
		put(t, m, keys, "written/after-restore", "yes")
		resp, err := appClient(t, m, "etcd").Raw().Get(ctx, "written/after-restore")
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 30*time.Second, "the watcher to see the write after the restore", func() bool {
			return w.current().max == resp.Kvs[0].ModRevision
		})
		seen := w.stop()
		if seen.backwards != 0 {
			t.Fatalf("the watcher saw the revision go backwards %d times", seen.backwards)
		}
		if resp.Kvs[0].ModRevision <= lastBefore {
			t.Fatalf("revision after restore %d is not above %d, which the watcher saw before", resp.Kvs[0].ModRevision, lastBefore)
		}
		if !seen.compacted {
			t.Fatalf("the watcher was not told to resync (no compacted error); restore results %v", res.Results)
		}
	})

	t.Run("restore on five units", func(t *testing.T) {
		if _, err := m.AddUnit(ctx, "etcd", 2); err != nil {
			t.Fatal(err)
		}
		waitActive(t, m, 5*time.Minute)
		putMany(t, appClient(t, m, "etcd"), "five", 20)
		started := time.Now()
		runOK(t, m, leader, "restore", map[string]any{"path": onLeader})
		waitActive(t, m, 5*time.Minute)
		t.Logf("restore on 5 units: all active again %s after the action started", time.Since(started).Round(time.Second))
		data, five := unitKeys(t, m, "etcd", "data/"), unitKeys(t, m, "etcd", "five/")
		if len(data) != 5 {
			t.Fatalf("units after restore: %v", data)
		}
		for unit, n := range data {
			if n != 10000 || five[unit] != 0 {
				t.Errorf("%s holds %d of the snapshot's 10000 keys and %d written after it", unit, n, five[unit])
			}
		}
		assertCluster(t, m, map[string]string{"data/09999": "v"})
	})

	t.Run("periodic snapshots are taken on the leader and shown by snapshot-status", func(t *testing.T) {
		if err := m.SetConfig(ctx, "etcd", map[string]string{"snapshot_interval": "10s"}); err != nil {
			t.Fatal(err)
		}
		waitIdle(t, m)
		for unit, st := range unitStatuses(t, m) {
			if !strings.HasPrefix(st, "blocked: ") || !strings.Contains(st, "snapshot_interval") {
				t.Fatalf("%s with snapshot_interval=10s: %q", unit, st)
			}
		}
		if err := m.SetConfig(ctx, "etcd", map[string]string{"snapshot_interval": "1h", "snapshot_retention": "2"}); err != nil {
			t.Fatal(err)
		}
		waitActive(t, m, 3*time.Minute)
		var res api.ActionResult
		waitFor(t, 2*time.Minute, "a periodic snapshot on the leader", func() bool {
			res = runOK(t, m, leader, "snapshot-status", nil)
			return result(res, "last-good.time") != ""
		})
		path := result(res, "last-good.path")
		if result(res, "interval") != "1h0m0s" || !fileExists(path) || result(res, "kept") != filepath.Base(path) ||
			result(res, "last-good.total-keys") == "" {
			t.Fatalf("snapshot-status: %v", res.Results)
		}
		if err := m.SetConfig(ctx, "etcd", nil, "snapshot_interval", "snapshot_retention"); err != nil {
			t.Fatal(err)
		}
		waitActive(t, m, 3*time.Minute)
	})

	t.Run("a snapshot restored into another application gives it the data", func(t *testing.T) {
		if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "other", NumUnits: 1,
			Resources: map[string]string{"snapshot": snapPath}}); err != nil {
			t.Fatal(err)
		}
		waitAppActive(t, m, "other", 3*time.Minute)
		res := runOK(t, m, "other/0", "restore", map[string]any{"skip-backup": false})
		if backup := result(res, "backup.path"); !strings.Contains(backup, "/home/ubuntu/etcd-data-") || !fileExists(backup) {
			t.Fatalf("the replaced data should be kept as a backup: %v", res.Results)
		}
		waitAppActive(t, m, "other", 3*time.Minute)
		if n := unitKeys(t, m, "other", "data/")["other/0"]; n != 10000 {
			t.Fatalf("other/0 holds %d of the 10000 keys", n)
		}
		other := appClient(t, m, "other")
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if _, err := other.Raw().Put(cctx, "migrated", "yes"); err != nil {
			t.Fatalf("other's own root certificate cannot write the migrated data: %v", err)
		}
		if on, err := other.AuthEnabled(cctx); err != nil || !on {
			t.Fatalf("authentication after migration: %v %v", on, err)
		}
	})
}

// revisionWatcher watches every key from a revision and records what a client would: the highest revision
// seen, any step backwards, and whether etcd told it to resync.
type revisionWatcher struct {
	mu     sync.Mutex
	seen   watchSeen
	cancel context.CancelFunc
	done   chan struct{}
}

type watchSeen struct {
	max       int64
	backwards int
	compacted bool
}

func startRevisionWatcher(t *testing.T, cli interface{ Raw() *clientv3.Client }, from int64) *revisionWatcher {
	t.Helper()
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(context.Background()))
	w := &revisionWatcher{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for ctx.Err() == nil {
			for resp := range cli.Raw().Watch(ctx, "", clientv3.WithPrefix(), clientv3.WithRev(from)) {
				w.mu.Lock()
				if resp.CompactRevision != 0 || errors.Is(resp.Err(), rpctypes.ErrCompacted) {
					w.seen.compacted = true
				}
				for _, ev := range resp.Events {
					if ev.Kv.ModRevision < w.seen.max {
						w.seen.backwards++
					}
					w.seen.max = max(w.seen.max, ev.Kv.ModRevision)
					from = ev.Kv.ModRevision + 1
				}
				w.mu.Unlock()
			}
			// A watch that closed without a compaction (its member removed or wiped by the restore) resumes
			// from the last revision it saw, as a client-go reflector does with its resource version: the
			// restored cluster must then answer that those revisions are compacted. A closed compacted watch
			// resumes from a fresh read, as clients do after a relist.
			gctx, gcancel := context.WithTimeout(ctx, 5*time.Second)
			if resp, err := cli.Raw().Get(gctx, "resync", clientv3.WithCountOnly()); err == nil {
				w.mu.Lock()
				if resp.Header.Revision < w.seen.max {
					w.seen.backwards++
				}
				if w.seen.compacted {
					from = resp.Header.Revision + 1
				}
				w.mu.Unlock()
			}
			gcancel()
			time.Sleep(200 * time.Millisecond)
		}
	}()
	return w
}

func (w *revisionWatcher) current() watchSeen {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen
}

func (w *revisionWatcher) stop() watchSeen {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen
}

// With update-status an hour away, only the actions the operator runs can show the alarm (issue 24), and
// alarm-disarm refuses while the database file is still at its quota, naming what to run first.
func TestGivenASmallQuotaWhenFilledUntilNOSPACEThenActionsShowItAndDisarmHoldsOnlyAfterCompactAndDefrag(t *testing.T) {
	m := newModelWith(t, time.Hour)
	ctx := context.Background()
	// defrag_policy=off: the operator's own way out, which the charm's automatic one must not hide.
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 1,
		Config: map[string]string{"quota_backend_bytes": "104857600", "defrag_policy": "off"}}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 3*time.Minute)
	fillUntilNoSpace(t, adminClient(t, m))

	res := runOK(t, m, "etcd/0", "health", nil)
	if !strings.HasPrefix(result(res, "alarms"), "NOSPACE on member") {
		t.Fatalf("the health action does not name the alarm: %v", res.Results)
	}
	if st := unitStatusOf(t, m, "etcd", "etcd/0"); !strings.HasPrefix(st, "blocked: etcd alarm raised: NOSPACE") ||
		!strings.Contains(st, "quota_backend_bytes") || !strings.Contains(st, "alarm-disarm") {
		t.Fatalf("status right after the health action, with no hook run since the alarm: %q", st)
	}

	runFails(t, m, "etcd/0", "alarm-disarm", nil, "run the compact action")
	if res := runOK(t, m, "etcd/0", "alarm-list", nil); !strings.Contains(result(res, "output"), "alarm:NOSPACE") {
		t.Fatalf("a refused disarm changed the alarms: %v", res.Results)
	}
	runOK(t, m, "etcd/0", "compact", map[string]any{"physical": true})
	runFails(t, m, "etcd/0", "alarm-disarm", nil, "run the defrag action")
	runOK(t, m, "etcd/0", "defrag", nil)
	if res := runOK(t, m, "etcd/0", "alarm-disarm", nil); !regexp.MustCompile(`memberID:\d+ alarm:NOSPACE`).MatchString(result(res, "output")) {
		t.Fatalf("alarm-disarm output: %v", res.Results)
	}
	if st := unitStatusOf(t, m, "etcd", "etcd/0"); !strings.HasPrefix(st, "active: ") {
		t.Fatalf("status right after a disarm that held: %q", st)
	}
	keys := map[string]string{}
	put(t, m, keys, "writable", "again")
	assertCluster(t, m, keys)
}

func TestGivenTwoOfThreeMachinesLostWhenRebuildClusterRunsOnTheSurvivorThenItServesTheDataAndAddUnitGrowsItBack(t *testing.T) {
	m := deploy3(t)
	ctx := context.Background()
	keys := map[string]string{}
	put(t, m, keys, "survives", "rebuild")
	putMany(t, adminClient(t, m), "bulk", 500)
	survivor := jujuLeader(t, m)
	for _, u := range othersOf(t, m, "etcd", survivor) {
		if err := m.ForceRemoveUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 3*time.Minute, "status naming rebuild-cluster on "+survivor, func() bool {
		st := unitStatusOf(t, m, "etcd", survivor)
		return strings.HasPrefix(st, "blocked: quorum lost: 2 of 3 members unreachable") &&
			strings.Contains(st, "run the rebuild-cluster action on "+survivor)
	})
	// The dry run first (issue 23): it names the source and the members lost, and changes nothing.
	dry := runOK(t, m, survivor, "rebuild-cluster", nil)
	t.Logf("dry run: %v", dry.Results)
	if result(dry, "source") != survivor || !strings.Contains(result(dry, "result"), "nothing was changed") ||
		strings.Count(result(dry, "lost-members"), "etcd/") != 2 || !strings.Contains(result(dry, "plan"), "does not answer") {
		t.Fatalf("rebuild-cluster dry run: %v", dry.Results)
	}
	if st := unitStatusOf(t, m, "etcd", survivor); !strings.HasPrefix(st, "blocked: quorum lost") {
		t.Fatalf("the dry run changed the cluster: status %q", st)
	}
	res := runOK(t, m, survivor, "rebuild-cluster", map[string]any{"confirm": true})
	if !strings.Contains(result(res, "result"), "rebuilt from "+survivor) {
		t.Fatalf("rebuild-cluster: %v", res.Results)
	}
	if result(res, "revision") != result(dry, "source-revision") {
		t.Fatalf("the dry run promised revision %s, the rebuild kept %s", result(dry, "source-revision"), result(res, "revision"))
	}
	waitActive(t, m, 3*time.Minute)
	assertCluster(t, m, keys)
	if _, err := m.AddUnit(ctx, "etcd", 2); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 5*time.Minute)
	assertCluster(t, m, keys)
	for unit, n := range unitKeys(t, m, "etcd", "bulk/") {
		if n != 500 {
			t.Errorf("%s holds %d of 500 keys", unit, n)
		}
	}
}

// Issue 24: the operator acts on the status message at once, while the dead leader's lease still holds, so
// the unit that rebuilds is not the leader yet; it becomes the leader only afterwards.
func TestGivenTheLeaderLostWhenRebuildClusterRunsBeforeLeadershipMovesThenAddUnitGrowsItBackToThreeVoters(t *testing.T) {
	m := deploy3With(t, newModelOpts(t, client.Options{UpdateStatusInterval: 20 * time.Second, LeaseDuration: time.Minute}))
	ctx := context.Background()
	keys := map[string]string{}
	put(t, m, keys, "survives", "a rebuild before leadership moves")
	leader := jujuLeader(t, m)
	others := othersOf(t, m, "etcd", leader)
	survivor := others[0]
	for _, u := range []string{leader, others[1]} {
		if err := m.ForceRemoveUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 2*time.Minute, "status naming rebuild-cluster on "+survivor, func() bool {
		return strings.Contains(unitStatusOf(t, m, "etcd", survivor), "run the rebuild-cluster action on "+survivor)
	})
	res := runOK(t, m, survivor, "rebuild-cluster", map[string]any{"confirm": true})
	if !strings.Contains(result(res, "result"), "rebuilt from "+survivor) {
		t.Fatalf("rebuild-cluster: %v", res.Results)
	}
	if leaderNow(t, m) == survivor {
		t.Fatalf("%s already led when the action ended: the lease expired too soon to test this ordering", survivor)
	}
	waitFor(t, 3*time.Minute, survivor+" leading", func() bool { return leaderNow(t, m) == survivor })
	if _, err := m.AddUnit(ctx, "etcd", 2); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 4*time.Minute)
	assertCluster(t, m, keys) // three voters, one per unit, every key
}

// Issue 24, the other ordering: the unit with the freshest data never leads; the leader's own member is one
// of the stale ones it must wipe.
func TestGivenQuorumLostWhenRebuildClusterRunsOnAUnitThatNeverLeadsThenTheLeaderFollowsAndTheClusterRegrows(t *testing.T) {
	m := newModel(t)
	ctx := context.Background()
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 4}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 5*time.Minute)
	keys := map[string]string{}
	put(t, m, keys, "survives", "a rebuild on a unit that never leads")
	leader := jujuLeader(t, m)
	others := othersOf(t, m, "etcd", leader)
	survivor := others[0]
	for _, u := range others[1:] {
		if err := m.ForceRemoveUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 2*time.Minute, "status saying quorum is lost", func() bool {
		return strings.HasPrefix(unitStatusOf(t, m, "etcd", survivor), "blocked: quorum lost: 2 of 4 members unreachable")
	})
	// The charm names the member with the most log applied; with equal logs that may be the leader's, and
	// force=true is how the operator keeps this unit's data instead.
	res := runOK(t, m, survivor, "rebuild-cluster", map[string]any{"force": true, "confirm": true})
	if !strings.Contains(result(res, "result"), "rebuilt from "+survivor) {
		t.Fatalf("rebuild-cluster: %v", res.Results)
	}
	if _, err := m.AddUnit(ctx, "etcd", 1); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 4*time.Minute)
	if got := leaderNow(t, m); got != leader {
		t.Fatalf("leadership moved to %s: the scenario needs %s to lead throughout", got, leader)
	}
	assertCluster(t, m, keys)
}

// leaderNow is the unit holding Juju leadership, "" while none does.
func leaderNow(t *testing.T, m *client.Model) string {
	t.Helper()
	infos, err := m.Units(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range infos {
		if u.Leader && strings.HasPrefix(u.Name, "etcd/") {
			return u.Name
		}
	}
	return ""
}

func TestGivenANewerEmbeddedEtcdWhenRefreshedThenMembersUpgradeOneAtATimeLeaderLastAndAMinorSkipIsRefused(t *testing.T) {
	patch, skip := charmWithEtcdVersion(t, "3.7.99"), charmWithEtcdVersion(t, "3.9.0")
	m := deploy3(t)
	ctx := context.Background()
	keys := map[string]string{}
	put(t, m, keys, "before", "upgrade")
	cli := adminClient(t, m)
	raftLeader := raftLeaderUnit(t, m)

	// Sample who runs what while the refresh rolls.
	addrs := map[string]string{}
	for _, u := range aliveUnits(t, m) {
		addrs[u] = unitInfo(t, m, u).Address
	}
	watch := watchVersions(cli, addrs, "3.7.99")
	if err := m.Refresh(ctx, "etcd", patch); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 6*time.Minute, "every member on etcd 3.7.99", func() bool { return watch.upgraded() == 3 })
	upgradedOrder, maxDown := watch.finish()
	waitActive(t, m, 3*time.Minute)
	t.Logf("members moved to etcd 3.7.99 in the order %v (raft leader %s), at most %d down at once", upgradedOrder, raftLeader, maxDown)
	if upgradedOrder[2] != raftLeader || maxDown > 1 {
		t.Fatalf("upgrade order %v (raft leader was %s), at most %d members down at once", upgradedOrder, raftLeader, maxDown)
	}
	assertCluster(t, m, keys)

	pids := map[string]int{}
	for _, u := range aliveUnits(t, m) {
		pids[u] = etcdPID(t, m, u)
	}
	if err := m.Refresh(ctx, "etcd", skip); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	for unit, st := range unitStatuses(t, m) {
		if !strings.HasPrefix(st, "blocked: ") || !strings.Contains(st, "one minor version at a time") {
			t.Errorf("%s after refreshing to etcd 3.9.0: %q", unit, st)
		}
		if pid := etcdPID(t, m, unit); pid != pids[unit] {
			t.Errorf("%s restarted etcd (pid %d, then %d) on a refused upgrade", unit, pids[unit], pid)
		}
	}
	for unit, v := range memberVersions(cli, addrs) {
		if v != "3.7.99" {
			t.Errorf("%s runs %q after the refused refresh", unit, v)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
