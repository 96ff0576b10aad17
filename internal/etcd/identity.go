package etcd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/server/v3/storage/wal"
	"go.etcd.io/etcd/server/v3/storage/wal/walpb"
	"go.uber.org/zap"
	"google.golang.org/protobuf/proto"
)

// ErrNoData means the data dir holds no etcd WAL: a fresh member.
var ErrNoData = errors.New("data dir holds no etcd data")

// DataDirIdentity returns the member and cluster IDs recorded in the WAL of
// an existing data dir, read-only and without locks, so it is safe while
// etcd runs. The charm compares them with the live cluster to refuse
// starting a unit whose data belongs to another cluster (or to a member that
// was removed). It returns ErrNoData for an absent or empty data dir.
func DataDirIdentity(dataDir string) (memberID, clusterID uint64, err error) {
	walDir := filepath.Join(dataDir, "member", "wal")
	if _, err := os.Stat(walDir); errors.Is(err, os.ErrNotExist) {
		return 0, 0, fmt.Errorf("%s: %w", dataDir, ErrNoData)
	} else if err != nil {
		return 0, 0, fmt.Errorf("reading WAL dir %s: %w", walDir, err)
	}
	if !wal.Exist(walDir) {
		return 0, 0, fmt.Errorf("%s: %w", dataDir, ErrNoData)
	}
	// The wal package panics (MustUnmarshal) on some corrupt records; a
	// corrupt data dir must become a hook error, not a crashed charm.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("reading WAL in %s: corrupt data: %v", walDir, r)
		}
	}()
	lg := zap.NewNop()
	// Start from the newest snapshot the WAL records, as etcd does at
	// boot: older WAL files may have been purged.
	snaps, err := wal.ValidSnapshotEntries(lg, walDir)
	if err != nil {
		return 0, 0, fmt.Errorf("reading WAL snapshots in %s: %w", walDir, err)
	}
	from := &walpb.Snapshot{}
	if len(snaps) > 0 {
		from = snaps[len(snaps)-1]
	}
	w, err := wal.OpenForRead(lg, walDir, from)
	if err != nil {
		return 0, 0, fmt.Errorf("opening WAL in %s: %w", walDir, err)
	}
	defer w.Close()
	metadata, _, _, err := w.ReadAll()
	// ErrSnapshotNotFound still comes with the metadata, which is all we need.
	if err != nil && !(errors.Is(err, wal.ErrSnapshotNotFound) && len(metadata) > 0) {
		return 0, 0, fmt.Errorf("reading WAL in %s: %w", walDir, err)
	}
	var md etcdserverpb.Metadata
	if err := proto.Unmarshal(metadata, &md); err != nil {
		return 0, 0, fmt.Errorf("decoding WAL metadata in %s: %w", walDir, err)
	}
	if md.GetNodeID() == 0 || md.GetClusterID() == 0 {
		return 0, 0, fmt.Errorf("WAL metadata in %s has no member or cluster ID", walDir)
	}
	return md.GetNodeID(), md.GetClusterID(), nil
}
