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
}

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
	if !f.CertNotAfter.IsZero() && f.CertNotAfter.Sub(f.Now) < CertWarnBefore {
		out = append(out, fmt.Sprintf("member certificate expires %s, and was not renewed", until(f.CertNotAfter, f.Now)))
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
