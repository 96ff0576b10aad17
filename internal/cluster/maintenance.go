package cluster

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Compact discards key history before rev cluster-wide. With physical it
// waits until the members have actually deleted the old revisions, which a
// following Defrag needs to reclaim space. Compacting to a revision that is
// already compacted is not an error.
func (c *Client) Compact(ctx context.Context, rev int64, physical bool) error {
	var opts []clientv3.CompactOption
	if physical {
		opts = append(opts, clientv3.WithCompactPhysical())
	}
	_, err := c.cli.Compact(ctx, rev, opts...)
	if kindOf(err) == ErrCompacted {
		return nil
	}
	return wrap(fmt.Sprintf("compact etcd to revision %d", rev), err)
}

// Revision returns the cluster's current key-value revision (a linearizable
// read), the usual upper bound for Compact.
func (c *Client) Revision(ctx context.Context) (int64, error) {
	resp, err := c.cli.Get(ctx, healthKey, clientv3.WithCountOnly())
	if err != nil {
		return 0, wrap("read etcd revision", err)
	}
	return resp.Header.Revision, nil
}

// Defrag rebuilds the database file of the member behind endpoint to return
// free pages to the filesystem. It is per member, not replicated, and blocks
// that member's reads and writes while it runs: do one member at a time,
// the leader last.
func (c *Client) Defrag(ctx context.Context, endpoint string) error {
	_, err := c.cli.Defragment(ctx, endpoint)
	return wrap("defragment etcd endpoint "+endpoint, err)
}

// HashKV is a member's hash of its key-value store up to a revision. Equal
// Hash at equal HashRevision on every member means their data agree.
type HashKV struct {
	MemberID        uint64
	Hash            uint32
	HashRevision    int64 // the revision the hash covers
	CompactRevision int64 // the member's compacted revision when hashing
	Revision        int64 // the member's current revision
}

// HashKV asks the member behind endpoint to hash its key-value store up to
// rev (0 = its latest revision; pass one revision to every member to compare).
func (c *Client) HashKV(ctx context.Context, endpoint string, rev int64) (HashKV, error) {
	resp, err := c.cli.HashKV(ctx, endpoint, rev)
	if err != nil {
		return HashKV{}, wrap(fmt.Sprintf("hash etcd endpoint %s at revision %d", endpoint, rev), err)
	}
	h := HashKV{Hash: resp.Hash, HashRevision: resp.HashRevision, CompactRevision: resp.CompactRevision}
	if resp.Header != nil {
		h.MemberID, h.Revision = resp.Header.MemberId, resp.Header.Revision
	}
	return h, nil
}
