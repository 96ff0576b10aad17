package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Member is one etcd cluster member as the membership list records it.
type Member struct {
	ID         uint64
	Name       string // empty until the member has started and published itself
	PeerURLs   []string
	ClientURLs []string // empty until the member has started
	IsLearner  bool
}

// IDString is the member ID the way etcdctl and etcd's logs print it.
func (m Member) IDString() string { return strconv.FormatUint(m.ID, 16) }

// Started reports whether the member has started and published its name and
// client URLs; an added member stays unstarted until its process joins.
func (m Member) Started() bool { return m.Name != "" }

func memberFromPB(m *etcdserverpb.Member) Member {
	return Member{
		ID:         m.ID,
		Name:       m.Name,
		PeerURLs:   slices.Clone(m.PeerURLs),
		ClientURLs: slices.Clone(m.ClientURLs),
		IsLearner:  m.IsLearner,
	}
}

func membersFromPB(ms []*etcdserverpb.Member) []Member {
	out := make([]Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, memberFromPB(m))
	}
	return out
}

// Members lists the cluster's members (a linearizable read, so it reflects
// every committed membership change). A read is safe to repeat, so a member
// that is just shutting down is retried past until ctx ends.
func (c *Client) Members(ctx context.Context) ([]Member, error) {
	var members []Member
	err := retry(ctx, IsTransient, func(ctx context.Context) error {
		resp, err := c.cli.MemberList(ctx)
		if err == nil {
			members = membersFromPB(resp.Members)
		}
		return err
	})
	if err != nil {
		return nil, wrap("list etcd members", err)
	}
	return members, nil
}

// Member returns the member with the given ID, or ErrMemberNotFound.
func (c *Client) Member(ctx context.Context, id uint64) (Member, error) {
	ms, err := c.Members(ctx)
	if err != nil {
		return Member{}, err
	}
	for _, m := range ms {
		if m.ID == id {
			return m, nil
		}
	}
	return Member{}, &Error{Op: "find etcd member " + strconv.FormatUint(id, 16), Kind: ErrMemberNotFound, Err: ErrMemberNotFound}
}

// AddLearner registers a new learner with the given peer URLs and returns it
// with the membership list after the add (what the new member needs for its
// initial-cluster). It retries, until ctx ends, while etcd refuses adds for
// the 5 s after a membership change or restart, and after a request raft
// dropped because another membership change was pending (see
// changeAttemptTimeout).
//
// It is idempotent: if a member with exactly these peer URLs is already
// registered (an earlier attempt that timed out but was applied, or a
// re-run hook), that member is returned instead of an error. The caller can
// tell from IsLearner whether it has been promoted since.
func (c *Client) AddLearner(ctx context.Context, peerURLs []string) (Member, []Member, error) {
	op := fmt.Sprintf("add etcd learner %v", peerURLs)
	if len(peerURLs) == 0 {
		return Member{}, nil, fmt.Errorf("%s: no peer URLs given", op)
	}
	var added Member
	var members []Member
	err := retry(ctx, retryableChange, func(ctx context.Context) error {
		resp, err := changeAttempt(ctx, func(ctx context.Context) (*clientv3.MemberAddResponse, error) {
			return c.cli.MemberAddAsLearner(ctx, peerURLs)
		})
		if err == nil {
			added, members = memberFromPB(resp.Member), membersFromPB(resp.Members)
			return nil
		}
		if k := kindOf(err); k != ErrPeerURLExists && k != ErrTooManyLearners && !isEtcd(err, rpctypes.ErrMemberExist) &&
			!errors.Is(err, errChangeDropped) {
			return err
		}
		// Each of these refusals may mean the member is ours already (etcd
		// derives the ID from the peer URLs and the time, so a quick repeat
		// can even collide on the ID).
		existing, all, lerr := c.memberWithPeerURLs(ctx, peerURLs)
		if lerr != nil {
			return errors.Join(err, lerr)
		}
		if existing == nil {
			return err
		}
		added, members = *existing, all
		return nil
	})
	if err != nil {
		return Member{}, nil, wrap(op, err)
	}
	return added, members, nil
}

// changeAttemptTimeout bounds one membership change request. raft takes one membership change at a time and
// drops one proposed while another is pending without telling the proposer (etcd then waits out the
// request's deadline), so two units joining at once would otherwise leave one waiting for its whole hook;
// a healthy cluster commits a change in milliseconds.
const changeAttemptTimeout = 5 * time.Second

// errChangeDropped is an attempt that timed out while the caller's own deadline had not: most likely a
// proposal raft dropped, to be looked up and tried again.
var errChangeDropped = errors.New("etcd did not answer the membership change within " + changeAttemptTimeout.String() +
	" (raft drops a change proposed while another is pending)")

// changeAttempt runs one membership change request under its own deadline.
func changeAttempt[R any](ctx context.Context, call func(context.Context) (R, error)) (R, error) {
	actx, cancel := context.WithTimeout(ctx, changeAttemptTimeout)
	defer cancel()
	resp, err := call(actx)
	if err != nil && actx.Err() != nil && ctx.Err() == nil {
		return resp, fmt.Errorf("%w: %w", errChangeDropped, err)
	}
	return resp, err
}

func retryableChange(err error) bool { return IsTransient(err) || errors.Is(err, errChangeDropped) }

func (c *Client) memberWithPeerURLs(ctx context.Context, peerURLs []string) (*Member, []Member, error) {
	ms, err := c.Members(ctx)
	if err != nil {
		return nil, nil, err
	}
	want := slices.Sorted(slices.Values(peerURLs))
	for _, m := range ms {
		if slices.Equal(slices.Sorted(slices.Values(m.PeerURLs)), want) {
			return &m, ms, nil
		}
	}
	return nil, ms, nil
}

// Promote makes learner id a voting member. etcd refuses until the learner's
// log is within 90% of the leader's, so this retries until ctx ends.
// Promoting a member that already votes is not an error.
//
// The request goes to the raft leader's own endpoint: a follower forwards a
// promotion to the leader without the identity of a certificate-authenticated
// client, and with authentication on the leader refuses it ("user name is
// empty") until the follower gives up after a request timeout (etcd#20757).
func (c *Client) Promote(ctx context.Context, id uint64) error {
	err := retry(ctx, retryableChange, func(ctx context.Context) error {
		_, cli, err := c.atLeader(ctx)
		if err != nil {
			return err
		}
		defer cli.Close()
		_, err = changeAttempt(ctx, func(ctx context.Context) (*clientv3.MemberPromoteResponse, error) {
			return cli.MemberPromote(ctx, id)
		})
		if kindOf(err) == ErrNotLearner {
			return nil
		}
		return err
	})
	return wrap("promote etcd member "+strconv.FormatUint(id, 16), err)
}

// removeAttemptTimeout bounds one member-remove request; etcd commits a healthy one in milliseconds.
const removeAttemptTimeout = 10 * time.Second

// Remove takes member id out of the cluster; the removed member stops
// itself and its data dir can never rejoin. Move leadership away first (see
// MoveLeader) to avoid an election stall. Removing a member that is already
// gone is not an error. Transient refusals are retried until ctx ends.
func (c *Client) Remove(ctx context.Context, id uint64) error {
	// Each attempt has its own deadline: a request caught by a leader change or by the removed member shutting
	// down can hang rather than fail, and a retry of a removal that did commit finds the member gone.
	timedOut := func(err error) bool { return IsTransient(err) || errors.Is(err, context.DeadlineExceeded) }
	err := retry(ctx, timedOut, func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, removeAttemptTimeout)
		defer cancel()
		_, err := c.cli.MemberRemove(ctx, id)
		if kindOf(err) == ErrMemberNotFound {
			return nil
		}
		return err
	})
	return wrap("remove etcd member "+strconv.FormatUint(id, 16), err)
}
