package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// WALFsyncMetric is etcd's histogram of WAL fdatasync durations.
const WALFsyncMetric = "etcd_disk_wal_fsync_duration_seconds"

// Histogram is a Prometheus cumulative histogram: counts of observations ≤ each upper bound.
type Histogram struct {
	Bounds []float64 // ascending, the last is +Inf
	Counts []float64 // cumulative
}

// Sub is the histogram of what was observed between an earlier scrape and this one.
func (h Histogram) Sub(earlier Histogram) Histogram {
	out := Histogram{Bounds: h.Bounds, Counts: slices.Clone(h.Counts)}
	if slices.Equal(h.Bounds, earlier.Bounds) {
		for i := range out.Counts {
			out.Counts[i] -= earlier.Counts[i]
		}
	}
	return out
}

// Add sums two histograms with the same buckets (several members' observations).
func (h Histogram) Add(o Histogram) Histogram {
	if len(h.Bounds) == 0 {
		return Histogram{Bounds: o.Bounds, Counts: slices.Clone(o.Counts)}
	}
	out := Histogram{Bounds: h.Bounds, Counts: slices.Clone(h.Counts)}
	if slices.Equal(h.Bounds, o.Bounds) {
		for i := range out.Counts {
			out.Counts[i] += o.Counts[i]
		}
	}
	return out
}

// Total is the number of observations.
func (h Histogram) Total() float64 {
	if len(h.Counts) == 0 {
		return 0
	}
	return h.Counts[len(h.Counts)-1]
}

// Quantile estimates the q-quantile (0..1) by linear interpolation inside the bucket that holds it, as
// Prometheus's histogram_quantile does. It returns NaN without observations.
func (h Histogram) Quantile(q float64) float64 {
	total := h.Total()
	if total <= 0 {
		return math.NaN()
	}
	rank := q * total
	lower, below := 0.0, 0.0
	for i, upper := range h.Bounds {
		if h.Counts[i] >= rank {
			if math.IsInf(upper, 1) {
				return lower // beyond the last finite bound: the best known is that bound
			}
			inBucket := h.Counts[i] - below
			if inBucket <= 0 {
				return upper
			}
			return lower + (upper-lower)*(rank-below)/inBucket
		}
		lower, below = upper, h.Counts[i]
	}
	return lower
}

// ParseHistogram reads the named histogram from Prometheus text exposition.
func ParseHistogram(r io.Reader, name string) (Histogram, error) {
	prefix := name + "_bucket{"
	var h Histogram
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		_, rest, _ := strings.Cut(line, `le="`)
		le, rest, ok := strings.Cut(rest, `"`)
		if !ok {
			continue
		}
		bound, err := strconv.ParseFloat(le, 64)
		if err != nil {
			return h, fmt.Errorf("bucket bound %q of %s: %w", le, name, err)
		}
		_, value, _ := strings.Cut(rest, "} ")
		count, err := strconv.ParseFloat(strings.Fields(value + " x")[0], 64)
		if err != nil {
			return h, fmt.Errorf("bucket count in %q: %w", line, err)
		}
		h.Bounds = append(h.Bounds, bound)
		h.Counts = append(h.Counts, count)
	}
	if err := sc.Err(); err != nil {
		return h, err
	}
	if len(h.Bounds) == 0 {
		return h, fmt.Errorf("no %s in the metrics", name)
	}
	return h, nil
}

// ScrapeHistogram reads one histogram summed over every endpoint's /metrics (served on the client URL,
// so it takes the same client certificate as any request).
func ScrapeHistogram(ctx context.Context, endpoints []string, tlsCfg *tls.Config, name string) (Histogram, error) {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	defer hc.CloseIdleConnections()
	var sum Histogram
	for _, ep := range endpoints {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(ep, "/")+"/metrics", nil)
		if err != nil {
			return sum, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return sum, fmt.Errorf("scraping %s: %w", ep, err)
		}
		h, err := ParseHistogram(resp.Body, name)
		resp.Body.Close()
		if err != nil {
			return sum, fmt.Errorf("scraping %s: %w", ep, err)
		}
		sum = sum.Add(h)
	}
	return sum, nil
}
