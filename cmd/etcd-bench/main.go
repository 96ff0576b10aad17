// Command etcd-bench measures the etcd charm: the data path of a 3-unit cluster deployed by the charm on the
// local model against 3 members of the same etcd started by hand with the same TLS (alternating runs,
// reported as medians and ratios), the disk's fsync limit beside etcd's own WAL fsync figures, and the
// charm's operating costs (hook time and memory, deploy, add-unit, failover write gaps, snapshot and
// restore, a burst of etcd-client requirers related at once). It writes a Markdown report and a PNG chart.
//
//	go run ./cmd/etcd-bench -out docs/benchmarks.md -chart docs/benchmarks.png     # ~15 minutes
//	go run ./cmd/etcd-bench -quick -out /tmp/bench.md -chart /tmp/bench.png        # ~3 minutes
//	go run ./cmd/etcd-bench -only requirer-burst -out /tmp/burst.md                # the requirer burst alone
//	VERSITYGW=... go run ./cmd/etcd-bench -only s3-backup -out /tmp/s3.md           # backup to S3 and restore alone
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/etcd-charm/etcd/internal/bench"
	"github.com/etcd-charm/etcd/localmodel/client"
)

type options struct {
	out, chart, work     string
	rounds               int
	duration, fsync      time.Duration
	clients, conns       int
	hookWindow           time.Duration
	configChanges, dbMiB int
	skipData, skipCosts  bool
	skipSettings         bool
	movedRounds          int
	requirerBurst        int
	s3BackupMiB          int
	only                 string
}

// The -only values: one measurement and nothing else.
const (
	onlyRequirerBurst = "requirer-burst"
	onlyS3Backup      = "s3-backup"
)

func main() {
	var o options
	quick := flag.Bool("quick", false, "a ~6 minute run: 3 rounds of 2s per workload, 20 MiB database, short hook window")
	flag.StringVar(&o.out, "out", "", "Markdown report; the part between the bench markers is replaced, the rest kept")
	flag.StringVar(&o.chart, "chart", "", "PNG chart of throughput and p99 latency, charm vs hand-run")
	flag.StringVar(&o.work, "work", "", "directory for the models and the hand-run cluster (default: a new temp dir)")
	flag.IntVar(&o.rounds, "rounds", 5, "alternating runs per side and workload")
	flag.DurationVar(&o.duration, "duration", 4*time.Second, "length of one workload run")
	flag.DurationVar(&o.fsync, "fsync", 5*time.Second, "length of the fsync probe")
	flag.IntVar(&o.clients, "clients", 64, "clients of the many-client rows")
	flag.IntVar(&o.conns, "conns", 8, "connections the many clients share")
	flag.DurationVar(&o.hookWindow, "hook-window", 60*time.Second, "how long update-status runs are collected")
	flag.IntVar(&o.configChanges, "config-changes", 10, "no-op config changes measured")
	flag.IntVar(&o.dbMiB, "db-mib", 100, "database size for the large add-unit and snapshot/restore")
	flag.BoolVar(&o.skipData, "skip-data-path", false, "measure only the charm's costs")
	flag.BoolVar(&o.skipCosts, "skip-costs", false, "measure only the data path and fsync")
	flag.BoolVar(&o.skipSettings, "skip-settings", false, "leave out the hand-run cluster with the charm's settings")
	flag.IntVar(&o.movedRounds, "moved-rounds", 3, "rounds against the charm's own members run outside the local model (0: skip)")
	flag.IntVar(&o.requirerBurst, "requirer-burst", 8, "etcd-client requirers related at once on a model of their own (0: skip)")
	flag.IntVar(&o.s3BackupMiB, "s3-backup-mib", 100, "database size for create-backup to S3 and restore from it, on a model of their own (0: skip; needs versitygw, see VERSITYGW)")
	flag.StringVar(&o.only, "only", "", "run one measurement alone: "+onlyRequirerBurst+" or "+onlyS3Backup)
	flag.Parse()
	if *quick {
		o.rounds, o.duration, o.fsync, o.hookWindow, o.configChanges, o.dbMiB, o.movedRounds = 3, 2*time.Second, 2*time.Second, 15*time.Second, 3, 20, 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, strings.Join(os.Args, " ")); err != nil {
		fmt.Fprintln(os.Stderr, "etcd-bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, o options, command string) error {
	start := time.Now()
	switch o.only {
	case "":
	case onlyRequirerBurst:
		if o.requirerBurst <= 0 {
			return fmt.Errorf("-only %s needs -requirer-burst > 0", onlyRequirerBurst)
		}
	case onlyS3Backup:
		if o.s3BackupMiB <= 0 {
			return fmt.Errorf("-only %s needs -s3-backup-mib > 0", onlyS3Backup)
		}
	default:
		return fmt.Errorf("-only %q: the measurements that run alone are %s and %s", o.only, onlyRequirerBurst, onlyS3Backup)
	}
	work := o.work
	if work == "" {
		dir, err := os.MkdirTemp("", "etcd-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		work = dir
	}
	moduleDir, err := moduleRoot()
	if err != nil {
		return err
	}
	logf("building localjuju and the charm from %s", moduleDir)
	art, err := bench.BuildArtefacts(ctx, moduleDir, work)
	if err != nil {
		return err
	}
	rep := bench.Report{Machine: bench.DescribeMachine(work), Command: displayCommand(command), Date: start,
		Rounds: o.rounds, RunDuration: o.duration}
	if !o.skipData && o.only == "" {
		if err := dataPath(ctx, o, art, work, &rep); err != nil {
			return err
		}
	}
	if !o.skipCosts && o.only == "" {
		m, err := bootstrap(ctx, art, filepath.Join(work, "costs-model"), 5*time.Second)
		if err != nil {
			return err
		}
		rep.Costs = bench.MeasureCosts(ctx, m, art, bench.CostPlan{HookWindow: o.hookWindow,
			ConfigChanges: o.configChanges, DBMiB: o.dbMiB, WorkDir: work}, logf)
		destroy(m)
	}
	if o.requirerBurst > 0 && (o.only == "" && !o.skipCosts || o.only == onlyRequirerBurst) {
		if rep.Costs == nil {
			rep.Costs = &bench.Costs{}
		}
		if err := requirerBurst(ctx, o, art, moduleDir, work, rep.Costs); err != nil {
			logf("requirer burst: %v", err)
			rep.Costs.Failures = append(rep.Costs.Failures, fmt.Sprintf("%d etcd-client requirers related at once (%v)", o.requirerBurst, err))
		}
	}
	if o.s3BackupMiB > 0 && (o.only == "" && !o.skipCosts || o.only == onlyS3Backup) {
		if rep.Costs == nil {
			rep.Costs = &bench.Costs{}
		}
		if err := s3Backup(ctx, o, art, moduleDir, work, rep.Costs); err != nil {
			logf("S3 backup: %v", err)
			rep.Costs.Failures = append(rep.Costs.Failures, fmt.Sprintf("create-backup to S3 and restore from it (%v)", err))
		}
	}
	rep.Elapsed = time.Since(start)
	rep.Machine.LoadAfter = bench.LoadAverage()
	return write(o, rep)
}

// dataPath deploys the charm (update-status at Juju's default 5 minutes, so hooks do not load the cluster
// more than in production) and a hand-run cluster, probes the disk, and runs the alternating workloads.
func dataPath(ctx context.Context, o options, art bench.Artefacts, work string, rep *bench.Report) error {
	m, err := bootstrap(ctx, art, filepath.Join(work, "data-model"), 5*time.Minute)
	if err != nil {
		return err
	}
	defer destroy(m)
	d, err := bench.DeployActive(ctx, m, art.Charm, 3)
	if err != nil {
		return fmt.Errorf("deploying the charm: %w", err)
	}
	logf("charm cluster active after %s", d.Round(time.Millisecond))
	if err := m.WaitForIdle(ctx, client.WaitOptions{Status: "active", Timeout: 5 * time.Minute, IdlePeriod: 2 * time.Second}); err != nil {
		return err
	}
	var targets [3]bench.Target
	settings, err := bench.CharmSettings(ctx, m)
	if err != nil {
		return err
	}
	rep.CharmSettings = bench.DescribeSettings(settings)
	for _, side := range []struct {
		s     bench.Side
		dir   string
		extra map[string]any
	}{{bench.Hand, "hand", nil}, {bench.HandCharmSettings, "hand-settings", settings}} {
		if side.s == bench.HandCharmSettings && o.skipSettings {
			continue
		}
		hand, err := bench.StartHandCluster(ctx, art.Dispatch, filepath.Join(work, side.dir), 3, side.extra)
		if err != nil {
			return err
		}
		defer hand.Stop()
		logf("%s cluster serving on %v", side.s, hand.Endpoints)
		if targets[side.s], err = hand.Target(); err != nil {
			return err
		}
	}

	if rep.Fsync, err = bench.FsyncProbe(work, o.fsync, 0); err != nil {
		return err
	}
	logf("fsync probe: %.0f/s, p99 %s", rep.Fsync.Rate(), rep.Fsync.Percentile(99))

	creds, eps, err := bench.CharmTarget(ctx, m)
	if err != nil {
		return err
	}
	tlsCfg, err := creds.TLS()
	if err != nil {
		return err
	}
	targets[bench.Charm] = bench.Target{Endpoints: eps, TLS: tlsCfg}
	var before [3]bench.Histogram
	for s, t := range targets {
		if len(t.Endpoints) == 0 {
			continue
		}
		if before[s], err = bench.ScrapeHistogram(ctx, t.Endpoints, t.TLS, bench.WALFsyncMetric); err != nil {
			return err
		}
	}
	var g bench.Generator
	plan := bench.DataPathPlan(o.duration, o.clients, o.conns)
	if rep.Rows, err = bench.RunDataPath(ctx, &g, targets, plan, o.rounds, logf); err != nil {
		return err
	}
	for s, t := range targets {
		if len(t.Endpoints) == 0 {
			continue
		}
		after, err := bench.ScrapeHistogram(ctx, t.Endpoints, t.TLS, bench.WALFsyncMetric)
		if err != nil {
			return err
		}
		rep.WALFsync[s] = after.Sub(before[s])
	}
	if o.movedRounds > 0 {
		return movedMembers(ctx, o, art, m, creds, eps, targets[bench.Hand], &g, rep)
	}
	return nil
}

// movedMembers stops the charm's etcd services and runs the very same members (config files, certificates,
// data) under a supervising shell like the hand-run cluster's, then compares them with the hand-run cluster
// again: what remains of a difference then comes from the members, what vanishes from how the local model
// runs them.
func movedMembers(ctx context.Context, o options, art bench.Artefacts, m *client.Model, creds bench.Credentials,
	eps []string, hand bench.Target, g *bench.Generator, rep *bench.Report) error {
	units, err := m.Units(ctx)
	if err != nil {
		return err
	}
	var configs []string
	for _, u := range units {
		reply, err := m.Exec(ctx, u.Name, "systemctl", "stop", "etcd")
		if err != nil || reply.Code != 0 {
			return fmt.Errorf("stopping etcd on %s: %v %s", u.Name, err, reply.Stderr)
		}
		configs = append(configs, filepath.Join(u.Root, "etc/etcd/etcd.conf.yml"))
	}
	moved, err := bench.RunByHand(ctx, art.Dispatch, filepath.Join(m.Dir, "moved"), configs, eps, creds)
	if err != nil {
		return err
	}
	defer moved.Stop()
	logf("the charm's members run outside the model on %v", eps)
	var targets [3]bench.Target
	targets[bench.Hand] = hand
	if targets[bench.Charm], err = moved.Target(); err != nil {
		return err
	}
	rep.MovedRows, err = bench.RunDataPath(ctx, g, targets, bench.DataPathPlan(o.duration, o.clients, o.conns), o.movedRounds, logf)
	return err
}

// requirerBurst relates o.requirerBurst example requirers at once to a fresh 3-unit cluster, on a model with
// Juju's default update-status interval so that only the relation's own hooks carry the work.
func requirerBurst(ctx context.Context, o options, art bench.Artefacts, moduleDir, work string, costs *bench.Costs) error {
	logf("building the example requirer charm")
	requirer, err := bench.BuildRequirer(ctx, moduleDir, work)
	if err != nil {
		return err
	}
	const updateStatus = 5 * time.Minute
	m, err := bootstrap(ctx, art, filepath.Join(work, "burst-model"), updateStatus)
	if err != nil {
		return err
	}
	defer destroy(m)
	costs.Burst, err = bench.MeasureRequirerBurst(ctx, m, art, requirer, o.requirerBurst, updateStatus, logf)
	return err
}

// s3Backup times create-backup to a versitygw and restore from it, on a 3-unit cluster of its own.
func s3Backup(ctx context.Context, o options, art bench.Artefacts, moduleDir, work string, costs *bench.Costs) error {
	logf("building the s3-integrator stand-in")
	s3Charm, err := bench.BuildS3Integrator(ctx, moduleDir, work)
	if err != nil {
		return err
	}
	m, err := bootstrap(ctx, art, filepath.Join(work, "s3-model"), 5*time.Minute)
	if err != nil {
		return err
	}
	defer destroy(m)
	costs.S3, err = bench.MeasureS3Backup(ctx, m, art, s3Charm, filepath.Join(work, "s3"), o.s3BackupMiB, logf)
	return err
}

func bootstrap(ctx context.Context, art bench.Artefacts, dir string, updateStatus time.Duration) (*client.Model, error) {
	bctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return bench.NewModel(bctx, art, dir, updateStatus)
}

func destroy(m *client.Model) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := m.Destroy(ctx); err != nil {
		logf("destroying the model in %s: %v", m.Dir, err)
	}
}

// Markers delimit the generated part of the report, so prose around it survives a re-run.
const (
	beginMarker = "<!-- etcd-bench:begin -->"
	endMarker   = "<!-- etcd-bench:end -->"
)

func write(o options, rep bench.Report) error {
	chartRef := ""
	if o.chart != "" && len(rep.Rows) > 0 {
		var buf bytes.Buffer
		subtitle := fmt.Sprintf("%d CPUs (%s), %d alternating runs of %s per side; %d-client rows share %d connections",
			rep.Machine.CPUs, rep.Machine.CPUModel, rep.Rounds, rep.RunDuration, o.clients, o.conns)
		if err := bench.WriteChart(&buf, rep.Rows, subtitle); err != nil {
			return err
		}
		if err := os.WriteFile(o.chart, buf.Bytes(), 0o644); err != nil {
			return err
		}
		chartRef = o.chart
		if o.out != "" {
			if rel, err := filepath.Rel(filepath.Dir(o.out), o.chart); err == nil {
				chartRef = rel
			}
		}
	}
	body := rep.Markdown(chartRef)
	if o.out == "" {
		fmt.Print(body)
		return nil
	}
	doc := "# Benchmarks\n\n" + beginMarker + "\n" + body + endMarker + "\n"
	if old, err := os.ReadFile(o.out); err == nil {
		s := string(old)
		i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
		if i >= 0 && j > i {
			doc = s[:i] + beginMarker + "\n" + body + s[j:]
		}
	}
	return os.WriteFile(o.out, []byte(doc), 0o644)
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("locating the module (run from inside it): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// displayCommand shows `go run ./cmd/etcd-bench ...` rather than the temporary binary's path.
func displayCommand(command string) string {
	_, args, _ := strings.Cut(command, " ")
	return strings.TrimSpace("go run ./cmd/etcd-bench " + args)
}
