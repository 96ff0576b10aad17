package etcd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// WALFsync is what a member's own histogram says of its write-ahead log's fsyncs since it started: every
// write waits for one, so a slow disk slows the whole cluster's writes (etcd's guidance: p99 under 10 ms).
type WALFsync struct {
	Count uint64
	// P99 is the upper bound of the histogram bucket that holds the 99th percentile; +Inf when it lies past
	// the last bucket.
	P99 time.Duration
}

const walFsyncMetric = "etcd_disk_wal_fsync_duration_seconds"

// ReadWALFsync reads a member's WALFsync from metricsURL (http://host:port).
func ReadWALFsync(ctx context.Context, metricsURL string) (WALFsync, error) {
	body, err := getMetrics(ctx, metricsURL)
	if err != nil {
		return WALFsync{}, err
	}
	defer body.Close()
	return parseWALFsync(body)
}

// parseWALFsync picks the histogram's buckets and count out of Prometheus' text format.
func parseWALFsync(r io.Reader) (WALFsync, error) {
	type bucket struct {
		le    float64
		count uint64
	}
	var buckets []bucket
	var w WALFsync
	var seenCount bool
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	// The text format writes a histogram's buckets, then its sum, then its count: the count ends what is
	// needed, and the rest of the page (most of it) is left unread.
	for !seenCount && sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, walFsyncMetric) {
			continue
		}
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || f < 0 {
			return WALFsync{}, fmt.Errorf("metric %s has value %q", name, value)
		}
		switch {
		case name == walFsyncMetric+"_count":
			w.Count, seenCount = uint64(f), true
		case strings.HasPrefix(name, walFsyncMetric+`_bucket{le="`):
			raw := strings.TrimSuffix(strings.TrimPrefix(name, walFsyncMetric+`_bucket{le="`), `"}`)
			le, err := strconv.ParseFloat(raw, 64)
			if err != nil {
				return WALFsync{}, fmt.Errorf("bucket bound %q of %s", raw, walFsyncMetric)
			}
			buckets = append(buckets, bucket{le: le, count: uint64(f)})
		}
	}
	if err := sc.Err(); err != nil {
		return WALFsync{}, err
	}
	if !seenCount {
		return WALFsync{}, fmt.Errorf("no %s_count in the metrics", walFsyncMetric)
	}
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].le < buckets[j].le })
	need := uint64(math.Ceil(0.99 * float64(w.Count)))
	w.P99 = time.Duration(math.MaxInt64)
	for _, b := range buckets {
		if b.count >= need && !math.IsInf(b.le, 1) {
			w.P99 = time.Duration(b.le * float64(time.Second))
			break
		}
	}
	return w, nil
}
