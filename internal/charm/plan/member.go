package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Started is what an etcd process started with, or is to start with: digests of its config file and client
// trust bundle, and its etcd version.
type Started struct {
	Config, Trust, Version string
}

// MemberFacts are what one hook observed about this unit's member.
type MemberFacts struct {
	// Bootstrapped: this unit has a bootstrap record (it started a member before, in this cluster).
	Bootstrapped bool
	// Seed: this unit is named to start the cluster, and no cluster exists yet.
	Seed bool
	// ServiceActive: systemd runs etcd now.
	ServiceActive bool
	// Removed: the running cluster no longer lists this member (observed only while the service is down).
	Removed bool
	// Running is what the running etcd started with; RunningKnown is false when it left no record (it was
	// started by an older charm).
	Running      Started
	RunningKnown bool
	// Desired is what etcd is to run with: the files the charm renders now and the version it installed.
	Desired Started
	// Learner: this unit's member has joined but does not vote yet.
	Learner bool
	// DataProblem says why the stopped member's data cannot serve: its data dir gone while the cluster still
	// lists it, or its WAL or database failing the checks etcd would fail at start. "" when the data is
	// sound or was not checked (etcd runs).
	DataProblem string
	// CrashLoop: systemd keeps restarting etcd and the member does not serve (etcd's own initial corruption
	// check against its peers refusing the data is one way to get there).
	CrashLoop bool
}

// MemberStep is the one thing this hook does about the member.
type MemberStep int

const (
	// StepBootstrap starts the cluster as its only member.
	StepBootstrap MemberStep = iota + 1
	// StepJoin adds the member as a learner through a running member and starts it.
	StepJoin
	// StepWaitRemoved waits: the cluster removed this member (a restore or rebuild); starting it would only
	// see it exit, and the leader's next step (a new epoch) brings it back.
	StepWaitRemoved
	// StepStart starts the stopped service with the files as they are.
	StepStart
	// StepRestart restarts the running member, in its turn, onto what it is to run with.
	StepRestart
	// StepPromote makes the learner a voter.
	StepPromote
	// StepNone: the member runs as it should.
	StepNone
	// StepReplace takes the broken member out of the cluster, keeps its data aside and joins again as a
	// learner.
	StepReplace
)

func (s MemberStep) String() string {
	return [...]string{"", "bootstrap", "join", "wait-removed", "start", "restart", "promote", "none", "replace"}[s]
}

// MemberPlan is NextMemberStep's answer: the step and, for a restart, why.
type MemberPlan struct {
	Step   MemberStep
	Reason string
	// TrustOnly: the restart only brings the client trust bundle up to date (requirers came or went).
	TrustOnly bool
}

// NextMemberStep decides the member's next step from what was observed. A restart is decided by comparing
// what etcd started with against what it is to run with, never by whether a file changed in this hook: a
// restart that was refused, failed or killed is found again by every later hook until etcd runs what it
// should.
func NextMemberStep(f MemberFacts) MemberPlan {
	switch {
	case !f.Bootstrapped && f.Seed:
		return MemberPlan{Step: StepBootstrap}
	case !f.Bootstrapped:
		return MemberPlan{Step: StepJoin}
	case !f.ServiceActive && f.Removed:
		return MemberPlan{Step: StepWaitRemoved}
	case f.DataProblem != "":
		return MemberPlan{Step: StepReplace, Reason: f.DataProblem}
	case f.CrashLoop:
		return MemberPlan{Step: StepReplace, Reason: "etcd exits at every start"}
	case !f.ServiceActive:
		return MemberPlan{Step: StepStart}
	}
	if why := RestartReason(f.Running, f.RunningKnown, f.Desired); why != "" {
		trustOnly := f.RunningKnown && f.Running.Version == f.Desired.Version && f.Running.Config == f.Desired.Config
		return MemberPlan{Step: StepRestart, Reason: why, TrustOnly: trustOnly}
	}
	if f.Learner {
		return MemberPlan{Step: StepPromote}
	}
	return MemberPlan{Step: StepNone}
}

// RestartReason says why a member that started with running must restart to run desired, "" when it need
// not. Without a record of the start nothing is known, so the member restarts (once: the new start records).
func RestartReason(running Started, known bool, desired Started) string {
	if !known {
		return "started without a record of its configuration"
	}
	var why []string
	if running.Version != desired.Version {
		why = append(why, fmt.Sprintf("etcd %s to %s", orUnknown(running.Version), desired.Version))
	}
	if running.Config != desired.Config {
		why = append(why, "configuration changed")
	}
	if running.Trust != desired.Trust {
		why = append(why, "client trust changed")
	}
	return strings.Join(why, ", ")
}

// VersionChange reports whether a restart moves the member to another etcd version, which orders the members
// (the raft leader goes last).
func VersionChange(running Started, known bool, desired Started) bool {
	return known && running.Version != desired.Version
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// TrustBehind names the voters, of those given with the trust digest each published, that do not run with
// the desired bundle yet. The Juju leader applies a trust change last: its own hooks are where client
// requests are read and granted, so while it does not restart, requests arriving together land in the
// registry within moments and the other members, restarting at their turn onto the newest bundle, share
// one round; the leader then restarts once, onto the last bundle, and answers the requirers.
func TrustBehind(voters map[string]string, desired string) []string {
	var behind []string
	for name, trust := range voters {
		if trust != desired {
			behind = append(behind, name)
		}
	}
	slices.Sort(behind)
	return behind
}

// TrustSettle decides whether a member may restart onto the client trust bundle of generation seen (the one
// its hook's bags make), given the newest generation the Juju leader has published, when it changed, and how
// many client relations the leader last saw without a request yet (pending).
// A newer generation means a relation-changed with the newer bags is on its way to this unit: restarting now
// would only restart it again, so it is stale. A pending relation will bring a certificate of its own, so
// while any is pending the member waits, up to hold after the change (a requirer that never sends a request
// holds restarts back no longer than that). With none pending it waits out settle, which covers requirers
// related so recently that the leader has not seen them at all. When the published generation is older than
// the bags (the leader could not publish it), nothing is known and the member goes ahead.
func TrustSettle(seen, newest int64, pending int, changed, now time.Time, settle, hold time.Duration) (wait time.Duration, stale bool) {
	switch {
	case newest > seen:
		return 0, true
	case newest < seen:
		return 0, false
	}
	age := max(now.Sub(changed), 0) // a clock behind the leader's counts from now
	if pending > 0 {
		settle = max(settle, hold)
	}
	if age >= settle {
		return 0, false
	}
	return settle - age, false
}
