package cluster

import (
	"context"
	"errors"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Sentinel errors the charm decides on. Errors returned by this package wrap
// one of these (when it applies) next to etcd's original error.
var (
	// ErrUnhealthyCluster: etcd refused a membership change because the member
	// serving it has not been connected to every voter for the last 5 s (or
	// too few members have started). Retry after a few seconds.
	ErrUnhealthyCluster = errors.New("etcd refused the membership change for now (unhealthy cluster)")
	// ErrTooManyLearners: a learner already exists; promote or remove it first.
	ErrTooManyLearners = errors.New("etcd already has the maximum number of learners")
	// ErrLearnerNotReady: the learner has not caught up with the leader yet.
	ErrLearnerNotReady = errors.New("learner is not yet in sync with the leader")
	// ErrMemberNotFound: no member has the given ID.
	ErrMemberNotFound = errors.New("etcd member not found")
	// ErrNotLearner: promotion asked for a member that already votes.
	ErrNotLearner = errors.New("etcd member is not a learner")
	// ErrNotLeader: the request must be served by the leader and was not.
	ErrNotLeader = errors.New("etcd member is not the leader")
	// ErrNoLeader: the cluster has no leader at the moment (election under way
	// or quorum lost).
	ErrNoLeader = errors.New("etcd cluster has no leader")
	// ErrLearnerUnsupported: the request was sent to a learner, which serves
	// only serializable reads and status.
	ErrLearnerUnsupported = errors.New("request not supported by an etcd learner")
	// ErrPermissionDenied: RBAC refused the request for this user.
	ErrPermissionDenied = errors.New("etcd permission denied")
	// ErrAuthFailed: username/password authentication failed.
	ErrAuthFailed = errors.New("etcd authentication failed")
	// ErrAuthNotEnabled: the operation needs auth to be enabled.
	ErrAuthNotEnabled = errors.New("etcd authentication is not enabled")
	// ErrUserNotFound / ErrRoleNotFound: the named RBAC user or role does
	// not exist.
	ErrUserNotFound = errors.New("etcd user not found")
	ErrRoleNotFound = errors.New("etcd role not found")
	// ErrNoSpace: the NOSPACE alarm is raised; the cluster only serves reads
	// and deletes until compact, defrag and disarm.
	ErrNoSpace = errors.New("etcd database space exceeded (NOSPACE)")
	// ErrPeerURLExists: a member with this peer URL is already registered.
	ErrPeerURLExists = errors.New("etcd member with this peer URL already exists")
	// ErrCompacted: the revision asked for has been compacted away.
	ErrCompacted = errors.New("etcd revision has been compacted")
	// ErrCorrupt: a member raised the CORRUPT alarm.
	ErrCorrupt = errors.New("etcd cluster is corrupt")
)

// raftStoppedMessage is go.etcd.io/raft's ErrStopped text, which etcd passes
// to clients as is.
const raftStoppedMessage = "raft: stopped"

// raftProposalDroppedMessage is go.etcd.io/raft's ErrProposalDropped text, also passed to clients as is: the
// leader refuses proposals while it hands leadership over, and a follower while it knows no leader. The
// same request succeeds a moment later.
const raftProposalDroppedMessage = "raft proposal dropped"

// errNotSupportedForLearner is the client-side form of etcd's learner
// refusal; rpctypes exposes only its gRPC form.
var errNotSupportedForLearner = rpctypes.Error(rpctypes.ErrGRPCNotSupportedForLearner)

// kinds maps etcd's errors to the sentinel the charm decides on. Order
// matters only in that the first match wins.
var kinds = []struct {
	etcd []error
	kind error
}{
	{[]error{rpctypes.ErrUnhealthy, rpctypes.ErrMemberNotEnoughStarted}, ErrUnhealthyCluster},
	{[]error{rpctypes.ErrTooManyLearners}, ErrTooManyLearners},
	{[]error{rpctypes.ErrMemberLearnerNotReady}, ErrLearnerNotReady},
	{[]error{rpctypes.ErrMemberNotFound}, ErrMemberNotFound},
	{[]error{rpctypes.ErrMemberNotLearner}, ErrNotLearner},
	{[]error{rpctypes.ErrNotLeader}, ErrNotLeader},
	{[]error{rpctypes.ErrNoLeader, rpctypes.ErrLeaderChanged, rpctypes.ErrTimeoutDueToLeaderFail}, ErrNoLeader},
	{[]error{errNotSupportedForLearner}, ErrLearnerUnsupported},
	{[]error{rpctypes.ErrPermissionDenied}, ErrPermissionDenied},
	{[]error{rpctypes.ErrAuthFailed}, ErrAuthFailed},
	{[]error{rpctypes.ErrAuthNotEnabled}, ErrAuthNotEnabled},
	{[]error{rpctypes.ErrUserNotFound}, ErrUserNotFound},
	{[]error{rpctypes.ErrRoleNotFound}, ErrRoleNotFound},
	{[]error{rpctypes.ErrNoSpace}, ErrNoSpace},
	{[]error{rpctypes.ErrPeerURLExist}, ErrPeerURLExists},
	{[]error{rpctypes.ErrCompacted}, ErrCompacted},
	{[]error{rpctypes.ErrCorrupt}, ErrCorrupt},
}

// Error is what this package returns for a failed etcd call: the operation,
// etcd's error, and the sentinel kind if one applies. errors.Is matches both
// the kind and anything in etcd's error chain.
type Error struct {
	Op   string
	Kind error
	Err  error
}

func (e *Error) Error() string { return e.Op + ": " + e.Err.Error() }

// Unwrap exposes both the sentinel and etcd's error to errors.Is/As.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// wrap names the failed operation and attaches the sentinel kind.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Kind: kindOf(err), Err: err}
}

// isEtcd reports whether err is the given etcd error, whether it arrived as
// clientv3's typed error or still as a raw gRPC status.
func isEtcd(err, target error) bool {
	if errors.Is(err, target) {
		return true
	}
	// Use the innermost gRPC status itself: status.FromError on a wrapped
	// error reports the whole wrapped text, which rpctypes cannot look up.
	var se grpcStatusError
	if errors.As(err, &se) {
		return errors.Is(rpctypes.Error(se), target)
	}
	return false
}

// grpcStatusError is how gRPC's status errors identify themselves.
type grpcStatusError interface {
	error
	GRPCStatus() *status.Status
}

// kindOf returns the sentinel for err, or nil when none applies.
func kindOf(err error) error {
	for _, k := range kinds {
		if errors.Is(err, k.kind) {
			return k.kind
		}
	}
	for _, k := range kinds {
		for _, e := range k.etcd {
			if isEtcd(err, e) {
				return k.kind
			}
		}
	}
	return nil
}

// IsTransient reports whether err is a refusal that can succeed when retried
// later without anyone changing anything: a membership-change window, a
// learner catching up, a leader election, or an unreachable member. Context
// cancellation by the caller is not transient.
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	switch kindOf(err) {
	case ErrUnhealthyCluster, ErrLearnerNotReady, ErrNoLeader, ErrNotLeader:
		return true
	}
	for _, e := range []error{rpctypes.ErrTimeout, rpctypes.ErrTimeoutDueToConnectionLost,
		rpctypes.ErrTimeoutWaitAppliedIndex, rpctypes.ErrStopped, rpctypes.ErrTooManyRequests} {
		if isEtcd(err, e) {
			return true
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var se grpcStatusError
	if errors.As(err, &se) {
		st := se.GRPCStatus()
		// A member that is shutting down (just removed, or stopping), or one
		// in a leadership handover, answers with raft's own error,
		// untranslated; another member, or the same one a moment later, can
		// serve.
		return st.Code() == codes.Unavailable || st.Code() == codes.DeadlineExceeded ||
			st.Message() == raftStoppedMessage || st.Message() == raftProposalDroppedMessage
	}
	return false
}
