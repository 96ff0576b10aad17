package plan

import (
	"strings"
	"testing"

	"github.com/etcd-charm/etcd/internal/cluster"
)

const gib = 1 << 30

func space(name string, size, inUse int64) SpaceMember {
	return SpaceMember{MemberSpace: MemberSpace{Member: name, DBSize: size, InUse: inUse, Quota: 2 * gib, Answered: true}}
}

func TestGivenAMemberDatabaseWhenJudgedThenDefragIsDueOnlyPastTheRule(t *testing.T) {
	cases := []struct {
		name          string
		size, inUse   int64
		noSpace, want bool
	}{
		{"fresh and small", 20 << 20, 19 << 20, false, false},
		{"200 MiB freed of 300 MiB", 300 << 20, 100 << 20, false, true},
		{"100 MiB freed of a 1 GiB file: under 45%", gib, gib - 100<<20, false, false},
		{"60 MiB freed of 150 MiB: under 100 MiB", 150 << 20, 90 << 20, false, false},
		{"near the quota, 40 MiB freed", 1700 << 20, 1660 << 20, false, true},
		{"near the quota, 20 MiB freed", 1700 << 20, 1680 << 20, false, false},
		{"NOSPACE, 5 MiB freed", 2 * gib, 2*gib - 5<<20, true, true},
		{"NOSPACE, nothing freed", 2 * gib, 2 * gib, true, false},
	}
	for _, tc := range cases {
		if got := DefragDue(space("m", tc.size, tc.inUse).MemberSpace, tc.noSpace); got != tc.want {
			t.Errorf("%s: due %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestGivenFragmentedMembersWhenPlannedThenFollowersGoFirstAndTheRaftLeaderLast(t *testing.T) {
	leader := space("etcd-0", 400<<20, 50<<20)
	leader.RaftLeader = true
	members := []SpaceMember{leader, space("etcd-1", 400<<20, 50<<20), space("etcd-2", 30<<20, 29<<20), space("etcd-3", 500<<20, 60<<20)}
	p := PlanSpace(nil, members)
	var order []string
	for _, m := range p.Defrag {
		order = append(order, m.Member)
	}
	if strings.Join(order, ",") != "etcd-1,etcd-3,etcd-0" || p.CompactFirst || p.Held != "" {
		t.Fatalf("plan %+v, order %v", p, order)
	}
}

func TestGivenAMemberOutOfServiceWhenDefragIsDueThenNothingIsDoneAndStatusSaysWhy(t *testing.T) {
	down := space("etcd-2", 0, 0)
	down.Answered = false
	learner := space("etcd-3", 10<<20, 10<<20)
	learner.Learner = true
	for _, other := range []SpaceMember{down, learner} {
		p := PlanSpace(nil, []SpaceMember{space("etcd-1", 400<<20, 50<<20), other})
		if len(p.Defrag) != 0 || !strings.Contains(p.Held, other.Member) {
			t.Fatalf("with %s out of service: %+v", other.Member, p)
		}
	}
}

func TestGivenNOSPACEWhenPlannedThenHistoryIsCompactedFirstEvenWithNothingYetToReclaim(t *testing.T) {
	full := space("etcd-0", 2*gib, 2*gib)
	p := PlanSpace([]cluster.Alarm{{MemberID: 1, Type: cluster.AlarmNoSpace}}, []SpaceMember{full})
	if !p.CompactFirst || len(p.Defrag) != 0 {
		t.Fatalf("plan under NOSPACE: %+v", p)
	}
	if p := PlanSpace(nil, []SpaceMember{full}); p.CompactFirst || len(p.Defrag) != 0 {
		t.Fatalf("plan without an alarm: %+v", p)
	}
}

// A member reports its live data as of its last commit: after a compaction on an idle cluster the raft
// leader may read its pages free while a follower does not yet.
func TestGivenAFollowerReportingStaleLiveDataWhenPlannedThenNothingIsDefragmentedUntilTheFiguresAgree(t *testing.T) {
	leader := space("etcd-0", 300<<20, 20<<20)
	leader.RaftLeader = true
	lagging := space("etcd-1", 300<<20, 290<<20)
	p := PlanSpace(nil, []SpaceMember{leader, lagging, space("etcd-2", 300<<20, 20<<20)})
	if len(p.Defrag) != 0 || !p.Settling || !strings.Contains(p.Held, "report it stale") {
		t.Fatalf("plan while etcd-1 still compacts: %+v", p)
	}
	// Under NOSPACE nothing waits: whatever can be given back now is.
	p = PlanSpace([]cluster.Alarm{{Type: cluster.AlarmNoSpace}}, []SpaceMember{leader, lagging})
	if len(p.Defrag) != 2 || p.Defrag[1].Member != "etcd-0" {
		t.Fatalf("plan under NOSPACE: %+v", p)
	}
}

func TestGivenStaleFiguresWithNothingYetDueWhenPlannedThenThePlanAsksForFreshOnes(t *testing.T) {
	// Neither looks due, yet one says 150 MiB live and the other none: one of them is stale.
	p := PlanSpace(nil, []SpaceMember{space("etcd-0", 174<<20, 150<<20), space("etcd-1", 60<<20, 0)})
	if !p.Settling || len(p.Defrag) != 0 {
		t.Fatalf("plan: %+v", p)
	}
}

// Under NOSPACE no write refreshes a stale figure: the freshest member's says what every member can shrink to.
func TestGivenNOSPACEAndAFollowerReportingStaleLiveDataWhenPlannedThenItIsDefragmentedAnyway(t *testing.T) {
	fresh := space("etcd-0", 2*gib, 1<<20)
	fresh.RaftLeader = true
	stale := space("etcd-1", 2*gib, 2*gib-1<<20)
	p := PlanSpace([]cluster.Alarm{{Type: cluster.AlarmNoSpace}}, []SpaceMember{fresh, stale})
	if len(p.Defrag) != 2 || p.Defrag[0].Member != "etcd-1" || p.Defrag[1].Member != "etcd-0" {
		t.Fatalf("plan under NOSPACE with a stale follower: %+v", p)
	}
}
