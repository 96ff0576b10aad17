package etcd

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestGivenAWALFsyncHistogramWhenParsedThenP99IsTheBoundOfTheBucketHoldingIt(t *testing.T) {
	page := `# HELP etcd_disk_wal_fsync_duration_seconds The latency distributions of fsync called by WAL.
# TYPE etcd_disk_wal_fsync_duration_seconds histogram
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"} 500
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.002"} 900
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.004"} 950
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.008"} 980
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.016"} 995
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.032"} 1000
etcd_disk_wal_fsync_duration_seconds_bucket{le="+Inf"} 1000
etcd_disk_wal_fsync_duration_seconds_sum 2.5
etcd_disk_wal_fsync_duration_seconds_count 1000
etcd_server_proposals_applied_total 12
`
	w, err := parseWALFsync(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	if w.Count != 1000 || w.P99 != 16*time.Millisecond {
		t.Fatalf("parsed %+v, want 1000 fsyncs with p99 within 16ms", w)
	}
	if _, err := parseWALFsync(strings.NewReader("etcd_server_proposals_applied_total 12\n")); err == nil {
		t.Fatal("a page without the histogram parsed")
	}
}

func TestGivenARunningMemberWhenItsWALFsyncIsReadThenTheHistogramHasItsFsyncs(t *testing.T) {
	_, _, e, _ := startRendered(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := ReadWALFsync(ctx, e.Config().ListenMetricsUrls[0].String())
	if err != nil {
		t.Fatal(err)
	}
	if w.Count == 0 || w.P99 <= 0 {
		t.Errorf("a member that has started and published reads %+v, want fsyncs counted and a p99", w)
	}
}
