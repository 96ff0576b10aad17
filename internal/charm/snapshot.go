package charm

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gruyaume/goops"
	"go.etcd.io/etcd/api/v3/version"

	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/internal/etcd"
)

const snapshotTimeout = 5 * time.Minute

// takenSnapshot is a snapshot packed and verified on this unit's disk.
type takenSnapshot struct {
	Path   string
	Size   int64
	SHA256 string
	Status etcd.SnapshotStatus
	Taken  time.Time
}

type snapshotParams struct {
	Target      string `json:"target"`
	KeysVersion string `json:"keys-version"`
}

// snapshotAction keeps the classic charm's result keys, which existing backup scripts read, and adds what
// etcdutl's status says about the file.
func (c *unitContext) snapshotAction() error {
	var p snapshotParams
	if err := goops.GetActionParams(&p); err != nil {
		return err
	}
	switch p.KeysVersion {
	case "", "v3":
	case "v2":
		return fmt.Errorf("keys-version v2 is not available: etcd 3.6 and later have no v2 store; use keys-version=v3")
	default:
		return fmt.Errorf("keys-version %q is not supported; use v3", p.KeysVersion)
	}
	if p.Target == "" {
		return fmt.Errorf("target is empty; give a directory on the unit, e.g. /home/ubuntu/etcd-snapshots")
	}
	ctx, cancel := context.WithTimeout(c.ctx, snapshotTimeout)
	defer cancel()
	s, err := c.takeSnapshot(ctx, c.hostPath(p.Target))
	if err != nil {
		return err
	}
	if err := c.handOver(s.Path); err != nil {
		return err
	}
	return goops.SetActionResults(map[string]string{
		"snapshot.path":    s.Path,
		"snapshot.size":    humanSize(s.Size),
		"snapshot.sha256":  s.SHA256,
		"snapshot.version": fmt.Sprintf("etcdctl version: %s\nAPI version: %s", version.Version, version.APIVersion),
		"copy.cmd":         fmt.Sprintf("juju scp %s:%s .", c.unit, s.Path),
		"size-bytes":       fmt.Sprint(s.Size),
		"revision":         fmt.Sprint(s.Status.Revision),
		"total-keys":       fmt.Sprint(s.Status.TotalKeys),
		"hash":             fmt.Sprint(s.Status.Hash),
		"storage-version":  s.Status.Version,
	})
}

// takeSnapshot streams a snapshot from the raft leader (its copy is the most recent), verifies it with
// etcdutl's status and packs it into dir under the classic charm's name.
func (c *unitContext) takeSnapshot(ctx context.Context, dir string) (takenSnapshot, error) {
	if c.peers == nil {
		return takenSnapshot{}, fmt.Errorf("no peer relation yet; wait for the unit to become active")
	}
	cli, err := c.dialVoters(ctx)
	if err != nil {
		return takenSnapshot{}, err
	}
	defer cli.Close()
	endpoint := c.clientURL()
	if leader, err := cli.Leader(ctx); err == nil && len(leader.ClientURLs) > 0 {
		endpoint = leader.ClientURLs[0]
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return takenSnapshot{}, fmt.Errorf("creating %s: %w", dir, err)
	}
	now := time.Now()
	db := filepath.Join(dir, ".snapshot-"+now.UTC().Format("20060102T150405.000000000")+".db")
	defer os.Remove(db)
	if err := streamSnapshot(ctx, cli, endpoint, db); err != nil {
		return takenSnapshot{}, err
	}
	st, err := etcd.SnapshotFileStatus(db)
	if err != nil {
		return takenSnapshot{}, fmt.Errorf("the snapshot from %s failed verification: %w", endpoint, err)
	}
	archive := filepath.Join(dir, etcd.SnapshotArchiveName(now))
	if err := etcd.PackSnapshot(db, archive); err != nil {
		return takenSnapshot{}, err
	}
	sum, size, err := etcd.FileSHA256(archive)
	if err != nil {
		return takenSnapshot{}, err
	}
	goops.LogInfof("snapshot %s: revision %d, %d keys, hash %d", archive, st.Revision, st.TotalKeys, st.Hash)
	return takenSnapshot{Path: archive, Size: size, SHA256: sum, Status: st, Taken: now}, nil
}

func streamSnapshot(ctx context.Context, cli *cluster.Client, endpoint, path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	_, err = cli.Snapshot(ctx, endpoint, f)
	if err = firstErr(err, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("taking a snapshot from %s: %w", endpoint, err)
	}
	return nil
}

// hostPath places an operator-given absolute path under the unit's filesystem root (a no-op under Juju,
// where the root is /). A path already under the root is taken as it is.
func (c *unitContext) hostPath(p string) string {
	if c.root == "/" || c.root == "" || p == c.root || strings.HasPrefix(p, strings.TrimSuffix(c.root, "/")+"/") {
		return p
	}
	return filepath.Join(c.root, p)
}

// humanSize is du -h's style, which the classic charm's snapshot.size had.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	v, suffixes := float64(n), "KMGTP"
	i := -1
	for v >= unit && i < len(suffixes)-1 {
		v /= unit
		i++
	}
	if v < 10 {
		return fmt.Sprintf("%.1f%c", v, suffixes[i])
	}
	return fmt.Sprintf("%.0f%c", v, suffixes[i])
}
