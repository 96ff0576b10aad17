package plan

import (
	"fmt"
	"slices"

	"github.com/etcd-charm/etcd/internal/cluster"
)

// Defragmenting by rule. etcd never gives freed pages back to the file system on its own: after compaction
// the database file keeps its size, and NOSPACE is judged on the file's size. The thresholds follow the
// operators that do this today: OpenShift defragments at 100 MB and 45% reclaimable, cozystack near the quota
// from 32 MiB.
const (
	DefragMinReclaimable   = 100 << 20 // bytes reclaimable before a member is worth blocking
	DefragMinShare         = 0.45      // ... and that share of its database file
	DefragNearQuota        = 0.8       // a file past this share of its quota is defragmented sooner
	DefragNearQuotaMinimum = 32 << 20  // ... from this much reclaimable
	// DefragSettleSpread: members hold the same keys, so their live data differs by more than this only
	// while some of them report it stale. A member's figure is refreshed when it next commits a write, and
	// pages freed by a compaction count as free only from then on, so after a compaction on an idle cluster
	// one member can read 150 MiB in use and the next none (measured on the local model). Defragmenting on
	// such figures would take the members that look due first, the raft leader included, and the rest in a
	// later hook: the order would no longer be followers first.
	DefragSettleSpread = 32 << 20
)

// SpaceMember is one member's database as the maintenance rule sees it.
type SpaceMember struct {
	MemberSpace
	ID         uint64
	Endpoint   string // the member's client URL
	Learner    bool
	RaftLeader bool
}

// SpacePlan is what the leader does about the database files in one hook.
type SpacePlan struct {
	// CompactFirst: NOSPACE is raised, so history is compacted to the latest revision before anything else
	// (freed pages are only reclaimable once compacted).
	CompactFirst bool
	// Defrag lists the members to defragment, one at a time in this order: followers first, the raft leader
	// last (moved away from it first, when another member can take it).
	Defrag []SpaceMember
	// Held says why nothing is done now although something is due ("" when nothing is held).
	Held string
	// Settling: held because the members' figures disagree (DefragSettleSpread); a write on the cluster
	// refreshes them, and the plan is to be made again from new readings.
	Settling bool
}

// DefragDue reports whether a member's database is worth defragmenting: by the rule, or under NOSPACE as
// soon as anything at all can be given back.
func DefragDue(m MemberSpace, noSpace bool) bool {
	if !m.Answered || (m.Quota <= 0 && !noSpace) {
		return false
	}
	free := m.DBSize - m.InUse
	if noSpace {
		return free >= NoSpaceHeadroom
	}
	if free >= DefragMinReclaimable && float64(free) >= DefragMinShare*float64(m.DBSize) {
		return true
	}
	return float64(m.DBSize) >= DefragNearQuota*float64(m.Quota) && free >= DefragNearQuotaMinimum
}

// PlanSpace decides the hook's database maintenance from every member's reading. It acts only while every
// member answers and none is a learner: defragmenting blocks a member, so a second member out of service (a
// restart, a join, a broken one) could cost quorum or stall the join; the next hook looks again.
func PlanSpace(alarms []cluster.Alarm, members []SpaceMember) SpacePlan {
	noSpace := slices.ContainsFunc(alarms, func(a cluster.Alarm) bool { return a.Type == cluster.AlarmNoSpace })
	var due []SpaceMember
	least := leastInUse(members)
	for _, m := range members {
		judged := m.MemberSpace
		if noSpace && least >= 0 {
			// Under NOSPACE no write commits to refresh a member's stale figure; the members hold the same
			// keys, so the least live data any of them reports is what each can shrink to.
			judged.InUse = min(judged.InUse, least)
		}
		if DefragDue(judged, noSpace) {
			due = append(due, m)
		}
	}
	if len(due) == 0 && !noSpace && !spreadOver(members) {
		return SpacePlan{}
	}
	for _, m := range members {
		switch {
		case !m.Answered:
			return SpacePlan{Held: fmt.Sprintf("database maintenance waits: %s does not answer", m.Member)}
		case m.Learner:
			return SpacePlan{Held: fmt.Sprintf("database maintenance waits: %s is still a learner", m.Member)}
		}
	}
	if !noSpace && spreadOver(members) {
		return SpacePlan{Settling: true, Held: "database maintenance waits: the members' live data differs by more " +
			"than " + mib(DefragSettleSpread) + ", so some report it stale"}
	}
	slices.SortStableFunc(due, func(a, b SpaceMember) int {
		switch {
		case a.RaftLeader == b.RaftLeader:
			return 0
		case a.RaftLeader:
			return 1
		}
		return -1
	})
	return SpacePlan{CompactFirst: noSpace, Defrag: due}
}

// spreadOver reports whether the answering members' live data differs by more than DefragSettleSpread.
func spreadOver(members []SpaceMember) bool {
	var most int64
	for _, m := range members {
		if m.Answered {
			most = max(most, m.InUse)
		}
	}
	return most-leastInUse(members) > DefragSettleSpread
}

// leastInUse is the least live data an answering member reports, -1 when none answers.
func leastInUse(members []SpaceMember) int64 {
	least := int64(-1)
	for _, m := range members {
		if m.Answered && (least < 0 || m.InUse < least) {
			least = m.InUse
		}
	}
	return least
}
