package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/etcd-charm/etcd/internal/cluster"
)

// TurnFacts are what a member saw of the restart turn when it could not take it.
type TurnFacts struct {
	Self    string   // this member's name
	Holder  string   // the name the turn's key holds
	Lease   int64    // the lease that keeps it; 0 means nothing ever expires it
	Members []string // the names of the cluster's members now
}

// TurnVerdict is what to do about a turn someone else holds.
type TurnVerdict int

const (
	// TurnWait: a live member holds it; this member tries again when that one has restarted.
	TurnWait TurnVerdict = iota + 1
	// TurnBreak: the holding is stale, so break it and try again.
	TurnBreak
)

// DecideTurn judges the holder of the restart turn. Only a member of the cluster, on a lease, holds a turn;
// anything else (a key no lease keeps, a name that is no member, this very member's holding left by a hook
// that was killed) would block every rolling restart for good, so it is broken.
func DecideTurn(f TurnFacts) (TurnVerdict, string) {
	switch {
	case f.Lease == 0:
		return TurnBreak, fmt.Sprintf("the restart turn is held by %q without a lease", f.Holder)
	case f.Holder == f.Self:
		return TurnBreak, "the restart turn is still held by an earlier hook of this unit"
	case !slices.Contains(f.Members, f.Holder):
		return TurnBreak, fmt.Sprintf("the restart turn is held by %q, which is no member", f.Holder)
	}
	return TurnWait, f.Holder + " is restarting"
}

// ReadyToRestart says whether this member (self) may restart now: every other voter must serve, so the
// cluster keeps its quorum while this one is down, and a member whose own restart failed stops the rolling
// restart instead of being followed by the next. The reason names the members in the way. An alarm does not
// stop a restart: raising quota_backend_bytes is one way out of NOSPACE, and it takes a restart.
func ReadyToRestart(r cluster.HealthReport, self uint64) (bool, string) {
	var unhealthy []string
	for _, m := range r.Members {
		if m.ID == self || m.IsLearner {
			continue
		}
		if !memberServing(r, m.ID) {
			unhealthy = append(unhealthy, MemberLabel(m))
		}
	}
	if len(unhealthy) > 0 {
		slices.Sort(unhealthy)
		return false, strings.Join(unhealthy, ", ") + plural(len(unhealthy), " is", " are") + " not healthy"
	}
	return true, ""
}

func memberServing(r cluster.HealthReport, id uint64) bool {
	for _, e := range r.Endpoints {
		if e.Member.ID == id && e.Serving {
			return true
		}
	}
	return false
}

// MemberLabel names a member for people: its name, or its ID before it has started.
func MemberLabel(m cluster.Member) string {
	if m.Name != "" {
		return m.Name
	}
	return m.IDString()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// RestartWord is what one voter's unit says about its restarts: why one is due ("" when none), and which
// application configuration and charm it judged that from.
type RestartWord struct {
	Due, Seen string
}

// RestartsDue names the other voters' units that still have a restart to make before the raft leader's, or
// that have not yet judged the configuration the leader sees (seen): a config change reaches every unit at
// once, and a unit whose hook has not run yet would otherwise look as if it had nothing due. The raft leader
// restarts after them: restarted first it would hand leadership to a member that restarts next and hands it
// on again; last, leadership moves once.
func RestartsDue(words map[string]RestartWord, seen string) []string {
	var out []string
	for unit, w := range words {
		if w.Due != "" || w.Seen != seen {
			out = append(out, unit)
		}
	}
	slices.Sort(out)
	return out
}
