package plan

import (
	"fmt"
	"time"
)

// ReplaceFacts are what a unit observed about its broken member before replacing it: taking it out of the
// cluster, moving its data aside and joining again as a learner.
type ReplaceFacts struct {
	// Problem says what is wrong with the member: its data dir lost, its data failing etcd's checks, or etcd
	// exiting at every start.
	Problem string
	// OnlyMember: no other unit has a member to replace this one through.
	OnlyMember bool
	// SafeToRemove: the other voters keep a quorum of the smaller cluster without this member.
	SafeToRemove bool
	// LastReplaced is when this unit last replaced its member, while that replacement has not ended in a
	// serving member; zero otherwise.
	LastReplaced time.Time
	Now          time.Time
	// Backoff is the least time between two replacements of the same unit's member.
	Backoff time.Duration
	// DataPresent: the data dir holds something, which is to be kept aside.
	DataPresent bool
	// CopiesKept counts the earlier data dirs kept aside; MaxCopies bounds them, as the charm deletes none.
	CopiesKept, MaxCopies int
}

// ReplaceVerdict is DecideReplacement's answer.
type ReplaceVerdict int

const (
	// ReplaceNow: take the member out, keep its data aside, join again.
	ReplaceNow ReplaceVerdict = iota + 1
	// ReplaceWait: not now; a later hook looks again.
	ReplaceWait
	// ReplaceBlocked: the charm will not replace it; the operator has to act, as the reason says.
	ReplaceBlocked
)

// DecideReplacement decides whether a broken member is replaced now. A member is replaced only through
// others that keep quorum without it: a lone member's data is never thrown over by the charm, since no copy
// of the data would be left but a backup, and choosing that is the operator's call. Data moved aside is
// never deleted, so the copies are bounded, which also caps a disk that keeps corrupting what it is given; and
// a member found broken again before its replacement ever served waits out a back-off, so that a fault that
// is not in the data (a bad configuration, a missing peer) cannot churn the cluster.
func DecideReplacement(f ReplaceFacts) (ReplaceVerdict, string) {
	switch {
	case f.OnlyMember:
		return ReplaceBlocked, fmt.Sprintf("%s, and no other member holds the data; "+
			"run the restore action with the newest backup (snapshot or S3)", f.Problem)
	case f.DataPresent && f.CopiesKept >= f.MaxCopies:
		return ReplaceBlocked, fmt.Sprintf("%s; %d earlier copies of unusable data are kept aside already, "+
			"and the charm deletes none: remove those no longer needed", f.Problem, f.CopiesKept)
	case !f.LastReplaced.IsZero() && f.Now.Sub(f.LastReplaced) < f.Backoff:
		next := f.LastReplaced.Add(f.Backoff)
		return ReplaceWait, fmt.Sprintf("%s again, after a replacement at %s; the next not before %s",
			f.Problem, f.LastReplaced.UTC().Format(time.RFC3339), next.UTC().Format(time.RFC3339))
	case !f.SafeToRemove:
		return ReplaceWait, f.Problem + "; replacing it waits until the other members keep quorum without it"
	}
	return ReplaceNow, ""
}
