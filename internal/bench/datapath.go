package bench

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Side is which cluster a run measured.
type Side int

const (
	// Hand is etcd started by hand: etcd's defaults plus the charm's security (TLS, client certificates, RBAC).
	Hand Side = iota
	// HandCharmSettings is Hand plus every cluster-wide setting the charm renders into etcd's config file, so
	// a cost of the charm's defaults shows apart from a cost of how the charm runs etcd.
	HandCharmSettings
	// Charm is the cluster the charm deployed.
	Charm
	sides
)

func (s Side) String() string {
	return [...]string{"hand-run", "hand-run + charm settings", "charm"}[s]
}

// Sample is one run's figures.
type Sample struct {
	Throughput float64 // requests/s
	P50, P99   time.Duration
	Ops        int
	Errors     int
}

func sampleOf(r Result) Sample {
	return Sample{Throughput: r.Rate(), P50: r.Percentile(50), P99: r.Percentile(99), Ops: r.Count(), Errors: r.Errors}
}

// DataRow is one workload's runs on both sides.
type DataRow struct {
	Workload Workload
	Samples  [sides][]Sample // indexed by Side
}

// Median is the per-figure median over a side's runs (each figure on its own, so one noisy run moves none).
func (r DataRow) Median(s Side) Sample {
	runs := r.Samples[s]
	var m Sample
	if len(runs) == 0 {
		return m
	}
	m.Throughput = median(runs, func(x Sample) float64 { return x.Throughput })
	m.P50 = time.Duration(median(runs, func(x Sample) float64 { return float64(x.P50) }))
	m.P99 = time.Duration(median(runs, func(x Sample) float64 { return float64(x.P99) }))
	for _, x := range runs {
		m.Ops += x.Ops
		m.Errors += x.Errors
	}
	return m
}

// Ratios are side/hand-run of the medians: ≥ 1 for throughput and ≤ 1 for latency mean that side costs
// nothing over etcd run by hand.
func (r DataRow) Ratios(s Side) (throughput, p50, p99 float64) {
	h, c := r.Median(Hand), r.Median(s)
	return ratio(c.Throughput, h.Throughput), ratio(float64(c.P50), float64(h.P50)), ratio(float64(c.P99), float64(h.P99))
}

// Measured reports whether the row has runs of side s.
func (r DataRow) Measured(s Side) bool { return len(r.Samples[s]) > 0 }

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func median[T any](xs []T, f func(T) float64) float64 {
	vs := make([]float64, len(xs))
	for i, x := range xs {
		vs[i] = f(x)
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}

// DataPathPlan is the standard set of rows: 8-byte keys, 256-byte values (etcd's published benchmark
// sizes), one client and many clients over few connections, for puts and both read consistencies.
func DataPathPlan(d time.Duration, manyClients, manyConns int) []Workload {
	var ws []Workload
	for _, op := range []Op{OpPut, OpRangeLinearizable, OpRangeSerializable} {
		for _, cc := range [][2]int{{1, 1}, {manyClients, manyConns}} {
			ws = append(ws, Workload{Op: op, Clients: cc[0], Conns: cc[1], KeySize: 8, ValueSize: 256, Duration: d})
		}
	}
	return ws
}

// RunDataPath runs every workload rounds times on each side that has a target (endpoints), alternating
// sides and rotating which goes first each round, so drift in the machine's load falls on all alike.
func RunDataPath(ctx context.Context, g *Generator, targets [sides]Target, plan []Workload, rounds int, logf func(string, ...any)) ([]DataRow, error) {
	rows := make([]DataRow, len(plan))
	for i, w := range plan {
		rows[i].Workload = w
	}
	var active []Side
	for s := range sides {
		if len(targets[s].Endpoints) == 0 {
			continue
		}
		active = append(active, s)
		if err := g.Prepare(ctx, targets[s], 256); err != nil {
			return nil, fmt.Errorf("%s: %w", s, err)
		}
	}
	for round := range rounds {
		k := round % len(active)
		order := append(slices.Clone(active[k:]), active[:k]...)
		for i, w := range plan {
			for _, s := range order {
				res, err := g.Run(ctx, targets[s], w)
				if err != nil {
					return rows, fmt.Errorf("round %d, %s on %s: %w", round+1, w.Name(), s, err)
				}
				smp := sampleOf(res)
				rows[i].Samples[s] = append(rows[i].Samples[s], smp)
				logf("round %d  %-22s %-26s %8.0f req/s  p50 %7s  p99 %7s  errors %d", round+1, w.Name(), s,
					smp.Throughput, fmtDur(smp.P50), fmtDur(smp.P99), smp.Errors)
				if res.FirstErr != nil {
					logf("  first error: %v", res.FirstErr)
				}
			}
		}
	}
	return rows, nil
}

// fmtDur prints a latency with three significant digits in ms or µs.
func fmtDur(d time.Duration) string {
	switch {
	case d >= 100*time.Millisecond:
		return fmt.Sprintf("%.0fms", float64(d)/1e6)
	case d >= 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/1e6)
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	default:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	}
}
