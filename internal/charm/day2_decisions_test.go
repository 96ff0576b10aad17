package charm

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/cluster"
)

func TestGivenRevisionsWhenBumpingForARestoreThenTheRestoredRevisionPassesEverythingSeen(t *testing.T) {
	cases := []struct{ snapshot, current int64 }{{100, 100}, {100, 5000}, {100, 0}, {9_000_000, 10}}
	for _, tc := range cases {
		bump := revisionBump(tc.snapshot, tc.current)
		if got := tc.snapshot + int64(bump); got < tc.current+revisionBumpFloor {
			t.Errorf("snapshot %d, current %d: restored revision %d is not %d past the current one",
				tc.snapshot, tc.current, got, revisionBumpFloor)
		}
	}
}

func TestGivenEpochsMadeLaterWhenComparedThenTheyOrderByTime(t *testing.T) {
	a, err := newEpoch(time.Unix(100, 0), "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := newEpoch(time.Unix(100, 1), a)
	c, _ := newEpoch(time.Unix(2000000000, 0), b)
	if !(a < b && b < c) {
		t.Fatalf("epochs out of order: %s %s %s", a, b, c)
	}
}

func TestGivenAUnitWhoseClockRunsBehindWhenItStartsAnIdentityThenItsEpochIsStillTheNewest(t *testing.T) {
	published, _ := newEpoch(time.Unix(2000000000, 0), "")
	behind, err := newEpoch(time.Unix(1999996400, 0), published) // an hour slow
	if err != nil {
		t.Fatal(err)
	}
	if behind <= published {
		t.Fatalf("epoch %s from a slow clock sorts before the published %s: the leader would never adopt it", behind, published)
	}
}

func probe(name string, learner, reachable bool, index uint64, rev int64) memberProbe {
	return memberProbe{Member: cluster.Member{Name: name, IsLearner: learner}, Reachable: reachable,
		Status: cluster.EndpointStatus{RaftIndex: index, Revision: rev}}
}

func TestGivenMembersWhenAssessingQuorumThenTheSurvivorHasTheMostRecentData(t *testing.T) {
	a := assessQuorum([]memberProbe{
		probe("etcd-0", false, true, 50, 10),
		probe("etcd-1", false, false, 0, 0),
		probe("etcd-2", false, false, 0, 0),
	})
	if !a.Lost() || a.Survivor == nil || a.Survivor.Member.Name != "etcd-0" {
		t.Fatalf("2 of 3 gone: %+v", a)
	}
	if want := "quorum lost: 2 of 3 members unreachable; run the rebuild-cluster action on etcd/0 (it shows what a " +
		"rebuild keeps and loses; confirm=true rebuilds)"; a.message() != want {
		t.Fatalf("message %q, want %q", a.message(), want)
	}

	a = assessQuorum([]memberProbe{
		probe("etcd-0", false, true, 50, 10),
		probe("etcd-1", false, true, 70, 12),
		probe("etcd-2", true, true, 90, 13), // a learner is never the one to rebuild from
		probe("etcd-3", false, false, 0, 0),
		probe("etcd-4", false, false, 0, 0),
		probe("etcd-5", false, false, 0, 0),
	})
	if !a.Lost() || a.Survivor.Member.Name != "etcd-1" || a.Voters != 5 || a.ReachableVoters != 2 {
		t.Fatalf("3 of 5 voters gone: %+v survivor %s", a, a.Survivor.Member.Name)
	}

	a = assessQuorum([]memberProbe{
		probe("etcd-0", false, true, 50, 10),
		probe("etcd-1", false, true, 50, 10),
		probe("etcd-2", false, false, 0, 0),
	})
	if a.Lost() || a.Survivor.Member.Name != "etcd-0" {
		t.Fatalf("1 of 3 gone keeps quorum; equal data picks by name: %+v", a)
	}
	if a := assessQuorum(nil); a.Lost() {
		t.Fatal("no members known is not a verdict of quorum loss")
	}
}

func TestGivenACompactRevisionParamWhenValidatedThenFutureAndCompactedOnesFailSayingWhatToPass(t *testing.T) {
	cases := []struct {
		param   int64
		want    int64
		mention string
	}{
		{0, 500, ""},
		{300, 300, ""},
		{500, 500, ""},
		{501, 0, "in the future"},
		{100, 0, "already compacted"},
		{99, 0, "already compacted"},
		{-3, 0, "not a positive integer"},
	}
	for _, tc := range cases {
		got, err := compactRevision(tc.param, 500, 100)
		switch {
		case tc.mention == "" && (err != nil || got != tc.want):
			t.Errorf("%d: %d %v, want %d", tc.param, got, err, tc.want)
		case tc.mention != "" && (err == nil || !strings.Contains(err.Error(), tc.mention)):
			t.Errorf("%d: %v, want an error mentioning %q", tc.param, err, tc.mention)
		}
	}
}

func TestGivenMembersWhenOrderingDefragThenFollowersGoFirstAndTheLeaderLast(t *testing.T) {
	ms := []cluster.Member{
		{ID: 1, Name: "etcd-0", ClientURLs: []string{"a"}},
		{ID: 2, Name: "etcd-1", ClientURLs: []string{"b"}},
		{ID: 3, Name: "etcd-2"}, // not started: nothing to defragment
		{ID: 4, Name: "etcd-3", ClientURLs: []string{"d"}},
	}
	var names []string
	for _, m := range defragOrder(ms, 1) {
		names = append(names, m.Name)
	}
	if strings.Join(names, ",") != "etcd-1,etcd-3,etcd-0" {
		t.Fatalf("order %v", names)
	}
}

func TestGivenEtcdVersionsWhenUpgradingThenPatchesAndOneMinorPassAndSkipsAndMinorDowngradesAreRefused(t *testing.T) {
	cases := []struct {
		from, to string
		mention  string
	}{
		{"3.6.16", "3.6.99", ""},
		{"3.6.99", "3.6.16", ""},
		{"3.6.16", "3.7.0", ""},
		{"3.6.11", "3.7.4", ""},
		{"3.6.10", "3.7.4", "every member on 3.6.11 or later first"},
		{"3.7.4", "3.7.0", ""},
		{"3.6.16", "3.8.0", "one minor version at a time; refresh to a charm with etcd 3.7 first"},
		{"3.6.16", "3.5.20", "downgrade procedure"},
		{"3.6.16", "4.0.0", "major version"},
		{"banana", "3.6.16", "installed etcd version"},
	}
	for _, tc := range cases {
		err := checkUpgrade(tc.from, tc.to)
		switch {
		case tc.mention == "" && err != nil:
			t.Errorf("%s -> %s refused: %v", tc.from, tc.to, err)
		case tc.mention != "" && (err == nil || !strings.Contains(err.Error(), tc.mention)):
			t.Errorf("%s -> %s: %v, want a refusal mentioning %q", tc.from, tc.to, err, tc.mention)
		}
	}
}

func TestGivenPeriodicSnapshotsWhenPruningThenOnlyTheNewestArchivesAreKeptAndKilledSnapshotsLeaveNothing(t *testing.T) {
	names := []string{
		"etcd-snapshot-2026-01-03-00.00.00.tar.gz",
		"etcd-snapshot-2026-01-01-00.00.00.tar.gz",
		"notes.txt",
		"etcd-snapshot-2026-01-02-00.00.00.tar.gz",
		".snapshot-20260104T000000.db",
	}
	got := snapshotsToPrune(names, 2)
	if !slices.Equal(got, []string{".snapshot-20260104T000000.db", "etcd-snapshot-2026-01-01-00.00.00.tar.gz"}) {
		t.Fatalf("pruned %v", got)
	}
	if got := snapshotsToPrune(names, 3); !slices.Equal(got, []string{".snapshot-20260104T000000.db"}) {
		t.Fatalf("nothing beyond retention, but the leftover of a killed snapshot: pruned %v", got)
	}
	// An archive a killed hook left half written goes too; other files are the operator's.
	if got := snapshotsToPrune([]string{"etcd-snapshot-2026-01-05-00.00.00.tar.gz.tmp", "notes.tmp"}, 3); !slices.Equal(got,
		[]string{"etcd-snapshot-2026-01-05-00.00.00.tar.gz.tmp"}) {
		t.Fatalf("pruned %v", got)
	}
}

func TestGivenPeriodicSnapshotSettingsWhenCheckedThenBadOnesAreProblemsAndDueFollowsTheLastAttempt(t *testing.T) {
	if ps := (periodicConfig{Interval: "", Retention: 7}).problems(); len(ps) != 0 {
		t.Fatalf("off is valid: %v", ps)
	}
	ps := periodicConfig{Interval: "10s", Retention: 0}.problems()
	if len(ps) != 2 || ps[0].Option != "snapshot_interval" || ps[1].Option != "snapshot_retention" {
		t.Fatalf("problems %v", ps)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	if !snapshotDue(periodicRecord{}, time.Hour, now) {
		t.Fatal("never taken: due")
	}
	if snapshotDue(periodicRecord{LastAttempt: now.Add(-30 * time.Minute)}, time.Hour, now) {
		t.Fatal("taken half an interval ago: not due")
	}
	if snapshotDue(periodicRecord{}, 0, now) {
		t.Fatal("off: never due")
	}
}

func TestGivenSizesWhenShownThenTheyReadLikeDuH(t *testing.T) {
	for n, want := range map[int64]string{512: "512B", 2048: "2.0K", 15 << 20: "15M", 3 << 30: "3.0G"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestGivenAnInstalledEtcdBinaryWhenAskedThenItsVersionIsRead(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "etcd")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho 'etcd Version: 3.6.7'\necho 'Go Version: go1.26'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if v := binaryVersion(t.Context(), script); v != "3.6.7" {
		t.Fatalf("version %q", v)
	}
	if v := binaryVersion(t.Context(), filepath.Join(dir, "missing")); v != "" {
		t.Fatalf("a missing binary has no version, got %q", v)
	}
}

func TestGivenARequestedDowngradeWhenItsTargetIsCheckedThenOnlyThePreviousMinorIsAccepted(t *testing.T) {
	for _, tc := range []struct{ running, requested, want, mention string }{
		{"3.7.4", "3.6", "3.6", ""},
		{"3.7.4", "3.6.16", "3.6", ""},
		{"3.7.4", "v3.6", "3.6", ""},
		{"3.7.4", "3.5", "", "only to 3.6"},
		{"3.7.4", "3.7", "", "only to 3.6"},
		{"3.7.4", "2.6", "", "only to 3.6"},
		{"3.7.4", "three", "", "not a minor version"},
		{"3.7.4", "", "3.6", ""},
		{"4.0.1", "", "", "no minor to downgrade to"},
	} {
		got, err := downgradeTarget(tc.running, tc.requested)
		switch {
		case tc.mention == "" && (err != nil || got != tc.want):
			t.Errorf("%s to %q: %q %v, want %q", tc.running, tc.requested, got, err, tc.want)
		case tc.mention != "" && (err == nil || !strings.Contains(err.Error(), tc.mention)):
			t.Errorf("%s to %q: %v, want a refusal mentioning %q", tc.running, tc.requested, err, tc.mention)
		}
	}
}

func TestGivenMembersStorageVersionsWhenADowngradeWaitsThenMembersNotYetOnTheTargetMinorAreNamed(t *testing.T) {
	storage := map[string]string{"etcd-2": "3.7.0", "etcd-0": "3.6.0", "etcd-1": "", "etcd-3": "3.60.0"}
	if got := storageNotOn(storage, "3.6"); !slices.Equal(got, []string{"etcd-1", "etcd-2", "etcd-3"}) {
		t.Errorf("behind %v, want etcd-1 (no answer), etcd-2 (3.7) and etcd-3 (3.60)", got)
	}
	if got := storageNotOn(map[string]string{"etcd-0": "3.6.0", "etcd-1": "3.6.0"}, "3.6"); got != nil {
		t.Errorf("behind %v when every member is on 3.6", got)
	}
}
