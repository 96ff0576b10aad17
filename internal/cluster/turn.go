package cluster

import (
	"context"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// A turn is a cluster-wide token that one holder at a time keeps under a key: its value names the holder and
// the key lives on the holder's lease, so a holder that dies gives the turn back when its lease expires.
// Unlike a queue of waiters (concurrency.Mutex), a turn never waits: a caller that finds it taken learns who
// holds it and decides for itself whether that holder is real (a live member) or stale (a key left without a
// lease, a member that no longer exists), and may break a stale one.

// TurnHolder is who holds a turn, as the key says.
type TurnHolder struct {
	Name        string // the holder's name, as it wrote it
	Lease       int64  // 0 for a key that no lease keeps: it will never expire by itself
	ModRevision int64  // identifies this holding, so breaking it cannot break a newer one
}

// Turn is one holding of a turn: keep it by keeping the process alive; give it back with Release.
type Turn struct {
	c     *Client
	key   string
	lease clientv3.LeaseID
	rev   int64
}

// TakeTurn takes the turn at key for name, on a lease of ttl seconds kept alive while ctx lives. When someone
// holds it already, it returns nil and the holder.
func (c *Client) TakeTurn(ctx context.Context, key, name string, ttl int64) (*Turn, TurnHolder, error) {
	op := "take the turn " + key
	grant, err := c.cli.Grant(ctx, ttl)
	if err != nil {
		return nil, TurnHolder{}, wrap(op, err)
	}
	resp, err := c.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, name, clientv3.WithLease(grant.ID))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		_, _ = c.cli.Revoke(context.WithoutCancel(ctx), grant.ID)
		return nil, TurnHolder{}, wrap(op, err)
	}
	if !resp.Succeeded {
		_, _ = c.cli.Revoke(ctx, grant.ID)
		kvs := resp.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 { // released between the compare and the get: the caller may simply try again
			return nil, TurnHolder{}, nil
		}
		return nil, TurnHolder{Name: string(kvs[0].Value), Lease: kvs[0].Lease, ModRevision: kvs[0].ModRevision}, nil
	}
	keep, err := c.cli.KeepAlive(ctx, grant.ID)
	if err != nil {
		_, _ = c.cli.Revoke(context.WithoutCancel(ctx), grant.ID)
		return nil, TurnHolder{}, wrap(op, err)
	}
	go func() { // drain keep-alive answers; the channel closes when ctx ends or the lease is revoked
		for range keep {
		}
	}()
	return &Turn{c: c, key: key, lease: grant.ID, rev: resp.Header.Revision}, TurnHolder{}, nil
}

// Release gives the turn back: the key goes with its lease.
func (t *Turn) Release(ctx context.Context) error {
	_, err := t.c.cli.Revoke(ctx, t.lease)
	return wrap("release the turn "+t.key, err)
}

// BreakTurn deletes a stale holding, and only that one: a turn taken again since is left alone.
func (c *Client) BreakTurn(ctx context.Context, key string, h TurnHolder) error {
	_, err := c.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", h.ModRevision)).
		Then(clientv3.OpDelete(key)).
		Commit()
	return wrap(fmt.Sprintf("break the turn %s held by %q (lease %s)", key, h.Name, strconv.FormatInt(h.Lease, 16)), err)
}
