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

	"github.com/etcd-charm/etcd/localmodel/client"
)

// HookCost summarises the successful runs of one hook across the application's units.
type HookCost struct {
	Hook                    string
	Runs                    int
	MedianWall, P99Wall     time.Duration
	MedianRSSKiB, MaxRSSKiB int64
}

// HookCosts reads the local model's hook history (wall time and peak memory of every run) for one hook
// since a moment.
func HookCosts(ctx context.Context, m *client.Model, hook string, since time.Time) (HookCost, error) {
	units, err := m.Units(ctx)
	if err != nil {
		return HookCost{}, err
	}
	var walls []time.Duration
	var rss []int64
	for _, u := range units {
		runs, err := m.HookHistory(ctx, u.Name)
		if err != nil {
			return HookCost{}, err
		}
		for _, r := range runs {
			if r.Hook == hook && r.Action == "" && r.ExitCode == 0 && !r.Started.Before(since) {
				walls = append(walls, r.Duration)
				rss = append(rss, r.MaxRSSKiB)
			}
		}
	}
	if len(walls) == 0 {
		return HookCost{Hook: hook}, fmt.Errorf("no successful %s run since %s", hook, since.Format(time.TimeOnly))
	}
	slices.Sort(walls)
	slices.Sort(rss)
	return HookCost{Hook: hook, Runs: len(walls), MedianWall: percentile(walls, 50), P99Wall: percentile(walls, 99),
		MedianRSSKiB: rss[len(rss)/2], MaxRSSKiB: rss[len(rss)-1]}, nil
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

// WriteGap measures the longest stretch without an acknowledged write around event: writers put in a tight
// loop (each request bounded by a short timeout, so a request stuck on a dead member does not hide a
// recovery), event runs after a steady second, and the writers stop settle after event has returned and
// writes flow again.
func WriteGap(ctx context.Context, t Target, event func() error, settle time.Duration) (time.Duration, error) {
	clis, err := connect(ctx, t, 2)
	if err != nil {
		return 0, err
	}
	defer closeAll(clis)
	var mu sync.Mutex
	var acks []time.Time
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
				_, err := clis[w%len(clis)].Put(cctx, fmt.Sprintf("bench/gap/%d/%d", w, i), "v")
				cancel()
				if err == nil {
					mu.Lock()
					acks = append(acks, time.Now())
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(time.Second)
	eventAt := time.Now()
	evErr := event()
	time.Sleep(settle)
	close(stop)
	wg.Wait()
	if evErr != nil {
		return 0, evErr
	}
	slices.SortFunc(acks, func(a, b time.Time) int { return a.Compare(b) })
	var gap time.Duration
	for i := 1; i < len(acks); i++ {
		if acks[i].After(eventAt) {
			gap = max(gap, acks[i].Sub(acks[i-1]))
		}
	}
	if len(acks) == 0 || !acks[len(acks)-1].After(eventAt) {
		return 0, fmt.Errorf("no write was acknowledged after the event")
	}
	return gap, nil
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
