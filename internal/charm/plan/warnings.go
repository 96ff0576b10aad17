package plan

import (
	"fmt"
	"time"

	"github.com/etcd-charm/etcd/internal/cluster"
)

// Ahead-of-time warnings: an active unit says what will need an operator soon, before it becomes an outage.
const (
	// QuotaWarnFraction of quota-backend-bytes: past it, a NOSPACE alarm (and refused writes) is near.
	QuotaWarnFraction = 0.8
	// LagWarnEntries of raft log behind the leader's index: a member that far behind is not keeping up.
	LagWarnEntries = 10000
	// CertWarnBefore expiry: the charm renews its own certificates at two thirds of their lifetime, so one
	// this close to expiry is one it could not renew.
	CertWarnBefore = 30 * 24 * time.Hour
	// WALFsyncWarn is etcd's guidance for the 99th percentile of WAL fsyncs: past it every write waits on the
	// disk, and heartbeats and elections start to suffer.
	WALFsyncWarn = 10 * time.Millisecond
	// WALFsyncMinSamples fsyncs before the histogram is judged: a new member's first few say little.
	WALFsyncMinSamples = 100
)

// WarnFacts are what the warnings are decided from, gathered by the charm.
type WarnFacts struct {
	Now time.Time
	// CertNotAfter is when this member's certificate expires (zero if unknown).
	CertNotAfter time.Time
	// SnapshotInterval is snapshot_interval (0: off); LastSnapshot the last good periodic snapshot, and
	// LastBackup the last good one in S3 (zero: never) when S3Related. Leader only: zero elsewhere.
	SnapshotInterval time.Duration
	LastSnapshot     time.Time
	S3Related        bool
	LastBackup       time.Time
	// WALFsyncs and WALFsyncP99 are this member's WAL fsyncs since it started and the bound of their 99th
	// percentile (zero: not read, the metrics listener is off).
	WALFsyncs   uint64
	WALFsyncP99 time.Duration
	// JoinFsyncP99 is the 99th percentile of the fsync probe taken on the data dir's disk when the member
	// joined (zero: none); it speaks until the WAL histogram has WALFsyncMinSamples.
	JoinFsyncP99 time.Duration
	// Replacement is this unit's last member replacement (zero At: none).
	Replacement Replacement
	// Forecast is where this member's live data is heading; ForecastKnown is false until the samples span
	// ForecastMinSpan.
	Forecast      Forecast
	ForecastKnown bool
}

// Replacement is what the charm found and did when it last replaced this unit's member.
type Replacement struct {
	At      time.Time `json:"at"`
	Problem string    `json:"problem"`
	KeptIn  string    `json:"kept-in,omitempty"` // where the old data went; "" when there was none
}

// ReplacementNotice is how long an active unit says that its member was replaced: the disk under it may be
// failing, which is for a person to look at.
const ReplacementNotice = 24 * time.Hour

// Warnings lists what an active member should say ahead of trouble, from its health report and facts.
func Warnings(peerURL string, r cluster.HealthReport, f WarnFacts) []string {
	var out []string
	self, leader := endpointOf(r, peerURL), leaderStatus(r)
	if self != nil && self.Status != nil {
		st := self.Status
		if st.DBSizeQuota > 0 && float64(st.DBSize) >= QuotaWarnFraction*float64(st.DBSizeQuota) {
			out = append(out, fmt.Sprintf("database at %d%% of its %s quota: compact and defrag, or raise quota_backend_bytes",
				st.DBSize*100/st.DBSizeQuota, mib(st.DBSizeQuota)))
		}
		if leader != nil && leader.RaftIndex > st.RaftAppliedIndex+LagWarnEntries {
			out = append(out, fmt.Sprintf("member %d raft entries behind the leader", leader.RaftIndex-st.RaftAppliedIndex))
		}
	}
	if w := QuotaWarning(f.Forecast, f.ForecastKnown); w != "" {
		out = append(out, w)
	}
	if !f.CertNotAfter.IsZero() && f.CertNotAfter.Sub(f.Now) < CertWarnBefore {
		out = append(out, fmt.Sprintf("member certificate expires %s, and was not renewed", until(f.CertNotAfter, f.Now)))
	}
	if r := f.Replacement; !r.At.IsZero() && f.Now.Sub(r.At) < ReplacementNotice {
		msg := fmt.Sprintf("member replaced %s ago (%s)", f.Now.Sub(r.At).Round(time.Minute), r.Problem)
		if r.KeptIn != "" {
			msg += "; its old data is kept in " + r.KeptIn
		}
		out = append(out, msg)
	}
	if f.WALFsyncs >= WALFsyncMinSamples && f.WALFsyncP99 > WALFsyncWarn {
		p99 := "beyond the histogram's last bucket"
		if f.WALFsyncP99 < time.Duration(1<<62) {
			p99 = "up to " + f.WALFsyncP99.String()
		}
		out = append(out, fmt.Sprintf("slow disk: 99%% of WAL fsyncs take %s, past etcd's %s guidance; every write waits on them",
			p99, WALFsyncWarn))
	}
	if f.WALFsyncs < WALFsyncMinSamples && f.JoinFsyncP99 > WALFsyncWarn {
		out = append(out, fmt.Sprintf("slow disk: 99%% of the fsyncs measured on the data dir at join took up to %s, past "+
			"etcd's %s guidance; every write will wait on them", f.JoinFsyncP99.Round(100*time.Microsecond), WALFsyncWarn))
	}
	if f.SnapshotInterval > 0 {
		// Two intervals: one missed run is a retry away, two is a pattern.
		if overdue(f.LastSnapshot, f.SnapshotInterval, f.Now) {
			out = append(out, "periodic snapshot overdue"+lastGood(f.LastSnapshot, f.Now)+"; see snapshot-status")
		}
		if f.S3Related && overdue(f.LastBackup, f.SnapshotInterval, f.Now) {
			out = append(out, "backup to S3 overdue"+lastGood(f.LastBackup, f.Now)+"; see snapshot-status")
		}
	}
	return out
}

func overdue(last time.Time, interval time.Duration, now time.Time) bool {
	return !last.IsZero() && now.Sub(last) > 2*interval
}

func lastGood(t, now time.Time) string {
	return fmt.Sprintf(" (last good %s ago)", now.Sub(t).Round(time.Minute))
}

func until(t, now time.Time) string {
	if !t.After(now) {
		return "now (expired)"
	}
	return "in " + t.Sub(now).Round(time.Hour).String()
}

func mib(n int64) string { return fmt.Sprintf("%d MiB", n>>20) }

// OwnStatus is the status of the member with peerURL from the report, nil when it did not answer.
func OwnStatus(r cluster.HealthReport, peerURL string) *cluster.EndpointStatus {
	if e := endpointOf(r, peerURL); e != nil {
		return e.Status
	}
	return nil
}

func endpointOf(r cluster.HealthReport, peerURL string) *cluster.EndpointHealth {
	for i := range r.Endpoints {
		for _, u := range r.Endpoints[i].Member.PeerURLs {
			if u == peerURL {
				return &r.Endpoints[i]
			}
		}
	}
	return nil
}

func leaderStatus(r cluster.HealthReport) *cluster.EndpointStatus {
	for _, e := range r.Endpoints {
		if e.Status != nil && r.Leader != 0 && e.Member.ID == r.Leader {
			return e.Status
		}
	}
	return nil
}
