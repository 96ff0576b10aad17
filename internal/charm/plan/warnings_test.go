package plan

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/cluster"
)

func TestGivenAHealthyMemberWhenTroubleIsNearThenItWarnsAheadAndOtherwiseSaysNothing(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	members := []cluster.Member{member(1, "a", false), member(2, "b", false)}
	base := func() cluster.HealthReport {
		r := report(1, members, map[uint64]bool{1: true, 2: true})
		r.Endpoints[0].Status = &cluster.EndpointStatus{DBSize: 100 << 20, DBSizeQuota: 2 << 30, RaftIndex: 50000, RaftAppliedIndex: 50000}
		r.Endpoints[1].Status = &cluster.EndpointStatus{DBSize: 100 << 20, DBSizeQuota: 2 << 30, RaftIndex: 49990, RaftAppliedIndex: 49990}
		return r
	}
	quiet := WarnFacts{Now: now, CertNotAfter: now.Add(300 * 24 * time.Hour), SnapshotInterval: time.Hour,
		LastSnapshot: now.Add(-50 * time.Minute), S3Related: true, LastBackup: now.Add(-50 * time.Minute),
		WALFsyncs: 5000, WALFsyncP99: 8 * time.Millisecond}
	if w := Warnings("https://b:2380", base(), quiet); len(w) != 0 {
		t.Fatalf("a healthy member with fresh snapshots warned: %v", w)
	}
	for name, tc := range map[string]struct {
		edit func(*cluster.HealthReport, *WarnFacts)
		want string
	}{
		"near quota":       {func(r *cluster.HealthReport, _ *WarnFacts) { r.Endpoints[1].Status.DBSize = 1800 << 20 }, "database at 87% of its 2048 MiB quota"},
		"lagging":          {func(r *cluster.HealthReport, _ *WarnFacts) { r.Endpoints[1].Status.RaftAppliedIndex = 30000 }, "member 20000 raft entries behind"},
		"certificate":      {func(_ *cluster.HealthReport, f *WarnFacts) { f.CertNotAfter = now.Add(10 * 24 * time.Hour) }, "member certificate expires in 240h0m0s"},
		"expired":          {func(_ *cluster.HealthReport, f *WarnFacts) { f.CertNotAfter = now.Add(-time.Hour) }, "expires now (expired)"},
		"snapshot overdue": {func(_ *cluster.HealthReport, f *WarnFacts) { f.LastSnapshot = now.Add(-3 * time.Hour) }, "periodic snapshot overdue (last good 3h0m0s ago)"},
		"backup overdue":   {func(_ *cluster.HealthReport, f *WarnFacts) { f.LastBackup = now.Add(-5 * time.Hour) }, "backup to S3 overdue (last good 5h0m0s ago)"},
		"slow disk":        {func(_ *cluster.HealthReport, f *WarnFacts) { f.WALFsyncP99 = 32 * time.Millisecond }, "slow disk: 99% of WAL fsyncs take up to 32ms"},
		"very slow disk":   {func(_ *cluster.HealthReport, f *WarnFacts) { f.WALFsyncP99 = time.Duration(math.MaxInt64) }, "beyond the histogram's last bucket"},
		"quota in days": {func(_ *cluster.HealthReport, f *WarnFacts) {
			f.Forecast, f.ForecastKnown = Forecast{PerDay: 300 << 20, ToQuota: 3 * 24 * time.Hour}, true
		}, "reaches the quota in 3.0 days"},
		"slow disk at join": {func(_ *cluster.HealthReport, f *WarnFacts) {
			f.WALFsyncs, f.JoinFsyncP99 = 10, 25*time.Millisecond
		}, "fsyncs measured on the data dir at join took up to 25ms"},
		"replaced": {func(_ *cluster.HealthReport, f *WarnFacts) {
			f.Replacement = Replacement{At: now.Add(-2 * time.Hour), Problem: "data dir /var/lib/etcd is gone"}
		}, "member replaced 2h0m0s ago (data dir /var/lib/etcd is gone)"},
		"replaced, data kept": {func(_ *cluster.HealthReport, f *WarnFacts) {
			f.Replacement = Replacement{At: now.Add(-time.Hour), Problem: "etcd exits at every start", KeptIn: "/var/lib/etcd.broken-x"}
		}, "(etcd exits at every start); its old data is kept in /var/lib/etcd.broken-x"},
	} {
		t.Run(name, func(t *testing.T) {
			r, f := base(), quiet
			tc.edit(&r, &f)
			w := Warnings("https://b:2380", r, f)
			if len(w) != 1 || !strings.Contains(w[0], tc.want) {
				t.Fatalf("warnings %q, want one saying %q", w, tc.want)
			}
		})
	}
	// A replacement a day old is no longer news.
	f := quiet
	f.Replacement = Replacement{At: now.Add(-25 * time.Hour), Problem: "data dir gone"}
	if w := Warnings("https://b:2380", base(), f); len(w) != 0 {
		t.Errorf("a replacement 25 h ago still shown: %v", w)
	}
	// Once the WAL histogram can judge, the probe at join is left to it.
	f = quiet
	f.JoinFsyncP99 = 25 * time.Millisecond
	if w := Warnings("https://b:2380", base(), f); len(w) != 0 {
		t.Errorf("the join probe spoke over 5000 WAL fsyncs: %v", w)
	}
	// Too few fsyncs to judge a disk by.
	f = quiet
	f.WALFsyncs, f.WALFsyncP99 = 20, time.Second
	if w := Warnings("https://b:2380", base(), f); len(w) != 0 {
		t.Errorf("a slow disk judged on 20 fsyncs: %v", w)
	}
	// Not related to S3, or snapshots off: nothing is overdue.
	f = quiet
	f.S3Related, f.LastBackup = false, now.Add(-100*time.Hour)
	if w := Warnings("https://b:2380", base(), f); len(w) != 0 {
		t.Errorf("backup overdue without S3: %v", w)
	}
	f = quiet
	f.SnapshotInterval, f.LastSnapshot = 0, now.Add(-100*time.Hour)
	if w := Warnings("https://b:2380", base(), f); len(w) != 0 {
		t.Errorf("snapshot overdue with snapshots off: %v", w)
	}
}
