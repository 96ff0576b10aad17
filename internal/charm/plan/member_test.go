package plan

import (
	"strings"
	"testing"
	"time"
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
		{"a stopped member whose data fails the checks is replaced",
			MemberFacts{Bootstrapped: true, DataProblem: "database torn"}, StepReplace, "database torn"},
		{"a member in a crash loop is replaced, even when it must also restart", func() MemberFacts {
			f := running(MemberFacts{CrashLoop: true})
			f.Desired.Config = "c2"
			return f
		}(), StepReplace, "exits at every start"},
		{"a member the cluster removed (a restore) waits, whatever its data",
			MemberFacts{Bootstrapped: true, Removed: true, DataProblem: "database torn"}, StepWaitRemoved, ""},
		{"a unit whose replacement forgot its bootstrap joins", MemberFacts{DataProblem: "data dir gone"}, StepJoin, ""},
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

func TestTrustOnlyRestartsAndTheVotersBehind(t *testing.T) {
	run := Started{Config: "c", Trust: "t1", Version: "3.6.16"}
	f := MemberFacts{Bootstrapped: true, ServiceActive: true, Running: run, RunningKnown: true, Desired: run}
	f.Desired.Trust = "t2"
	if p := NextMemberStep(f); p.Step != StepRestart || !p.TrustOnly {
		t.Fatalf("a trust change alone: %+v", p)
	}
	f.Desired.Config = "c2"
	if p := NextMemberStep(f); p.TrustOnly {
		t.Fatalf("a config change too is not trust only: %+v", p)
	}
	f.RunningKnown = false
	if p := NextMemberStep(f); p.TrustOnly {
		t.Fatalf("an unknown start is not trust only: %+v", p)
	}
	behind := TrustBehind(map[string]string{"etcd-2": "t1", "etcd-1": "t2", "etcd-3": ""}, "t2")
	if strings.Join(behind, ",") != "etcd-2,etcd-3" {
		t.Fatalf("behind %v", behind)
	}
	if len(TrustBehind(map[string]string{"etcd-1": "t2"}, "t2")) != 0 {
		t.Fatal("nobody is behind")
	}
}

func TestTrustSettle(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	const settle, hold = 3 * time.Second, 30 * time.Second
	cases := []struct {
		name         string
		seen, newest int64
		pending      int
		changed      time.Time
		wait         time.Duration
		stale        bool
	}{
		{"a newer generation is on its way", 3, 4, 0, now.Add(-time.Minute), 0, true},
		{"a newer generation is on its way, requirers pending or not", 3, 4, 2, now, 0, true},
		{"the published generation lags the bags", 4, 3, 1, now, 0, false},
		{"a settled generation", 4, 4, 0, now.Add(-4 * time.Second), 0, false},
		{"a fresh generation waits out the rest", 4, 4, 0, now.Add(-2 * time.Second), time.Second, false},
		{"a requirer still to send its request holds the restart", 4, 4, 1, now.Add(-4 * time.Second), 26 * time.Second, false},
		{"a requirer that never sends one holds it no longer than hold", 4, 4, 3, now.Add(-31 * time.Second), 0, false},
		{"a leader clock ahead waits the whole settle", 4, 4, 0, now.Add(time.Hour), settle, false},
		{"a leader clock ahead with requirers pending waits the whole hold", 4, 4, 1, now.Add(time.Hour), hold, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wait, stale := TrustSettle(tc.seen, tc.newest, tc.pending, tc.changed, now, settle, hold)
			if wait != tc.wait || stale != tc.stale {
				t.Fatalf("got %v %v, want %v %v", wait, stale, tc.wait, tc.stale)
			}
		})
	}
}
