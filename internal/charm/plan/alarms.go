package plan

import (
	"fmt"
	"slices"

	"github.com/etcd-charm/etcd/internal/cluster"
)

// NoSpaceHeadroom is the room a member's database file needs under its quota for a NOSPACE disarm to hold:
// etcd refuses a write, and raises NOSPACE again, once the file's size plus the write's cost reaches the
// quota. The file's size is what counts, not the bytes in use, so compaction alone frees nothing.
const NoSpaceHeadroom = 1 << 20

// MemberSpace is one member's database as its status reports it.
type MemberSpace struct {
	Member               string // label, as MemberLabel gives it
	DBSize, InUse, Quota int64
	Answered             bool
}

// DisarmBlockers says why disarming would not hold: for a raised NOSPACE, each member whose database file
// is still within NoSpaceHeadroom of its quota, with what to do first. Members that did not answer cannot be
// judged and are left out. Nil means disarming may go ahead.
func DisarmBlockers(alarms []cluster.Alarm, members []SpaceMember) []string {
	if !slices.ContainsFunc(alarms, func(a cluster.Alarm) bool { return a.Type == cluster.AlarmNoSpace }) {
		return nil
	}
	var out []string
	for _, m := range members {
		if !m.Answered || m.Quota <= 0 || m.DBSize+NoSpaceHeadroom < m.Quota {
			continue
		}
		fix := "run the defrag action to give the freed pages back"
		if liveDataNearQuota(m.MemberSpace) {
			fix = "run the compact action (or delete keys), then defrag, or raise quota_backend_bytes"
		}
		out = append(out, fmt.Sprintf("%s's database file is %s of its %s quota (%s in use): %s",
			m.Member, mib(m.DBSize), mib(m.Quota), mib(m.InUse), fix))
	}
	return out
}

// LiveDataWarnings names the members whose live data alone is past QuotaWarnFraction of their quota: a
// disarm holds there, but only for the few writes the rest of the quota takes.
func LiveDataWarnings(members []SpaceMember) []string {
	var out []string
	for _, m := range members {
		if m.Answered && liveDataNearQuota(m.MemberSpace) {
			out = append(out, fmt.Sprintf("%s holds %s of live data under its %s quota: compact (or delete keys) and defrag, "+
				"or raise quota_backend_bytes, or NOSPACE comes back soon", m.Member, mib(m.InUse), mib(m.Quota)))
		}
	}
	return out
}

func liveDataNearQuota(m MemberSpace) bool {
	return m.Quota > 0 && float64(m.InUse) >= QuotaWarnFraction*float64(m.Quota)
}

// CorruptAlarmOn reports whether a CORRUPT alarm names the member with peerURL: etcd's compact-hash check
// found its data differing from the others', and the whole cluster refuses writes until that is dealt with.
func CorruptAlarmOn(r cluster.HealthReport, peerURL string) bool {
	for _, m := range r.Members {
		if !slices.Contains(m.PeerURLs, peerURL) {
			continue
		}
		return slices.ContainsFunc(r.Alarms, func(a cluster.Alarm) bool {
			return a.Type == cluster.AlarmCorrupt && a.MemberID == m.ID
		})
	}
	return false
}
