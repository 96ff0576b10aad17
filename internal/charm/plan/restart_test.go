package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/etcd-charm/etcd/internal/cluster"
)

func TestDecideTurn(t *testing.T) {
	members := []string{"etcd-0", "etcd-1", "etcd-2"}
	cases := []struct {
		name string
		f    TurnFacts
		want TurnVerdict
		why  string
	}{
		{"a live member on a lease holds it", TurnFacts{Self: "etcd-0", Holder: "etcd-1", Lease: 7, Members: members}, TurnWait, "etcd-1 is restarting"},
		{"a key without a lease is stale", TurnFacts{Self: "etcd-0", Holder: "etcd-1", Lease: 0, Members: members}, TurnBreak, "without a lease"},
		{"a name that is no member is stale", TurnFacts{Self: "etcd-0", Holder: "etcd-9", Lease: 7, Members: members}, TurnBreak, "no member"},
		{"garbage is stale", TurnFacts{Self: "etcd-0", Holder: "", Lease: 7, Members: members}, TurnBreak, "no member"},
		{"this member's own holding was left by a killed hook", TurnFacts{Self: "etcd-0", Holder: "etcd-0", Lease: 7, Members: members}, TurnBreak, "earlier hook"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, why := DecideTurn(tc.f)
			if got != tc.want || !strings.Contains(why, tc.why) {
				t.Fatalf("got %d %q, want %d %q", got, why, tc.want, tc.why)
			}
		})
	}
}

func TestReadyToRestart(t *testing.T) {
	ms := threeMembers()
	if ok, why := ReadyToRestart(report(1, ms, map[uint64]bool{1: true, 2: true, 3: true}), 1); !ok {
		t.Fatalf("all healthy: refused: %s", why)
	}
	// This member itself may be down: restarting it is how it comes back.
	if ok, why := ReadyToRestart(report(2, ms, map[uint64]bool{2: true, 3: true}), 1); !ok {
		t.Fatalf("only self down: refused: %s", why)
	}
	ok, why := ReadyToRestart(report(1, ms, map[uint64]bool{1: true, 3: true}), 1)
	if ok || why != "b is not healthy" {
		t.Fatalf("another down: %v %q", ok, why)
	}
	ok, why = ReadyToRestart(report(1, ms, map[uint64]bool{1: true}), 1)
	if ok || why != "b, c are not healthy" {
		t.Fatalf("two down: %v %q", ok, why)
	}
	// A learner does not vote: its health does not hold a restart back.
	withLearner := append(threeMembers(), member(4, "d", true))
	if ok, why := ReadyToRestart(report(1, withLearner, map[uint64]bool{1: true, 2: true, 3: true}), 1); !ok {
		t.Fatalf("learner down: refused: %s", why)
	}
	// An alarm does not hold a restart back: a bigger quota takes one.
	r := report(1, ms, map[uint64]bool{1: true, 2: true, 3: true})
	r.Alarms = []cluster.Alarm{{Type: cluster.AlarmNoSpace}}
	if ok, why := ReadyToRestart(r, 1); !ok {
		t.Fatalf("alarm: refused: %s", why)
	}
	if got := MemberLabel(cluster.Member{ID: 0x1f}); got == "" {
		t.Fatal("an unstarted member has no label")
	}
}

func TestGivenOtherVotersWordsWhenTheRaftLeaderAsksWhoRestartsFirstThenThoseWithARestartDueAreNamed(t *testing.T) {
	got := RestartsDue(map[string]RestartWord{
		"etcd/2": {Due: "configuration changed", Seen: "c2"},
		"etcd/0": {Seen: "c2"},
		"etcd/1": {Due: "etcd 3.6.16 to 3.7.4", Seen: "c2"},
		"etcd/3": {Seen: "c1"}, // its hook has not judged the new configuration yet
	}, "c2")
	if !slices.Equal(got, []string{"etcd/1", "etcd/2", "etcd/3"}) {
		t.Errorf("got %v, want etcd/1, etcd/2 and etcd/3", got)
	}
	if got := RestartsDue(map[string]RestartWord{"etcd/0": {Seen: "c2"}}, "c2"); len(got) != 0 {
		t.Errorf("nobody has a restart due, yet %v", got)
	}
}
