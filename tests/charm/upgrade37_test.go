package charm_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/version"

	"github.com/etcd-charm/etcd/internal/pki"
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
	rec := recordTraffic(t, m, "upgrade37/", 15*time.Minute, "the refresh")
	defer rec.Stop()

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

// etcd36Line builds the charm of the etcd 3.6 line: the last landed 3.6 revision with the patches kept in
// release/etcd-3.6, as an operator would build it.
func etcd36Line(t *testing.T) string {
	t.Helper()
	patches, err := filepath.Glob(filepath.Join(repoRoot(), "release", "etcd-3.6", "*.patch"))
	if err != nil || len(patches) == 0 {
		t.Fatalf("no patches in release/etcd-3.6: %v", err)
	}
	return charmAtRevision(t, charmWithEtcd36, patches...) // Glob sorts by name, the order they apply in
}

// Given a three-member cluster on this charm (etcd 3.7) serving recorded traffic, when a refresh to the 3.6
// line is tried before etcd's downgrade is enabled, it is refused and nothing moves; when the downgrade
// action has enabled it, the refresh moves the members to etcd 3.6 one at a time, the raft leader last, and
// the history is linearizable with every key readable after.
func TestGivenAnEtcd37ClusterUnderTrafficWhenTheDowngradeActionRunsAndThe36LineIsRefreshedToThenMembersMoveDownOneAtATimeLeaderLast(t *testing.T) {
	const target = "3.6.16" // what the 3.6 line embeds
	line36 := etcd36Line(t)
	m := newModelOpts(t, client.Options{UpdateStatusInterval: 20 * time.Second})
	ctx := context.Background()
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 3}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 5*time.Minute)
	cli := adminClient(t, m)
	addrs := map[string]string{}
	for _, u := range aliveUnits(t, m) {
		addrs[u] = unitInfo(t, m, u).Address
	}
	keys := map[string]string{}
	put(t, m, keys, "before", "the downgrade")
	putMany(t, cli, "bulk", 300)

	// Without etcd's downgrade enabled, the 3.6 line refuses: every unit blocks and every member stays.
	if err := m.Refresh(ctx, "etcd", line36); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Minute, "every unit refusing the refresh", func() bool {
		for _, st := range unitStatuses(t, m) {
			if !strings.Contains(st, "minor downgrade") {
				return false
			}
		}
		return true
	})
	for u, v := range memberVersions(cli, addrs) {
		if v != version.Version {
			t.Fatalf("%s runs etcd %q after a refused refresh, want %s", u, v, version.Version)
		}
	}
	if err := m.Refresh(ctx, "etcd", artefacts.charm); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 3*time.Minute)

	rec := recordTraffic(t, m, "downgrade36/", 15*time.Minute, "the downgrade")
	defer rec.Stop()

	res := runOK(t, m, "etcd/leader", "downgrade", nil)
	if got := result(res, "target"); got != "3.6" {
		t.Fatalf("downgrade target %q (%v), want 3.6", got, res)
	}
	t.Logf("downgrade action: %s", result(res, "output"))
	// The action returns only once etcd has moved every member's storage to 3.6: a member restarted onto 3.6
	// before that would never start again (etcd 3.6 refuses 3.7 storage).
	for u, addr := range addrs {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := cli.EndpointStatus(sctx, "https://"+addr+":2379")
		cancel()
		if err != nil || !strings.HasPrefix(st.StorageVersion, "3.6.") {
			t.Fatalf("%s when the downgrade action returned: storage version %q (%v), want 3.6", u, st.StorageVersion, err)
		}
	}
	raftLeader := raftLeaderUnit(t, m)
	watch := watchVersions(cli, addrs, target)
	if err := m.Refresh(ctx, "etcd", line36); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 8*time.Minute, "every member on etcd "+target, func() bool { return watch.upgraded() == 3 })
	order, maxDown := watch.finish()
	waitActive(t, m, 4*time.Minute)
	waitHealthy(t, m)
	moved := rec.AcknowledgedWrites()
	waitFor(t, 30*time.Second, "writes acknowledged after the downgrade", func() bool { return rec.AcknowledgedWrites() > moved+100 })
	report := stopAndCheck(t, m, rec, reliabilityEnv(t), "downgrade-37-36")
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	violations := append(report.Violations, robustness.CheckCluster(cctx, cli, memberNames(aliveUnits(t, m)))...)
	t.Logf("members moved from etcd %s to %s in the order %v (raft leader %s), at most %d down at once; %d operations "+
		"recorded, %d acknowledged, longest write gap %s", version.Version, target, order, raftLeader, maxDown,
		report.Stats.Operations, report.Stats.Acknowledged, report.Stats.LongestWriteGap.Round(time.Millisecond))
	for _, v := range violations {
		t.Errorf("violation: %s", v)
	}
	if order[2] != raftLeader || maxDown > 1 {
		t.Errorf("downgrade order %v (raft leader was %s), at most %d members down at once", order, raftLeader, maxDown)
	}
	for u, addr := range addrs {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := cli.EndpointStatus(sctx, "https://"+addr+":2379")
		cancel()
		if err != nil || !strings.HasPrefix(st.StorageVersion, "3.6.") || st.DowngradeTarget != "" {
			t.Errorf("%s after the downgrade: %+v %v, want storage on 3.6 and no downgrade left enabled", u, st, err)
		}
	}
	assertCluster(t, m, keys)
	for unit, n := range unitKeys(t, m, "etcd", "bulk/") {
		if n != 300 {
			t.Errorf("%s holds %d of 300 keys after the downgrade", unit, n)
		}
	}
	// The 3.6 line keeps the 3.7 line's member CN: renamed while the raft leader still ran 3.7 (which admits
	// and dials only etcd-member peers), a member restarted onto 3.6 could not reach it again.
	for _, u := range aliveUnits(t, m) {
		cert, err := pki.ParseCertificate(memberKeyPair(t, m, u).cert)
		if err != nil {
			t.Fatalf("%s's member certificate: %v", u, err)
		}
		if cert.Subject.CommonName != "etcd-member" {
			t.Errorf("%s's member certificate after the downgrade has CN %q, want etcd-member", u, cert.Subject.CommonName)
		}
	}
}
