package charm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcd-charm/etcd/localmodel/client"
)

// The charm replaces a broken member by itself: out of the cluster, its data kept aside, back in as a
// learner (docs/operations.md, "A broken member"). Each run breaks another unit's member, so that no unit
// reaches the bound on kept copies.

func TestReliabilityGivenTrafficWhenBytesInAStoppedMembersDatabaseAreFlippedThenTheCharmReplacesTheMember(t *testing.T) {
	runScenario(t, scenario{name: "corrupt-db", units: 3, ci: true, inject: func(t *testing.T, f *faultRun) {
		units := aliveUnits(t, f.m)
		victim := units[f.run%len(units)]
		before := memberIDOf(t, f.m, victim)
		// A value every member holds; once the victim serves it, its database file holds it too.
		marker := fmt.Sprintf("flip-me-%d-", time.Now().UnixNano())
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := adminClient(t, f.m).Raw().Put(ctx, "corrupt-db/marker", marker+strings.Repeat("v", 200)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, victim+" serving the marker", func() bool {
			resp, err := unitClient(t, f.m, victim).Raw().Get(ctx, "corrupt-db/marker")
			return err == nil && len(resp.Kvs) == 1
		})
		// Stopped and flipped in one juju-exec, so that no hook starts etcd between the two. Every copy of the
		// value in the file is flipped, live page or freed: bbolt's structure stays intact, so only etcd's
		// own hash check against the peers can tell.
		db := filepath.Join(unitInfo(t, f.m, victim).Root, "var/lib/etcd/member/snap/db")
		out := execOK(t, f.m, victim, "systemctl stop etcd.service && python3 - <<'EOF'\n"+
			"p, m = "+fmt.Sprintf("%q, %q", db, marker)+"\n"+
			"d = bytearray(open(p, 'rb').read())\nm = m.encode()\nn, i = 0, d.find(m)\n"+
			"while i >= 0:\n    d[i + len(m)] ^= 0x01\n    n += 1\n    i = d.find(m, i + 1)\n"+
			"open(p, 'r+b').write(d)\nprint('flipped', n)\nEOF")
		if !strings.Contains(out, "flipped") || strings.Contains(out, "flipped 0") {
			t.Fatalf("the marker is not in %s's database: %q", victim, out)
		}
		t.Logf("stopped %s (member %x) and flipped a byte of the marker's value in its database: %s", victim, before,
			strings.TrimSpace(out))
		waitReplaced(t, f.m, victim, before, 1+f.run/len(units))
		// The crash loop was etcd's own initial corruption check refusing the data, not some other failure.
		log, err := os.ReadFile(unitInfo(t, f.m, victim).WorkloadLog)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(log), "checkInitialHashKV failed") {
			t.Errorf("%s's etcd log never says its initial corruption check failed", victim)
		}
	}})
}

func TestReliabilityGivenTrafficWhenAStoppedMembersDataDirIsDeletedThenTheCharmReplacesTheMember(t *testing.T) {
	runScenario(t, scenario{name: "data-dir-lost", units: 3, ci: true, inject: func(t *testing.T, f *faultRun) {
		units := aliveUnits(t, f.m)
		victim := units[f.run%len(units)]
		before := memberIDOf(t, f.m, victim)
		dataDir := filepath.Join(unitInfo(t, f.m, victim).Root, "var/lib/etcd")
		execOK(t, f.m, victim, "systemctl stop etcd.service && rm -rf "+dataDir)
		t.Logf("stopped %s (member %x) and deleted its data dir", victim, before)
		waitReplaced(t, f.m, victim, before, 0)
	}})
}

func TestGivenACorruptAlarmNamingAFollowerWhenItsUnitRunsAHookThenTheMemberIsReplacedTheAlarmGoesAndWritesResume(t *testing.T) {
	m := deploy3(t)
	keys := map[string]string{}
	put(t, m, keys, "before", "the alarm")
	leader := raftLeaderUnit(t, m)
	victim := othersOf(t, m, "etcd", leader)[0]
	before := memberIDOf(t, m, victim)
	cli := adminClient(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// As etcd's compact-hash check raises it on a hash mismatch: the leader names the member that differs.
	if _, err := pb.NewMaintenanceClient(cli.Raw().ActiveConnection()).Alarm(ctx, &pb.AlarmRequest{
		Action: pb.AlarmRequest_ACTIVATE, MemberID: before, Alarm: pb.AlarmType_CORRUPT}); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Raw().Put(ctx, "during", "the alarm"); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("a write under CORRUPT: %v, want it refused", err)
	}
	t.Logf("CORRUPT raised naming %s (member %x); writes refused", victim, before)
	waitReplaced(t, m, victim, before, 1)
	waitFor(t, time.Minute, "the alarm gone", func() bool {
		alarms, err := cli.Alarms(ctx)
		return err == nil && len(alarms) == 0
	})
	put(t, m, keys, "after", "the replacement")
	waitActive(t, m, 2*time.Minute)
	assertCluster(t, m, keys)
}

func TestGivenASingleUnitWhoseDataDirIsLostWhenAHookRunsThenItBlocksNamingTheRestoreAndStartsNothing(t *testing.T) {
	m := newModel(t)
	ctx := context.Background()
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 1}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 3*time.Minute)
	dataDir := filepath.Join(unitInfo(t, m, "etcd/0").Root, "var/lib/etcd")
	execOK(t, m, "etcd/0", "systemctl stop etcd.service && rm -rf "+dataDir)
	waitFor(t, time.Minute, "etcd/0 blocked", func() bool {
		return strings.HasPrefix(unitStatuses(t, m)["etcd/0"], "blocked: ")
	})
	st := unitStatuses(t, m)["etcd/0"]
	if !strings.Contains(st, "is gone") || !strings.Contains(st, "restore action") {
		t.Errorf("etcd/0: %q, want the lost data dir and the restore action named", st)
	}
	// Nothing was started on the empty dir: a lone member there would be a new, empty cluster.
	if svc, err := m.Service(ctx, "etcd/0", "etcd"); err != nil || svc.ActiveState == "active" {
		t.Errorf("etcd runs on the empty data dir: %+v %v", svc, err)
	}
}

// memberIDOf is the ID of the member serving on unit's address, 0 when none does.
func memberIDOf(t *testing.T, m *client.Model, unit string) uint64 {
	t.Helper()
	addr := unitInfo(t, m, unit).Address
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	members, err := adminClient(t, m).Members(ctx)
	if err != nil {
		return 0
	}
	for _, mem := range members {
		for _, u := range mem.PeerURLs {
			if strings.Contains(u, "//"+addr+":") && !mem.IsLearner {
				return mem.ID
			}
		}
	}
	return 0
}

// waitReplaced waits until a new voter serves on unit's address in place of member before, and checks that
// the broken data was kept aside (kept copies at least, when kept > 0) and said so in the unit's log.
func waitReplaced(t *testing.T, m *client.Model, unit string, before uint64, kept int) {
	t.Helper()
	waitFor(t, 4*time.Minute, unit+"'s member replaced by a new voter", func() bool {
		id := memberIDOf(t, m, unit)
		return id != 0 && id != before
	})
	copies, err := filepath.Glob(filepath.Join(unitInfo(t, m, unit).Root, "var/lib/etcd.broken-*"))
	if err != nil || len(copies) < kept {
		t.Errorf("%s keeps %v aside, want at least %d copies of the broken data", unit, copies, kept)
	}
	lines, err := m.DebugLog(unit)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if strings.Contains(l, "replacing member etcd-"+strings.TrimPrefix(unit, "etcd/")+":") {
			t.Logf("%s now runs member %x; the charm said: %s", unit, memberIDOf(t, m, unit), l)
			return
		}
	}
	t.Errorf("%s's log never says why its member was replaced", unit)
}

// restartOrder lists the units whose members the charm restarted in turn, in order, from the debug log.
func restartOrder(t *testing.T, m *client.Model) []string {
	t.Helper()
	return loggedUnits(t, m, " restarting etcd-")
}
