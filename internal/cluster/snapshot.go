package cluster

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
)

// SnapshotInfo describes a snapshot written by Snapshot.
type SnapshotInfo struct {
	Endpoint string
	Size     int64 // bytes written, including the trailing sha256
	// Version is the storage version of the snapshot (what etcdutl restore
	// must understand). The stream carries no revision; read it from the
	// file with etcdutl snapshot status.
	Version string
}

// Snapshot streams a consistent point-in-time copy of the database of the
// member behind endpoint into w, using etcd's snapshot API (never a copy of
// the db file, which can miss WAL entries). The stream ends with a sha256
// that etcdutl verifies on restore; a stream without one is reported as an
// error so a truncated backup is never mistaken for a good one. Prefer the
// leader's endpoint: its copy is the most up to date.
func (c *Client) Snapshot(ctx context.Context, endpoint string, w io.Writer) (SnapshotInfo, error) {
	op := "snapshot etcd endpoint " + endpoint
	cli, err := c.atEndpoint(endpoint)
	if err != nil {
		return SnapshotInfo{}, err
	}
	defer cli.Close()
	// The stream dies with this context, so cancel it on every return path.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := cli.SnapshotWithVersion(ctx)
	if err != nil {
		return SnapshotInfo{}, wrap(op, err)
	}
	defer resp.Snapshot.Close()
	info := SnapshotInfo{Endpoint: endpoint, Version: resp.Version}
	n, err := io.Copy(w, resp.Snapshot)
	info.Size = n
	if err != nil {
		return info, wrap(op, err)
	}
	if !hasSnapshotChecksum(n) {
		return info, wrap(op, fmt.Errorf("stream of %d bytes ends without a sha256 checksum", n))
	}
	return info, nil
}

// hasSnapshotChecksum reports whether a stream of n bytes carries etcd's
// trailing sha256: the database is a whole number of 512-byte sectors, so a
// checksummed stream leaves exactly the digest as remainder.
func hasSnapshotChecksum(n int64) bool { return n%512 == sha256.Size }
