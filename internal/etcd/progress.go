package etcd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// JoinProgress is how far a starting member has come, from its own metrics listener, which etcd serves from
// the start, before the member is ready for clients.
type JoinProgress struct {
	// Applied is the raft index the member has applied: above zero once a new member has the snapshot it
	// joined with.
	Applied uint64
	// Pending counts the member's own proposals not yet applied; a new member's first is the one that
	// publishes its name and client URLs, and it serves clients only once that is applied.
	Pending uint64
}

// ReadJoinProgress reads a member's JoinProgress from metricsURL (http://host:port).
func ReadJoinProgress(ctx context.Context, metricsURL string) (JoinProgress, error) {
	body, err := getMetrics(ctx, metricsURL)
	if err != nil {
		return JoinProgress{}, err
	}
	defer body.Close()
	return parseJoinProgress(body)
}

// getMetrics opens a member's metrics page at metricsURL (http://host:port) in Prometheus' text format.
func getMetrics(ctx context.Context, metricsURL string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(metricsURL, "/")+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("%s/metrics answered %s", metricsURL, resp.Status)
	}
	return resp.Body, nil
}

// parseJoinProgress picks the two gauges out of Prometheus' text format.
func parseJoinProgress(r io.Reader) (JoinProgress, error) {
	var p JoinProgress
	var seenApplied, seenPending bool
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		var dst *uint64
		switch name {
		case "etcd_server_proposals_applied_total":
			dst, seenApplied = &p.Applied, true
		case "etcd_server_proposals_pending":
			dst, seenPending = &p.Pending, true
		default:
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil || f < 0 {
			return JoinProgress{}, fmt.Errorf("metric %s has value %q", name, value)
		}
		*dst = uint64(f)
	}
	if err := sc.Err(); err != nil {
		return JoinProgress{}, err
	}
	if !seenApplied || !seenPending {
		return JoinProgress{}, fmt.Errorf("no etcd_server_proposals_applied_total or etcd_server_proposals_pending in the metrics")
	}
	return p, nil
}
