package charm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/version"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-charm/etcd/internal/robustness"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// charmWithEtcd36 is a landed revision of this repository that embeds etcd 3.6.16: the charm an
// operator runs before refreshing to the 3.7 line. Only landed revisions may be named here.
const charmWithEtcd36 = "1461e6d"

// Given a three-member cluster deployed by the charm that embeds etcd 3.6.16, serving recorded traffic, when
// it is refreshed to this charm (etcd 3.7), then each member snapshots the cluster, the members move one at
// a time with the raft leader last and never two down together, the storage moves to 3.7 once all run it,
// and the recorded history is linearizable with every acknowledged write readable after.
func TestGivenAnEtcd36ClusterUnderTrafficWhenRefreshedTo37ThenMembersMoveOneAtATimeLeaderLastAndNoWriteIsLost(t *testing.T) {
	old := charmAtRevision(t, charmWithEtcd36)
	m := newModelOpts(t, client.Options{UpdateStatusInterval: 20 * time.Second})
	ctx := context.Background()
	if _, err := m.Deploy(ctx, old, client.DeployOptions{App: "etcd", NumUnits: 3}); err != nil {
		t.Fatal(err)
	}
	waitAppsActive(t, m, 6*time.Minute, "etcd")
	cli := adminClient(t, m)
	addrs := map[string]string{}
	for _, u := range aliveUnits(t, m) {
		addrs[u] = unitInfo(t, m, u).Address
	}
	for u, v := range memberVersions(cli, addrs) {
		if !strings.HasPrefix(v, "3.6.") {
			t.Fatalf("given: %s runs etcd %q, want the 3.6 line", u, v)
		}
	}
	from := memberVersions(cli, addrs)[aliveUnits(t, m)[0]]
	keys := map[string]string{}
	put(t, m, keys, "before", "the 3.7 refresh")
	putMany(t, cli, "bulk", 300)

	// Recorded traffic from several clients, each on its own connection, all through the refresh.
	var kvs []clientv3.KV
	for range recorderClients {
		kvs = append(kvs, adminClient(t, m).Raw())
	}
	began := time.Now()
	rec := robustness.Start(kvs, robustness.Traffic{
		KeyPrefix: fmt.Sprintf("upgrade37/%d/", began.UnixNano()), MaxDuration: 15 * time.Minute,
		MaxOperations: 300000, Seed: uint64(began.UnixNano()),
	})
	defer rec.Stop()
	waitFor(t, 30*time.Second, "acknowledged writes before the refresh", func() bool { return rec.AcknowledgedWrites() > 20 })

	// Who runs what, sampled while the refresh rolls.
	raftLeader := raftLeaderUnit(t, m)
	watch := watchVersions(cli, addrs, version.Version)

	if err := m.Refresh(ctx, "etcd", artefacts.charm); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 8*time.Minute, "every member on etcd "+version.Version, func() bool { return watch.upgraded() == 3 })
	upgradedOrder, maxDown := watch.finish()
	waitActive(t, m, 4*time.Minute)
	waitHealthy(t, m)
	// Writes acknowledged by the upgraded cluster belong in the history too.
	upgraded := rec.AcknowledgedWrites()
	waitFor(t, 30*time.Second, "writes acknowledged after the upgrade", func() bool { return rec.AcknowledgedWrites() > upgraded+100 })
	env := reliabilityEnv(t)
	report := stopAndCheck(t, m, rec, env, "upgrade-36-37")
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	violations := append(report.Violations, robustness.CheckCluster(cctx, cli, memberNames(aliveUnits(t, m)))...)
	t.Logf("members moved from etcd %s to %s in the order %v (raft leader %s), at most %d down at once; %d operations "+
		"recorded, %d acknowledged, longest write gap %s", from, version.Version, upgradedOrder, raftLeader, maxDown,
		report.Stats.Operations, report.Stats.Acknowledged, report.Stats.LongestWriteGap.Round(time.Millisecond))
	for _, v := range violations {
		t.Errorf("violation: %s", v)
	}
	if upgradedOrder[2] != raftLeader || maxDown > 1 {
		t.Errorf("upgrade order %v (raft leader was %s), at most %d members down at once", upgradedOrder, raftLeader, maxDown)
	}

	// Then etcd moves its storage to the new minor, and each unit keeps the snapshot it took first.
	minor := strings.Join(strings.Split(version.Version, ".")[:2], ".")
	waitFor(t, 2*time.Minute, "every member's storage version on "+minor, func() bool {
		for _, addr := range addrs {
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			st, err := cli.EndpointStatus(sctx, "https://"+addr+":2379")
			cancel()
			if err != nil || !strings.HasPrefix(st.StorageVersion, minor+".") {
				return false
			}
		}
		return true
	})
	for _, u := range aliveUnits(t, m) {
		dir := filepath.Join(unitInfo(t, m, u).Root, "var/lib/etcd-snapshots", "pre-upgrade-"+from+"-to-"+version.Version)
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 1 || !strings.HasSuffix(entries[0].Name(), ".tar.gz") {
			t.Errorf("%s: want one snapshot archive in %s, found %v (%v)", u, dir, entries, err)
		}
	}
	assertCluster(t, m, keys)
	for unit, n := range unitKeys(t, m, "etcd", "bulk/") {
		if n != 300 {
			t.Errorf("%s holds %d of 300 keys after the upgrade", unit, n)
		}
	}
}
