package etcd

import (
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"
)

// FsyncProbe is how fast a directory's disk makes small writes durable, measured the way etcd's WAL writes:
// one small append, then fdatasync, again and again.
type FsyncProbe struct {
	Writes   int
	P99, Max time.Duration
}

// Probe sizes, after the fio job etcd's documentation gives for judging a disk (--fdatasync=1 --bs=2300):
// small appends, each made durable before the next.
const (
	probeWriteSize = 2300
	probeWrites    = 200
)

// MeasureFsync appends probeWriteSize bytes probeWrites times to a scratch file in dir, with an fdatasync
// after each, and reports the 99th percentile and the slowest. The file is removed afterwards. On a disk fit
// for etcd it takes well under a second (etcd wants the 99th percentile under 10 ms).
func MeasureFsync(dir string) (FsyncProbe, error) {
	f, err := os.CreateTemp(dir, ".fsync-probe-")
	if err != nil {
		return FsyncProbe{}, fmt.Errorf("creating an fsync probe file in %s: %w", dir, err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	block := make([]byte, probeWriteSize)
	took := make([]time.Duration, 0, probeWrites)
	for range probeWrites {
		start := time.Now()
		if _, err := f.Write(block); err != nil {
			return FsyncProbe{}, fmt.Errorf("writing the fsync probe in %s: %w", dir, err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return FsyncProbe{}, fmt.Errorf("fdatasync of the probe in %s: %w", dir, err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	return FsyncProbe{Writes: len(took), P99: took[len(took)*99/100-1], Max: took[len(took)-1]}, nil
}
