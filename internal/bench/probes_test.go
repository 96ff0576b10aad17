package bench

import (
	"math"
	"strings"
	"testing"
	"time"
)

const walMetrics = `# HELP etcd_disk_wal_fsync_duration_seconds The latency distributions of fsync called by WAL.
# TYPE etcd_disk_wal_fsync_duration_seconds histogram
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.001"} 80
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.002"} 90
etcd_disk_wal_fsync_duration_seconds_bucket{le="0.004"} 100
etcd_disk_wal_fsync_duration_seconds_bucket{le="+Inf"} 100
etcd_disk_wal_fsync_duration_seconds_sum 0.1
etcd_disk_wal_fsync_duration_seconds_count 100
etcd_disk_backend_commit_duration_seconds_bucket{le="0.001"} 7
`

func TestGivenEtcdMetricsWhenTheWALHistogramIsReadThenQuantilesInterpolateInsideBuckets(t *testing.T) {
	h, err := ParseHistogram(strings.NewReader(walMetrics), WALFsyncMetric)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Bounds) != 4 || !math.IsInf(h.Bounds[3], 1) || h.Total() != 100 {
		t.Fatalf("parsed %+v; want 4 buckets ending at +Inf with 100 observations", h)
	}
	// 80 of 100 are under 1 ms, so the median is 50/80 of the way through the first bucket; the 95th is half
	// way through the third (90 → 100 between 2 and 4 ms).
	if q := h.Quantile(0.5); math.Abs(q-0.000625) > 1e-9 {
		t.Errorf("p50 = %v, want 0.000625", q)
	}
	if q := h.Quantile(0.95); math.Abs(q-0.003) > 1e-9 {
		t.Errorf("p95 = %v, want 0.003", q)
	}
	// What happened between two scrapes is their difference; summing members adds them.
	later := Histogram{Bounds: h.Bounds, Counts: []float64{80, 90, 110, 110}}
	if d := later.Sub(h); d.Total() != 10 || d.Quantile(0.99) <= 0.002 {
		t.Errorf("difference %+v: want the 10 new observations, all between 2 and 4 ms", d)
	}
	if s := h.Add(h); s.Total() != 200 {
		t.Errorf("sum of two members: %v observations, want 200", s.Total())
	}
	if _, err := ParseHistogram(strings.NewReader("up 1\n"), WALFsyncMetric); err == nil {
		t.Error("metrics without the histogram parsed without error")
	}
}

func TestGivenADirectoryWhenProbedThenEachRecordIsSyncedAndTimed(t *testing.T) {
	res, err := FsyncProbe(t.TempDir(), time.Minute, 50)
	if err != nil {
		t.Fatal(err)
	}
	if res.Count() != 50 || res.Rate() <= 0 {
		t.Fatalf("%d syncs, rate %v; want 50 and a positive rate", res.Count(), res.Rate())
	}
	if p50, p99 := res.Percentile(50), res.Percentile(99); p50 <= 0 || p50 > p99 {
		t.Errorf("p50 %v, p99 %v: want 0 < p50 ≤ p99", p50, p99)
	}
}

func TestGivenKeyNumbersWhenSpelledThenKeysHaveTheAskedSizeAndStayDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range []uint64{0, 1, 1 << 24, 1<<24 + 1, 0xffffffff} {
		k := sequentialKey(n, 8)
		if len(k) != 8 || seen[k] {
			t.Errorf("key for %d is %q: want 8 bytes, not seen before", n, k)
		}
		seen[k] = true
	}
	if k := sequentialKey(5, 20); len(k) != 20 {
		t.Errorf("a 20-byte key came out as %q", k)
	}
}
