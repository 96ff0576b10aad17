package cluster

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Leader returns the current raft leader. It asks every started member for
// its status rather than trusting one member's view, because only the leader
// itself can be reached to move leadership away.
func (c *Client) Leader(ctx context.Context) (Member, error) {
	m, _, err := c.findLeader(ctx)
	if err != nil {
		return Member{}, wrap("find etcd leader", err)
	}
	return m, nil
}

// findLeader returns the leader and a client URL at which it answered.
func (c *Client) findLeader(ctx context.Context) (Member, string, error) {
	members, err := c.Members(ctx)
	if err != nil {
		return Member{}, "", err
	}
	var eps []string
	byEndpoint := map[string]Member{}
	for _, m := range members {
		if len(m.ClientURLs) == 0 {
			continue
		}
		eps = append(eps, m.ClientURLs[0])
		byEndpoint[m.ClientURLs[0]] = m
	}
	sts, errs := c.statusesOf(ctx, eps)
	for i, st := range sts {
		if errs[i] == nil && st.IsLeader() {
			return byEndpoint[eps[i]], eps[i], nil
		}
	}
	return Member{}, "", &Error{
		Op:   fmt.Sprintf("no member among %v says it leads", eps),
		Kind: ErrNoLeader,
		Err:  errors.Join(append([]error{ErrNoLeader}, errs...)...),
	}
}

// atLeader dials a client pinned to the raft leader's own endpoint, for requests etcd answers only there or
// mishandles when a follower forwards them. The caller closes it.
func (c *Client) atLeader(ctx context.Context) (Member, *clientv3.Client, error) {
	leader, ep, err := c.findLeader(ctx)
	if err != nil {
		return Member{}, nil, err
	}
	cli, err := c.atEndpoint(ep)
	if err != nil {
		return Member{}, nil, err
	}
	return leader, cli, nil
}

// MoveLeader hands raft leadership to member toID (a started voter). etcd
// only accepts the request from the current leader, so it is sent to the
// leader's own endpoint. If toID already leads, nothing is done. A leader
// change racing with the request is retried until ctx ends.
func (c *Client) MoveLeader(ctx context.Context, toID uint64) error {
	err := retry(ctx, IsTransient, func(ctx context.Context) error {
		leader, cli, err := c.atLeader(ctx)
		if err != nil {
			return err
		}
		defer cli.Close()
		if leader.ID == toID {
			return nil
		}
		_, err = cli.MoveLeader(ctx, toID)
		return err
	})
	return wrap("move etcd leadership to "+idString(toID), err)
}
