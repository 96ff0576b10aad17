package plan

import "time"

// Publish is what a new learner's own metrics say about the raft request that publishes it (its name and
// client URLs; a member serves clients only once it is applied).
type Publish int

const (
	// PublishPending: the metrics do not answer yet, the snapshot the learner joins with has not landed, or
	// the publish is pending for less than the grace.
	PublishPending Publish = iota
	// PublishDone: the learner has applied its snapshot and nothing of its own is pending.
	PublishDone
	// PublishLost: the learner applied its snapshot and its publish has stayed pending past the grace. etcd
	// loses a publish forwarded before the snapshot lands and retries it only after a request timeout (7 s,
	// etcd#8608); restarting the learner publishes it at once.
	PublishLost
)

// PublishProgress is one reading of the learner's metrics listener.
type PublishProgress struct {
	Readable bool   // the metrics listener answered
	Applied  uint64 // etcd_server_proposals_applied_total: above zero once the snapshot is applied
	Pending  uint64 // etcd_server_proposals_pending: the learner's own requests not yet applied
}

// JudgePublish judges one reading, given since, when the publish was first seen pending after the snapshot
// (zero if it was not), and returns the verdict and the since to carry to the next reading.
func JudgePublish(p PublishProgress, since, now time.Time, grace time.Duration) (Publish, time.Time) {
	switch {
	case !p.Readable || p.Applied == 0:
		return PublishPending, time.Time{}
	case p.Pending == 0:
		return PublishDone, time.Time{}
	case since.IsZero():
		return PublishPending, now
	case now.Sub(since) > grace:
		return PublishLost, since
	}
	return PublishPending, since
}
