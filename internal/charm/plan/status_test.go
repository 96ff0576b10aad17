package plan

import (
	"errors"
	"strings"
	"testing"

	"github.com/etcd-charm/etcd/internal/cluster"
)

func member(id uint64, name string, learner bool) cluster.Member {
	return cluster.Member{ID: id, Name: name, IsLearner: learner,
		PeerURLs: []string{"https://" + name + ":2380"}, ClientURLs: []string{"https://" + name + ":2379"}}
}

func report(leader uint64, members []cluster.Member, healthy map[uint64]bool) cluster.HealthReport {
	r := cluster.HealthReport{Members: members, Leader: leader}
	for _, m := range members {
		e := cluster.EndpointHealth{Endpoint: m.ClientURLs[0], Member: m, Serving: healthy[m.ID], Healthy: healthy[m.ID]}
		if !healthy[m.ID] {
			e.Err = errors.New("connection refused")
		}
		r.Endpoints = append(r.Endpoints, e)
		if !m.IsLearner {
			r.Voters++
			if healthy[m.ID] {
				r.HealthyVoters++
			}
		}
	}
	r.Quorum = r.Voters/2 + 1
	return r
}

func threeMembers() []cluster.Member {
	return []cluster.Member{member(1, "a", false), member(2, "b", false), member(3, "c", false)}
}

func TestGivenHealthyClusterWhenTheRaftLeaderReportsThenItSaysSo(t *testing.T) {
	r := report(1, threeMembers(), map[uint64]bool{1: true, 2: true, 3: true})
	st, msg := UnitStatus("https://a:2380", r)
	if st != Active || msg != "Healthy with 3 known peers, raft leader" {
		t.Fatalf("got %s %q", st, msg)
	}
	st, msg = UnitStatus("https://b:2380", r)
	if st != Active || msg != "Healthy with 3 known peers" {
		t.Fatalf("follower got %s %q", st, msg)
	}
}

func TestGivenALearnerWhenItReportsThenItIsCatchingUp(t *testing.T) {
	ms := append(threeMembers(), member(4, "d", true))
	st, msg := UnitStatus("https://d:2380", report(1, ms, map[uint64]bool{1: true, 2: true, 3: true, 4: true}))
	if st != Maintenance || !strings.Contains(msg, "learner") {
		t.Fatalf("got %s %q", st, msg)
	}
}

func TestGivenMajorityLostWhenReportedThenBlockedOnEveryUnit(t *testing.T) {
	r := report(0, threeMembers(), map[uint64]bool{1: true})
	st, msg := UnitStatus("https://a:2380", r)
	if st != Blocked || !strings.Contains(msg, "lost quorum: 1 of 3") {
		t.Fatalf("got %s %q", st, msg)
	}
	st, msg = AppStatus(r)
	if st != Blocked || !strings.Contains(msg, "quorum lost") {
		t.Fatalf("app got %s %q", st, msg)
	}
}

func TestGivenOneMemberDownWhenSummarisedThenDegradedButWriting(t *testing.T) {
	r := report(2, threeMembers(), map[uint64]bool{1: true, 2: true})
	st, msg := AppStatus(r)
	if st != Active || msg != "3 members, raft leader b, degraded: 2 of 3 voters healthy" {
		t.Fatalf("got %s %q", st, msg)
	}
	st, msg = UnitStatus("https://c:2380", r)
	if st != Waiting || !strings.Contains(msg, "connection refused") {
		t.Fatalf("down member got %s %q", st, msg)
	}
}

func TestGivenMembersWhenRemovalIsConsideredThenQuorumIsNeverGivenUp(t *testing.T) {
	ms := threeMembers()
	// A dead member of three with two healthy: removing it leaves 2 of 2.
	if !SafeToRemove(report(1, ms, map[uint64]bool{1: true, 2: true}), ms[2]) {
		t.Fatal("removing the dead member should be safe")
	}
	// A healthy member when another is already dead: 1 of 2 healthy, no quorum.
	if SafeToRemove(report(1, ms, map[uint64]bool{1: true, 2: true}), ms[0]) {
		t.Fatal("removing a healthy member while another is down must be refused")
	}
	// The last member is never removed.
	one := ms[:1]
	if SafeToRemove(report(1, one, map[uint64]bool{1: true}), one[0]) {
		t.Fatal("removing the last member must be refused")
	}
}

func TestGivenAMemberNameWhenShownThenTheUnitNameIsRecovered(t *testing.T) {
	for name, unit := range map[string]string{"etcd-0": "etcd/0", "my-etcd-12": "my-etcd/12"} {
		if got := UnitOfMember(cluster.Member{Name: name}); got != unit {
			t.Errorf("%s: got %s, want %s", name, got, unit)
		}
	}
}

func TestGivenALeavingVoterWhenTheOthersKeepQuorumThenItStopsBeforeItsRemoval(t *testing.T) {
	ms := threeMembers()
	// Three healthy voters: the other two commit the removal alone, so the leaver stops first.
	if !StopBeforeRemoval(report(1, ms, map[uint64]bool{1: true, 2: true, 3: true}), ms[2]) {
		t.Fatal("a voter of a healthy 3-member cluster should stop before its removal")
	}
	// Two voters: the leaver's vote is needed to commit its own removal.
	two := ms[:2]
	if StopBeforeRemoval(report(1, two, map[uint64]bool{1: true, 2: true}), two[1]) {
		t.Fatal("a voter of a 2-member cluster must stay up until its removal commits")
	}
	// Three voters, one already down: stopping the leaver too would leave 1 of 3.
	if StopBeforeRemoval(report(1, ms, map[uint64]bool{1: true, 2: true}), ms[1]) {
		t.Fatal("stopping with another member down would cost quorum")
	}
}

func TestGivenHealthReportWhenTheHealthActionFormatsItThenClassicWordingIsKept(t *testing.T) {
	out, results := HealthOutput(report(1, threeMembers(), map[uint64]bool{1: true, 2: true, 3: true}))
	if !strings.HasSuffix(out, "cluster is healthy\n") || strings.Count(out, "is healthy: got healthy result from") != 3 {
		t.Fatalf("output:\n%s", out)
	}
	if results["cluster"] != "healthy" || results["members.b"] != "healthy" {
		t.Fatalf("results: %v", results)
	}
	out, results = HealthOutput(report(1, threeMembers(), map[uint64]bool{1: true, 2: true}))
	if !strings.HasSuffix(out, "cluster is degraded\n") || results["members.c"] != "unhealthy" {
		t.Fatalf("degraded output:\n%s %v", out, results)
	}
	full := report(1, threeMembers(), map[uint64]bool{1: true, 2: true, 3: true})
	full.Alarms = []cluster.Alarm{{MemberID: 2, Type: cluster.AlarmNoSpace}}
	out, results = HealthOutput(full)
	if !strings.Contains(out, "etcd alarm raised: NOSPACE") || !strings.Contains(out, "alarm-disarm") ||
		!strings.HasPrefix(results["alarms"], "NOSPACE on member") {
		t.Fatalf("the health action does not name the raised alarm:\n%s %v", out, results)
	}
}

func TestGivenThePublishedApplicationStatusWhenAUnitSeesTheClusterThenItTellsTheLeaderOnlyOfADifference(t *testing.T) {
	const degraded, healthy = "3 members, raft leader etcd/0, degraded: 2 of 3 voters healthy", "3 members, raft leader etcd/0, cluster healthy"
	if got := HealthSeen("7", healthy, healthy); got != "" {
		t.Fatalf("a unit that agrees with the leader should say nothing, said %q", got)
	}
	if got := HealthSeen("", "", healthy); got != "" {
		t.Fatalf("before the leader published anything a unit should say nothing, said %q", got)
	}
	first := HealthSeen("7", degraded, healthy)
	if first == "" || first != HealthSeen("7", degraded, healthy) {
		t.Fatalf("a disagreement should be told the same way at every hook (one bag change), got %q", first)
	}
	// The leader looked again but still sees the member down (a partition): nothing new is published, so
	// nothing new is told. When the leader later publishes the same words again, that is a new revision.
	if again := HealthSeen("9", degraded, healthy); again == first || again == "" {
		t.Fatalf("the same disagreement about a newer published status should be told again, got %q after %q", again, first)
	}
}
