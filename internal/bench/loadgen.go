// Package bench measures the etcd charm against etcd run by hand on the same machine, and the charm's own
// costs (hook time and memory, deploy, scale-up, failover, backup). Its load generator follows the method of
// etcd's benchmark tool (tools/benchmark: C clients sharing N gRPC connections round-robin, each request
// timed on its own, throughput as completed requests over wall time), written anew over clientv3.
package bench

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Op is the request a workload repeats.
type Op string

const (
	// OpPut writes a distinct key per request, as etcd's `benchmark put --sequential-keys` with a key space
	// at least as large as the request count.
	OpPut Op = "put"
	// OpRangeLinearizable reads one key through the raft leader's read index (etcd's default consistency).
	OpRangeLinearizable Op = "range-l"
	// OpRangeSerializable reads one key from the member's local store.
	OpRangeSerializable Op = "range-s"
)

// Workload is one row of the data-path table.
type Workload struct {
	Op        Op
	Clients   int // concurrent requesters
	Conns     int // gRPC connections they share
	KeySize   int
	ValueSize int
	// Duration bounds the run; Total, when set, stops it after that many requests.
	Duration time.Duration
	Total    int
}

// Name is how tables and charts label the workload.
func (w Workload) Name() string {
	return fmt.Sprintf("%s %dc/%dconn", w.Op, w.Clients, w.Conns)
}

// Target is a cluster the generator can load.
type Target struct {
	Endpoints []string
	TLS       *tls.Config
}

// rangeKey is the key every range workload reads; Prepare writes it.
const rangeKey = "bench/rk"

// Timings are the latencies of operations done over a span of wall time.
type Timings struct {
	Elapsed   time.Duration
	Latencies []time.Duration // sorted
}

// Count is how many operations completed.
func (t Timings) Count() int { return len(t.Latencies) }

// Rate is completed operations per second of wall time.
func (t Timings) Rate() float64 {
	if t.Elapsed <= 0 {
		return 0
	}
	return float64(len(t.Latencies)) / t.Elapsed.Seconds()
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of the latencies.
func (t Timings) Percentile(p float64) time.Duration { return percentile(t.Latencies, p) }

// Result is one run of a workload against one target; its timings are of acknowledged requests only.
type Result struct {
	Workload Workload
	Timings
	Errors   int
	FirstErr error
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// Generator loads targets. KeyBase moves on after every put run so no two runs write the same keys.
type Generator struct {
	mu      sync.Mutex
	keyBase uint64
}

// connect opens n clients to t. clientv3 spreads each client's requests over all endpoints.
func connect(ctx context.Context, t Target, n int) ([]*clientv3.Client, error) {
	var clis []*clientv3.Client
	for range n {
		cli, err := clientv3.New(clientv3.Config{Endpoints: t.Endpoints, TLS: t.TLS, DialTimeout: 10 * time.Second,
			Logger: zap.NewNop(), Context: ctx})
		if err != nil {
			closeAll(clis)
			return nil, fmt.Errorf("connecting to %v: %w", t.Endpoints, err)
		}
		clis = append(clis, cli)
	}
	return clis, nil
}

func closeAll(clis []*clientv3.Client) {
	for _, c := range clis {
		_ = c.Close()
	}
}

// Prepare writes what read workloads read: one key with a value of the workload's size.
func (g *Generator) Prepare(ctx context.Context, t Target, valueSize int) error {
	clis, err := connect(ctx, t, 1)
	if err != nil {
		return err
	}
	defer closeAll(clis)
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := clis[0].Put(cctx, rangeKey, string(randomBytes(valueSize))); err != nil {
		return fmt.Errorf("writing the range key: %w", err)
	}
	return nil
}

// Run drives w against t and times every request.
func (g *Generator) Run(ctx context.Context, t Target, w Workload) (Result, error) {
	if w.Clients < 1 || w.Conns < 1 || w.Conns > w.Clients {
		return Result{}, fmt.Errorf("workload %s: need 1 ≤ conns ≤ clients", w.Name())
	}
	if w.Duration <= 0 && w.Total <= 0 {
		return Result{}, fmt.Errorf("workload %s: set a duration or a total", w.Name())
	}
	conns, err := connect(ctx, t, w.Conns)
	if err != nil {
		return Result{}, err
	}
	defer closeAll(conns)
	// Connections are set up (TLS handshake, auth) before the clock starts, as they are in etcd's tool.
	for _, c := range conns {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := c.Get(wctx, rangeKey, clientv3.WithSerializable())
		cancel()
		if err != nil {
			return Result{}, fmt.Errorf("warming up a connection to %v: %w", t.Endpoints, err)
		}
	}

	g.mu.Lock()
	base := g.keyBase
	g.keyBase += 1 << 24
	g.mu.Unlock()
	value := string(randomBytes(w.ValueSize))
	var issued atomic.Int64
	next := func() (int64, bool) {
		n := issued.Add(1)
		return n, w.Total <= 0 || n <= int64(w.Total)
	}

	runCtx := ctx
	if w.Duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, w.Duration)
		defer cancel()
	}
	type tally struct {
		lats   []time.Duration
		errs   int
		first  error
		lastAt time.Time
	}
	tallies := make([]tally, w.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range w.Clients {
		wg.Go(func() {
			cli, tl := conns[i%w.Conns], &tallies[i]
			for runCtx.Err() == nil {
				n, ok := next()
				if !ok {
					return
				}
				op := w.op(base+uint64(n), value)
				st := time.Now()
				_, err := cli.Do(runCtx, op)
				end := time.Now()
				switch {
				case err == nil:
					tl.lats = append(tl.lats, end.Sub(st))
					tl.lastAt = end
				case runCtx.Err() != nil:
					return // the clock ran out mid-request: neither a success nor an error
				default:
					tl.errs++
					if tl.first == nil {
						tl.first = err
					}
				}
			}
		})
	}
	wg.Wait()
	res := Result{Workload: w}
	last := start
	for _, tl := range tallies {
		res.Latencies = append(res.Latencies, tl.lats...)
		res.Errors += tl.errs
		if res.FirstErr == nil {
			res.FirstErr = tl.first
		}
		if tl.lastAt.After(last) {
			last = tl.lastAt
		}
	}
	slices.Sort(res.Latencies)
	res.Elapsed = last.Sub(start)
	if w.Duration > 0 && runCtx.Err() != nil && ctx.Err() == nil {
		res.Elapsed = w.Duration // stopped by the clock, not by the total
	}
	if res.Count() == 0 {
		return res, fmt.Errorf("workload %s: no request succeeded: %v", w.Name(), res.FirstErr)
	}
	return res, nil
}

func (w Workload) op(n uint64, value string) clientv3.Op {
	switch w.Op {
	case OpRangeLinearizable:
		return clientv3.OpGet(rangeKey)
	case OpRangeSerializable:
		return clientv3.OpGet(rangeKey, clientv3.WithSerializable())
	default:
		return clientv3.OpPut(sequentialKey(n, w.KeySize), value)
	}
}

// sequentialKey spells n in hex, zero-padded or cut to size bytes: 8 bytes give 2^32 distinct keys.
func sequentialKey(n uint64, size int) string {
	s := fmt.Sprintf("%016x", n)
	if size <= len(s) {
		return s[len(s)-size:]
	}
	return fmt.Sprintf("%0*s", size, s)
}

func randomBytes(n int) []byte {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return b
}
