package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// FsyncResult is the disk's commit rate as etcd's WAL sees it: one small append, then fdatasync.
// Its Rate is the ceiling on sequential commits, which batching lifts.
type FsyncResult struct {
	Dir string
	Timings
}

// walSegmentBytes is the size etcd preallocates for a WAL segment; writing inside a preallocated file is
// what etcd's fdatasync pays for (no size change to journal).
const walSegmentBytes = 64 << 20

// FsyncProbe appends 2 KiB records to a preallocated file in dir, fdatasyncing after each, for d or n
// records, whichever comes first. The file is removed afterwards.
func FsyncProbe(dir string, d time.Duration, n int) (FsyncResult, error) {
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return FsyncResult{}, fmt.Errorf("fsync probe in %s: %w", dir, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, walSegmentBytes); err != nil {
		return FsyncResult{}, fmt.Errorf("preallocating %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return FsyncResult{}, err
	}
	record := randomBytes(2048)
	res := FsyncResult{Dir: filepath.Clean(dir)}
	var off int64
	start := time.Now()
	for (d <= 0 || time.Since(start) < d) && (n <= 0 || res.Count() < n) {
		st := time.Now()
		if _, err := f.WriteAt(record, off); err != nil {
			return res, fmt.Errorf("fsync probe write: %w", err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return res, fmt.Errorf("fdatasync: %w", err)
		}
		res.Latencies = append(res.Latencies, time.Since(st))
		off = (off + int64(len(record))) % walSegmentBytes
	}
	res.Elapsed = time.Since(start)
	slices.Sort(res.Latencies)
	return res, nil
}

// Filesystem names the filesystem type holding dir, for the machine description.
func Filesystem(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "unknown"
	}
	names := map[int64]string{0xef53: "ext4", 0x58465342: "xfs", 0x9123683e: "btrfs", 0x01021994: "tmpfs",
		0x794c7630: "overlayfs", 0x2fc12fc1: "zfs", 0x65735546: "fuse"}
	if name, ok := names[int64(st.Type)]; ok {
		return name
	}
	return fmt.Sprintf("type 0x%x", st.Type)
}
