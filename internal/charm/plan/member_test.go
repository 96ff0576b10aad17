package plan

import (
	"strings"
	"testing"
)

func TestNextMemberStep(t *testing.T) {
	now := Started{Config: "c1", Trust: "t1", Version: "3.6.16"}
	running := func(f MemberFacts) MemberFacts {
		f.Bootstrapped, f.ServiceActive, f.Running, f.RunningKnown, f.Desired = true, true, now, true, now
		return f
	}
	cases := []struct {
		name   string
		facts  MemberFacts
		want   MemberStep
		reason string
	}{
		{"the seed starts the cluster", MemberFacts{Seed: true}, StepBootstrap, ""},
		{"any other new unit joins", MemberFacts{}, StepJoin, ""},
		{"a stopped member the cluster removed waits", MemberFacts{Bootstrapped: true, Removed: true}, StepWaitRemoved, ""},
		{"a stopped member starts", MemberFacts{Bootstrapped: true}, StepStart, ""},
		{"a member running what it should does nothing", running(MemberFacts{}), StepNone, ""},
		{"a learner running what it should is promoted", running(MemberFacts{Learner: true}), StepPromote, ""},
		{"a changed config restarts", func() MemberFacts {
			f := running(MemberFacts{})
			f.Desired.Config = "c2"
			return f
		}(), StepRestart, "configuration changed"},
		{"a changed trust bundle restarts", func() MemberFacts {
			f := running(MemberFacts{})
			f.Desired.Trust = "t2"
			return f
		}(), StepRestart, "client trust changed"},
		{"a new etcd restarts", func() MemberFacts {
			f := running(MemberFacts{})
			f.Desired.Version = "3.6.99"
			return f
		}(), StepRestart, "etcd 3.6.16 to 3.6.99"},
		{"a member started without a record restarts once", func() MemberFacts {
			f := running(MemberFacts{})
			f.RunningKnown = false
			return f
		}(), StepRestart, "without a record"},
		{"a learner that must restart restarts before its promotion", func() MemberFacts {
			f := running(MemberFacts{Learner: true})
			f.Desired.Config = "c2"
			return f
		}(), StepRestart, "configuration changed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := NextMemberStep(tc.facts)
			if got.Step != tc.want || !strings.Contains(got.Reason, tc.reason) {
				t.Fatalf("got %s (%q), want %s (%q)", got.Step, got.Reason, tc.want, tc.reason)
			}
		})
	}
}

func TestRestartReasonNamesEveryDifference(t *testing.T) {
	got := RestartReason(Started{"c1", "t1", "3.6.15"}, true, Started{"c2", "t2", "3.6.16"})
	if got != "etcd 3.6.15 to 3.6.16, configuration changed, client trust changed" {
		t.Fatalf("got %q", got)
	}
	if got := RestartReason(Started{Config: "c"}, true, Started{Config: "c", Version: "3.6.16"}); !strings.Contains(got, "(unknown) to 3.6.16") {
		t.Fatalf("got %q", got)
	}
	if !VersionChange(Started{Version: "3.6.15"}, true, Started{Version: "3.6.16"}) ||
		VersionChange(Started{Version: "3.6.16"}, true, Started{Version: "3.6.16"}) ||
		VersionChange(Started{}, false, Started{Version: "3.6.16"}) {
		t.Fatal("VersionChange")
	}
	for s := StepBootstrap; s <= StepNone; s++ {
		if s.String() == "" {
			t.Errorf("step %d has no name", s)
		}
	}
}
