package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// HookCost summarises the successful runs of one hook across the application's units.
type HookCost struct {
	Hook                    string
	Runs                    int
	MedianWall, P99Wall     time.Duration
	MedianCPU               time.Duration
	MedianRSSKiB, MaxRSSKiB int64
	// Overlapped counts the runs during which another unit ran the same hook. Under Juju every unit has a
	// machine of its own; on the local model they share this machine's cores, so overlapping runs wait
	// for each other's CPU.
	Overlapped int
}

// HookCosts reads the local model's hook history (wall time and peak memory of every run) for one hook
// since a moment.
func HookCosts(ctx context.Context, m *client.Model, hook string, since time.Time) (HookCost, error) {
	units, err := m.Units(ctx)
	if err != nil {
		return HookCost{}, err
	}
	var runs []unitRun
	for _, u := range units {
		history, err := m.HookHistory(ctx, u.Name)
		if err != nil {
			return HookCost{}, err
		}
		for _, r := range history {
			if r.Hook == hook && r.Action == "" && r.ExitCode == 0 && !r.Started.Before(since) {
				runs = append(runs, unitRun{u.Name, r})
			}
		}
	}
	if len(runs) == 0 {
		return HookCost{Hook: hook}, fmt.Errorf("no successful %s run since %s", hook, since.Format(time.TimeOnly))
	}
	return hookCostOf(hook, runs), nil
}

// unitRun is one hook run and the unit that ran it.
type unitRun struct {
	unit string
	run  api.HookRun
}

func hookCostOf(hook string, runs []unitRun) HookCost {
	var walls, cpus []time.Duration
	var rss []int64
	c := HookCost{Hook: hook, Runs: len(runs)}
	for _, r := range runs {
		walls = append(walls, r.run.Duration)
		cpus = append(cpus, r.run.CPU)
		rss = append(rss, r.run.MaxRSSKiB)
		end := r.run.Started.Add(r.run.Duration)
		if slices.ContainsFunc(runs, func(o unitRun) bool {
			return o.unit != r.unit && o.run.Started.Before(end) && r.run.Started.Before(o.run.Started.Add(o.run.Duration))
		}) {
			c.Overlapped++
		}
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	slices.Sort(rss)
	c.MedianWall, c.P99Wall, c.MedianCPU = percentile(walls, 50), percentile(walls, 99), percentile(cpus, 50)
	c.MedianRSSKiB, c.MaxRSSKiB = rss[len(rss)/2], rss[len(rss)-1]
	return c
}

// ConfigChangedWithoutChange sets an option the charm accepts and ignores (nagios_context, kept for
// classic bundles) to a new value n times, waiting for the model to settle each time: every unit runs
// config-changed and finds nothing to do. (Setting an option to its current value runs no hook, in Juju as
// in the local model.)
func ConfigChangedWithoutChange(ctx context.Context, m *client.Model, n int) (time.Time, error) {
	since := time.Now()
	for i := range n {
		if err := m.SetConfig(ctx, App, map[string]string{"nagios_context": fmt.Sprintf("bench-%d", i)}); err != nil {
			return since, err
		}
		if err := m.WaitForIdle(ctx, client.WaitOptions{Status: "active", Timeout: 2 * time.Minute, IdlePeriod: 300 * time.Millisecond}); err != nil {
			return since, err
		}
	}
	return since, nil
}

// AddVoter adds one unit and returns the time until its member is a promoted voter.
func AddVoter(ctx context.Context, m *client.Model, creds Credentials, endpoints []string) (time.Duration, error) {
	cli, err := creds.Dial(ctx, endpoints)
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	before, err := cli.Members(ctx)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if _, err := m.AddUnit(ctx, App, 1); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	for {
		ms, err := cli.Members(ctx)
		if err == nil && len(ms) == len(before)+1 {
			voters := 0
			for _, x := range ms {
				if !x.IsLearner && x.Started() {
					voters++
				}
			}
			if voters == len(before)+1 {
				return time.Since(start), nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for the new unit's member to become a voter: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Fill writes incompressible values until the keyspace holds about mb MiB.
func Fill(ctx context.Context, t Target, mb int) error {
	const valueSize = 64 << 10
	clis, err := connect(ctx, t, 4)
	if err != nil {
		return err
	}
	defer closeAll(clis)
	n := mb << 20 / valueSize
	var next, failed sync.Mutex
	i := 0
	var firstErr error
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			value := string(randomBytes(valueSize))
			for {
				next.Lock()
				k := i
				i++
				next.Unlock()
				if k >= n {
					return
				}
				cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				_, err := clis[w%len(clis)].Put(cctx, fmt.Sprintf("bench/fill/%06d", k), value)
				cancel()
				if err != nil {
					failed.Lock()
					if firstErr == nil {
						firstErr = err
					}
					failed.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return fmt.Errorf("filling the database: %w", firstErr)
	}
	return nil
}

// Parameters of the open-loop writes of WriteGap.
const (
	// gapInterval is how often a write starts: the resolution of the gaps.
	gapInterval = 2 * time.Millisecond
	// gapTimeout bounds each write, so a write stuck on a dead member or dropped during a leadership
	// transfer ends; with an open loop it no longer bounds the measured gap.
	gapTimeout = 500 * time.Millisecond
	// gapMaxInFlight bounds the writes outstanding at once, so a long outage cannot pile up goroutines;
	// at gapInterval and gapTimeout about 250 are outstanding at worst, so starts are skipped only when the
	// client itself falls behind.
	gapMaxInFlight = 512
)

// WriteGapResult is what WriteGap saw around its event.
type WriteGapResult struct {
	// Gap is the longest stretch after the event (from the last acknowledgement before it) during which no
	// write was acknowledged: how long the cluster took no write at all.
	Gap time.Duration
	// Unavailable is the longest stretch of start times, ending after the event, in which every write
	// started failed or timed out: from the first such write to the next write that succeeded, so how
	// long a client starting a write would have been refused.
	Unavailable time.Duration
	// Stalled counts the writes that failed or timed out, out of Writes started; Skipped counts starts
	// left out because gapMaxInFlight writes were outstanding.
	Stalled, Writes, Skipped int
	// MaxLatency is the longest successful write: the stall a client saw short of a timeout.
	MaxLatency time.Duration
}

func (r WriteGapResult) String() string {
	return fmt.Sprintf("gap %s, no write accepted for %s, %d of %d writes failed or timed out (%s timeout), longest write %s, %d starts skipped",
		r.Gap.Round(time.Millisecond), r.Unavailable.Round(time.Millisecond), r.Stalled, r.Writes, gapTimeout,
		fmtDur(r.MaxLatency), r.Skipped)
}

// writeRecord is one write of WriteGap: when it started, when it ended, and whether it was acknowledged.
type writeRecord struct {
	Sent, Done time.Time
	OK         bool
}

// WriteGap measures how long the cluster accepts no writes around event. Writes start open loop, one every
// gapInterval in a goroutine of its own whatever is still outstanding, each bounded by gapTimeout, over two
// clients in turn; event runs after a steady second, and the writes stop settle after event has returned.
// Open loop, because a closed loop measures its own timeout: during a raft leadership transfer the old
// leader drops the proposals followers forward to it, so every closed-loop writer waits out its request
// timeout and the gap equals that timeout, however short the transfer. Here writes started after the
// transfer are acknowledged while the dropped ones are still waiting, and the dropped ones show up as
// Stalled writes and MaxLatency instead.
func WriteGap(ctx context.Context, t Target, event func() error, settle time.Duration) (WriteGapResult, error) {
	clis, err := connect(ctx, t, 2)
	if err != nil {
		return WriteGapResult{}, err
	}
	defer closeAll(clis)
	var mu sync.Mutex
	var writes []writeRecord
	var wg sync.WaitGroup
	inFlight := make(chan struct{}, gapMaxInFlight)
	stop := make(chan struct{})
	skipped := make(chan int)
	go func() {
		tick := time.NewTicker(gapInterval)
		defer tick.Stop()
		n := 0
		for i := 0; ; i++ {
			select {
			case <-stop:
				skipped <- n
				return
			case <-ctx.Done():
				<-stop
				skipped <- n
				return
			case <-tick.C:
			}
			select {
			case inFlight <- struct{}{}:
			default:
				n++
				continue
			}
			wg.Go(func() {
				defer func() { <-inFlight }()
				sent := time.Now()
				cctx, cancel := context.WithTimeout(ctx, gapTimeout)
				_, err := clis[i%len(clis)].Put(cctx, fmt.Sprintf("bench/gap/%d", i), "v")
				cancel()
				rec := writeRecord{Sent: sent, Done: time.Now(), OK: err == nil}
				mu.Lock()
				writes = append(writes, rec)
				mu.Unlock()
			})
		}
	}()
	time.Sleep(time.Second)
	eventAt := time.Now()
	evErr := event()
	time.Sleep(settle)
	close(stop)
	// The loop has made its last wg.Go once it reports, so waiting on wg only then cannot miss a write.
	nSkipped := <-skipped
	wg.Wait()
	if evErr != nil {
		return WriteGapResult{}, evErr
	}
	r, err := gapStats(eventAt, writes)
	r.Skipped = nSkipped
	return r, err
}

// gapStats computes WriteGap's result from its writes, in any order; it fails when no write was
// acknowledged after eventAt, as the cluster then never recovered within the measurement.
func gapStats(eventAt time.Time, writes []writeRecord) (WriteGapResult, error) {
	r := WriteGapResult{Writes: len(writes)}
	var acks []time.Time
	for _, w := range writes {
		if w.OK {
			acks = append(acks, w.Done)
			r.MaxLatency = max(r.MaxLatency, w.Done.Sub(w.Sent))
		} else {
			r.Stalled++
		}
	}
	slices.SortFunc(acks, func(a, b time.Time) int { return a.Compare(b) })
	prev, acked := eventAt, false
	for _, a := range acks {
		if a.After(eventAt) {
			r.Gap = max(r.Gap, a.Sub(prev))
			acked = true
		}
		prev = a
	}
	if !acked {
		return r, fmt.Errorf("no write was acknowledged after the event (%d of %d writes failed or timed out)", r.Stalled, r.Writes)
	}
	bySent := slices.Clone(writes)
	slices.SortFunc(bySent, func(a, b writeRecord) int { return a.Sent.Compare(b.Sent) })
	var refusedFrom time.Time
	refusing := false
	for _, w := range bySent {
		switch {
		case !w.OK && !refusing:
			refusedFrom, refusing = w.Sent, true
		case w.OK && refusing:
			if w.Sent.After(eventAt) {
				r.Unavailable = max(r.Unavailable, w.Sent.Sub(refusedFrom))
			}
			refusing = false
		}
	}
	// Refusals that last to the end are measured up to the last start: a lower bound.
	if refusing {
		r.Unavailable = max(r.Unavailable, bySent[len(bySent)-1].Sent.Sub(refusedFrom))
	}
	return r, nil
}

// waitUnitGone waits until the unit has left the model.
func waitUnitGone(ctx context.Context, m *client.Model, unit string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for {
		infos, err := m.Units(ctx)
		if err == nil {
			gone := true
			for _, u := range infos {
				if u.Name == unit && (u.Life == "" || u.Life == "alive" || u.Life == "dying") {
					gone = false
				}
			}
			if gone {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to leave: %w", unit, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// RaftLeaderUnit names the unit whose member leads raft (members are named after units, etcd/0 as etcd-0).
func RaftLeaderUnit(ctx context.Context, creds Credentials, endpoints []string) (string, error) {
	cli, err := creds.Dial(ctx, endpoints)
	if err != nil {
		return "", err
	}
	defer cli.Close()
	leader, err := cli.Leader(ctx)
	if err != nil {
		return "", err
	}
	return strings.Replace(leader.Name, "-", "/", 1), nil
}

// DirectSnapshotRestore times what the snapshot and restore actions do at their core, for a charm that
// does not declare them: a snapshot stream from the raft leader to a file, then `etcdutl snapshot restore`
// of that file into a fresh data dir with the charm binary.
func DirectSnapshotRestore(ctx context.Context, creds Credentials, endpoints []string, dispatch, dir string) (snap, restore time.Duration, size int64, err error) {
	cli, err := creds.Dial(ctx, endpoints)
	if err != nil {
		return 0, 0, 0, err
	}
	defer cli.Close()
	leader, err := cli.Leader(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	file := filepath.Join(dir, "bench.snapshot.db")
	f, err := os.Create(file)
	if err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	info, err := cli.Snapshot(ctx, leader.ClientURLs[0], f)
	if err == nil {
		err = f.Sync()
	}
	f.Close()
	snap = time.Since(start)
	if err != nil {
		return snap, 0, 0, err
	}
	defer os.Remove(file)
	dataDir := filepath.Join(dir, "bench.restored.etcd")
	defer os.RemoveAll(dataDir)
	start = time.Now()
	out, err := exec.CommandContext(ctx, dispatch, "etcdutl", "snapshot", "restore", file, "--data-dir", dataDir,
		"--name", "restored", "--initial-cluster", "restored=https://127.0.0.1:2380",
		"--initial-advertise-peer-urls", "https://127.0.0.1:2380").CombinedOutput()
	restore = time.Since(start)
	if err != nil {
		return snap, restore, info.Size, fmt.Errorf("etcdutl snapshot restore: %w: %s", err, out)
	}
	return snap, restore, info.Size, nil
}

// waitHealthy waits until every member answers and the cluster has all its voters.
func waitHealthy(ctx context.Context, creds Credentials, endpoints []string) error {
	cli, err := creds.Dial(ctx, endpoints)
	if err != nil {
		return err
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		report, err := cli.Health(ctx, endpoints)
		if err == nil && report.Healthy() && report.HealthyVoters == len(endpoints) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for a healthy cluster: %w (last: %v)", ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// HookToolCall is the median wall time of one hook tool call (config-get) made from a unit, over n calls:
// the per-call overhead every hook pays to talk to its agent.
func HookToolCall(ctx context.Context, m *client.Model, unit string, n int) (time.Duration, error) {
	script := fmt.Sprintf(`for i in $(seq %d); do s=$(date +%%s%%N); config-get >/dev/null || exit 1; e=$(date +%%s%%N); echo $((e-s)); done`, n)
	reply, err := m.Exec(ctx, unit, script)
	if err != nil {
		return 0, err
	}
	if reply.Code != 0 {
		return 0, fmt.Errorf("config-get on %s: exit %d: %s", unit, reply.Code, reply.Stderr)
	}
	return medianOfLines(reply.Stdout)
}

func medianOfLines(out string) (time.Duration, error) {
	var ds []time.Duration
	for _, line := range strings.Fields(out) {
		ns, err := strconv.ParseInt(line, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("timing output %q: %w", line, err)
		}
		ds = append(ds, time.Duration(ns))
	}
	if len(ds) == 0 {
		return 0, fmt.Errorf("no timings")
	}
	slices.Sort(ds)
	return percentile(ds, 50), nil
}

// BinaryStart is the median wall time of starting the charm binary and running the smallest thing it does
// (etcdutl version): the floor under every hook, since each hook is a fresh process of this binary.
func BinaryStart(ctx context.Context, dispatch string, n int) (time.Duration, error) {
	var ds []time.Duration
	for range n {
		st := time.Now()
		if out, err := exec.CommandContext(ctx, dispatch, "etcdutl", "version").CombinedOutput(); err != nil {
			return 0, fmt.Errorf("%s etcdutl version: %w: %s", dispatch, err, out)
		}
		ds = append(ds, time.Since(st))
	}
	slices.Sort(ds)
	return percentile(ds, 50), nil
}
