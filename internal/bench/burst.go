package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/charmpack"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// Targets of the requirer-burst issue, checked and printed, never asserted: N etcd-client requirers related
// at once cost at most 2 rolling restarts and are all ready in under a third of the 187 s measured before.
const (
	burstRestartTarget = 2
	burstReadyTarget   = 62 * time.Second
	// burstPIDPoll is how often each member's etcd MainPID is read during a burst.
	burstPIDPoll = 150 * time.Millisecond
	// burstIdle is the idle period that ends a burst's window: no hook ran for this long.
	burstIdle = 3 * time.Second
)

// BuildRequirer builds and packs the example requirer charm (examples/etcd-requirer) into outDir, as
// `make requirer-charm` and the relation tests do.
func BuildRequirer(ctx context.Context, moduleDir, outDir string) (string, error) {
	binary := filepath.Join(outDir, "etcd-requirer-dispatch")
	charm := filepath.Join(outDir, "etcd-requirer_amd64.charm")
	if err := charmpack.Build(ctx, moduleDir, "./examples/etcd-requirer", binary); err != nil {
		return "", err
	}
	return charm, charmpack.Pack(filepath.Join(moduleDir, "examples/etcd-requirer/charmcraft.yaml"), binary, charm)
}

// RequirerBurst is what relating N etcd-client requirers to a 3-unit cluster at once cost. Every
// requirer's certificate goes into each member's client trust bundle, which etcd reads only at start, so
// members restart to apply it.
type RequirerBurst struct {
	Requirers int
	// Integrate is how long the N integrate calls took, back to back.
	Integrate time.Duration
	// Active is from the first integrate to every requirer unit active (the example requirer goes active
	// once the provider has published its grant, which the leader does only when every member trusts the
	// requirer's certificate).
	Active time.Duration
	// Verified is from the first integrate to every requirer having written and read a key under its
	// prefix through every member, with the credentials it saved.
	Verified time.Duration
	// Settled is from the first integrate to the start of the idle period (burstIdle with no hook on any
	// unit) that ended the window.
	Settled time.Duration
	// Members names the etcd units, in the order of the restart counts.
	Members []string
	// Restarts counts each member's etcd starts from the first integrate until the model settled;
	// RestartsByReady those until every requirer was verified. Both come from Source.
	Restarts, RestartsByReady []int
	// Source says where the counts come from: the local model's start records in the workload log, or
	// MainPID polls when the log could not be read.
	Source string
	// PolledRestarts counts the same (until settled) from MainPID polls every burstPIDPoll: a cross-check.
	PolledRestarts []int
	// UpdateStatus is the model's update-status interval.
	UpdateStatus time.Duration
}

// Rolling is the most restarts of any one member: how many rolling restarts the burst cost.
func (b RequirerBurst) Rolling() int {
	if len(b.Restarts) == 0 {
		return 0
	}
	return slices.Max(b.Restarts)
}

// restartsFromPIDs counts the etcd starts in a series of MainPID samples of one member (0 while it is not
// running): every non-zero PID that differs from the last non-zero one seen. The first sample is the
// baseline, so a PID held throughout counts nothing, and a PID that goes to 0 and comes back as a new one
// counts once (as does a change seen without the 0 between, when a poll missed the downtime).
func restartsFromPIDs(pids []int) int {
	n, last := 0, 0
	for i, pid := range pids {
		if pid == 0 {
			continue
		}
		if pid != last && (i > 0 || last != 0) {
			n++
		}
		last = pid
	}
	return n
}

// startMarker is the line the local model's service supervisor writes into a unit's workload log each
// time it starts a service's main process.
var startMarker = regexp.MustCompile(`(?m)^-- started etcd(?:\.service)? pid \d+ --$`)

// countStarts counts the etcd start records in a piece of a workload log.
func countStarts(log []byte) int { return len(startMarker.FindAllIndex(log, -1)) }

// pidSample is one poll of a member's etcd MainPID.
type pidSample struct {
	at  time.Time
	pid int
}

// pidPoller reads every member's etcd MainPID every burstPIDPoll until stopped.
type pidPoller struct {
	mu      sync.Mutex
	samples map[string][]pidSample
	stop    chan struct{}
	done    sync.WaitGroup
}

func pollPIDs(ctx context.Context, m *client.Model, units []string) *pidPoller {
	p := &pidPoller{samples: map[string][]pidSample{}, stop: make(chan struct{})}
	for _, u := range units {
		p.done.Go(func() {
			tick := time.NewTicker(burstPIDPoll)
			defer tick.Stop()
			for {
				svc, err := m.Service(ctx, u, "etcd")
				if err == nil {
					pid := svc.MainPID
					if svc.ActiveState != "active" {
						pid = 0
					}
					p.mu.Lock()
					p.samples[u] = append(p.samples[u], pidSample{time.Now(), pid})
					p.mu.Unlock()
				}
				select {
				case <-p.stop:
					return
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		})
	}
	return p
}

// restarts stops the poller and counts each unit's restarts from its samples.
func (p *pidPoller) restarts(units []string) []int {
	close(p.stop)
	p.done.Wait()
	out := make([]int, len(units))
	for i, u := range units {
		var pids []int
		for _, s := range p.samples[u] {
			pids = append(pids, s.pid)
		}
		out[i] = restartsFromPIDs(pids)
	}
	return out
}

// logSizes is the current size of each member's workload log, so the start records written after a
// moment can be read from there.
func logSizes(logs []string) ([]int64, error) {
	out := make([]int64, len(logs))
	for i, f := range logs {
		st, err := os.Stat(f)
		if err != nil {
			return nil, err
		}
		out[i] = st.Size()
	}
	return out, nil
}

// startsBetween counts each member's etcd start records between two offsets of its workload log.
func startsBetween(logs []string, from, to []int64) ([]int, error) {
	out := make([]int, len(logs))
	for i, name := range logs {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		buf, err := io.ReadAll(io.NewSectionReader(f, from[i], to[i]-from[i]))
		f.Close()
		if err != nil {
			return nil, err
		}
		out[i] = countStarts(buf)
	}
	return out, nil
}

// MeasureRequirerBurst deploys 3 units of the charm and n example requirers (one unit each, prefix
// /burst-i/, as application burst-ri) on a fresh model, waits for all of them to settle (requirers waiting for etcd), then integrates
// all n with etcd:etcd-client back to back and measures until every requirer is active and has written and
// read under its prefix through every member, and on until the model is idle again, counting each member's
// etcd restarts meanwhile.
func MeasureRequirerBurst(ctx context.Context, m *client.Model, a Artefacts, requirerCharm string, n int,
	updateStatus time.Duration, logf func(string, ...any)) (RequirerBurst, error) {
	b := RequirerBurst{Requirers: n, UpdateStatus: updateStatus}
	d, err := DeployActive(ctx, m, a.Charm, 3)
	if err != nil {
		return b, fmt.Errorf("deploy -n 3: %w", err)
	}
	logf("burst: etcd active after %s", d.Round(time.Millisecond))
	var apps []string
	prefixes := map[string]string{}
	for i := range n {
		// Juju wants a letter in every part of an application name.
		app := fmt.Sprintf("burst-r%d", i+1)
		apps = append(apps, app)
		prefixes[app] = fmt.Sprintf("/burst-%d/", i+1)
		if _, err := m.Deploy(ctx, requirerCharm, client.DeployOptions{App: app, NumUnits: 1,
			Config: map[string]string{"prefix": prefixes[app]}}); err != nil {
			return b, fmt.Errorf("deploying %s: %w", app, err)
		}
	}
	// Requirers wait for the relation; only the etcd units must be active.
	if err := m.WaitForIdle(ctx, client.WaitOptions{Timeout: 5 * time.Minute, IdlePeriod: 2 * time.Second}); err != nil {
		return b, fmt.Errorf("settling after deploying the requirers: %w", err)
	}
	if err := m.WaitForIdle(ctx, client.WaitOptions{Apps: []string{App}, Status: "active", Timeout: time.Minute, IdlePeriod: time.Second}); err != nil {
		return b, fmt.Errorf("etcd active before the burst: %w", err)
	}
	_, eps, err := CharmTarget(ctx, m)
	if err != nil {
		return b, err
	}
	infos, err := m.Units(ctx)
	if err != nil {
		return b, err
	}
	var logs []string
	for _, u := range infos {
		if strings.HasPrefix(u.Name, App+"/") {
			b.Members = append(b.Members, u.Name)
			logs = append(logs, u.WorkloadLog)
		}
	}
	logStart, logErr := logSizes(logs)
	poller := pollPIDs(ctx, m, b.Members)
	time.Sleep(time.Second) // a baseline of PIDs before the first integrate

	start := time.Now()
	for _, app := range apps {
		if _, err := m.Integrate(ctx, App+":etcd-client", app+":etcd-client"); err != nil {
			poller.restarts(b.Members)
			return b, fmt.Errorf("integrating %s: %w", app, err)
		}
	}
	b.Integrate = time.Since(start)
	logf("burst: %d integrates in %s", n, b.Integrate.Round(time.Millisecond))

	b.Active, b.Verified, err = waitRequirersReady(ctx, m, prefixes, eps, start, logf)
	var logReady []int64
	if logErr == nil {
		logReady, logErr = logSizes(logs)
	}
	if err != nil {
		poller.restarts(b.Members)
		return b, err
	}
	logf("burst: all %d requirers active after %s, verified after %s", n, b.Active.Round(time.Millisecond), b.Verified.Round(time.Millisecond))
	if err := m.WaitForIdle(ctx, client.WaitOptions{Status: "active", Timeout: 5 * time.Minute, IdlePeriod: burstIdle}); err != nil {
		poller.restarts(b.Members)
		return b, fmt.Errorf("settling after the burst: %w", err)
	}
	b.Settled = time.Since(start) - burstIdle
	b.PolledRestarts = poller.restarts(b.Members)
	b.Restarts, b.Source = b.PolledRestarts, fmt.Sprintf("MainPID polls every %s", burstPIDPoll)
	if logErr == nil {
		var logEnd []int64
		if logEnd, logErr = logSizes(logs); logErr == nil {
			var all, early []int
			if all, logErr = startsBetween(logs, logStart, logEnd); logErr == nil {
				if early, logErr = startsBetween(logs, logStart, logReady); logErr == nil {
					b.Restarts, b.RestartsByReady, b.Source = all, early, "the local model's start records"
				}
			}
		}
	}
	if logErr != nil {
		logf("burst: reading the start records: %v; counting from MainPID polls", logErr)
	}
	logf("burst: settled after %s; member restarts %v (%s), MainPID polls saw %v", b.Settled.Round(time.Millisecond),
		b.Restarts, b.Source, b.PolledRestarts)
	logHookCost(ctx, m, infos, start, start.Add(b.Active), logf)
	return b, nil
}

// logHookCost prints what the hooks that started between from and to cost, per unit: how many ran, their
// wall and CPU time, and their hook tool calls. It locates where a burst's time goes (the Juju leader's
// hooks run one after another; every unit's hooks share the machine).
func logHookCost(ctx context.Context, m *client.Model, units []api.UnitInfo, from, to time.Time, logf func(string, ...any)) {
	for _, u := range units {
		runs, err := m.HookHistory(ctx, u.Name)
		if err != nil {
			continue
		}
		var n, calls int
		var wall, cpu, longest time.Duration
		var each []string
		for _, r := range runs {
			if r.Started.Before(from) || r.Started.After(to) {
				continue
			}
			each = append(each, fmt.Sprintf("+%.1fs %s %.1fs/%d", r.Started.Sub(from).Seconds(), r.Hook,
				r.Duration.Seconds(), r.ToolCalls))
			n++
			calls += r.ToolCalls
			wall += r.Duration
			cpu += r.CPU
			longest = max(longest, r.Duration)
		}
		if n > 0 {
			leader := ""
			if u.Leader {
				leader = " (leader)"
			}
			logf("burst: %s%s ran %d hooks until all were active: %s wall (longest %s), %s CPU, %d hook tool calls",
				u.Name, leader, n, wall.Round(time.Millisecond), longest.Round(time.Millisecond), cpu.Round(time.Millisecond), calls)
			if u.Leader {
				logf("burst: %s's hooks (start, hook, seconds/tool calls): %s", u.Name, strings.Join(each, "; "))
			}
		}
	}
}

// waitRequirersReady polls status until every requirer's unit is active, and meanwhile checks each active
// requirer's saved credentials by a put and a get under its prefix through every member. It returns the
// time from start to the last requirer active and to the last requirer verified.
func waitRequirersReady(ctx context.Context, m *client.Model, prefixes map[string]string, eps []string, start time.Time, logf func(string, ...any)) (active, verified time.Duration, err error) {
	apps := slices.Sorted(maps.Keys(prefixes))
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	activeAt := map[string]time.Duration{}
	var mu sync.Mutex
	verifiedAt := map[string]time.Duration{}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for {
		st, err := m.Status(ctx)
		if err == nil {
			for _, app := range apps {
				for unit, u := range st.Applications[app].Units {
					if u.WorkloadStatus.Current == "error" || u.JujuStatus.Current == "error" {
						return 0, 0, fmt.Errorf("%s is in error: %s", unit, u.WorkloadStatus.Message)
					}
					if _, seen := activeAt[app]; !seen && u.WorkloadStatus.Current == "active" {
						activeAt[app] = time.Since(start)
						wg.Go(func() {
							if d, err := verifyRequirer(ctx, m, unit, prefixes[app], eps, start); err == nil {
								mu.Lock()
								verifiedAt[app] = d
								mu.Unlock()
							} else if ctx.Err() == nil {
								logf("burst: %s: %v", unit, err)
							}
						})
					}
				}
			}
			mu.Lock()
			done := len(verifiedAt) == len(apps)
			mu.Unlock()
			if done {
				for _, app := range apps {
					active, verified = max(active, activeAt[app]), max(verified, verifiedAt[app])
				}
				return active, verified, nil
			}
		}
		select {
		case <-ctx.Done():
			mu.Lock()
			defer mu.Unlock()
			return 0, 0, fmt.Errorf("waiting for %d requirers (%d active, %d verified): %w", len(apps), len(activeAt), len(verifiedAt), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// verifyRequirer retries, every 250 ms, a put and a get of one key under prefix through each member with
// the files the example requirer saved for etcd-client, and returns the time from start to the first
// round that worked through every member.
func verifyRequirer(ctx context.Context, m *client.Model, unit, prefix string, eps []string, start time.Time) (time.Duration, error) {
	info, err := m.Unit(ctx, unit)
	if err != nil {
		return 0, err
	}
	dir := filepath.Join(info.Root, "var/lib/etcd-requirer/etcd-client")
	var last error
	for {
		if last = putGetEverywhere(ctx, dir, prefix, eps); last == nil {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("put and get under %s: %w (last: %v)", prefix, ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func putGetEverywhere(ctx context.Context, dir, prefix string, eps []string) error {
	var c Credentials
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"ca.crt", &c.CAPEM}, {"client.crt", &c.CertPEM}, {"client.key", &c.KeyPEM}} {
		var err error
		if *f.dst, err = os.ReadFile(filepath.Join(dir, f.name)); err != nil {
			return err
		}
	}
	tlsCfg, err := c.TLS()
	if err != nil {
		return err
	}
	for _, ep := range eps {
		cli, err := clientv3.New(clientv3.Config{Endpoints: []string{ep}, TLS: tlsCfg, DialTimeout: 3 * time.Second,
			Logger: zap.NewNop(), Context: ctx})
		if err != nil {
			return err
		}
		key, value := prefix+"bench", "via "+ep
		cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, err = cli.Put(cctx, key, value)
		var got *clientv3.GetResponse
		if err == nil {
			got, err = cli.Get(cctx, key)
		}
		cancel()
		cli.Close()
		if err != nil {
			return fmt.Errorf("through %s: %w", ep, err)
		}
		if len(got.Kvs) != 1 || !bytes.Equal(got.Kvs[0].Value, []byte(value)) {
			return fmt.Errorf("through %s: read back %v", ep, got.Kvs)
		}
	}
	return nil
}

// markdownRows renders the burst as rows of the charm-costs table.
func (b RequirerBurst) markdownRows() string {
	if b.Requirers == 0 || b.Active <= 0 {
		return ""
	}
	var s strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&s, format, args...) }
	counts := func(xs []int) string {
		parts := make([]string, len(xs))
		for i, x := range xs {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, "/")
	}
	p("| %d etcd-client requirers related at once (%d integrates back to back in %s; update-status every %s): first integrate to every requirer active | %s | < %.0f s (a third of the 187 s measured before): %s |\n",
		b.Requirers, b.Requirers, b.Integrate.Round(time.Millisecond), b.UpdateStatus, fmtSecs(b.Active), burstReadyTarget.Seconds(),
		verdict(b.Active < burstReadyTarget))
	if b.Verified > 0 {
		p("| ↳ to every requirer having written and read a key under its prefix through every member, with its own credentials | %s | |\n", fmtSecs(b.Verified))
	}
	if len(b.Restarts) == 0 {
		return s.String()
	}
	p("| ↳ rolling restarts (most restarts of one member) and member restarts (%s), first integrate to the model idle again (%s) | rolling restarts: %d; member restarts: %s | ≤ %d rolling restarts: %s |\n",
		strings.Join(b.Members, ", "), fmtSecs(b.Settled), b.Rolling(), counts(b.Restarts), burstRestartTarget, verdict(b.Rolling() <= burstRestartTarget))
	notes := []string{"counted from " + b.Source}
	if len(b.RestartsByReady) > 0 {
		notes = append(notes, "before every requirer was verified: "+counts(b.RestartsByReady))
	}
	if len(b.PolledRestarts) > 0 && !strings.HasPrefix(b.Source, "MainPID") {
		notes = append(notes, fmt.Sprintf("MainPID polls every %s saw %s", burstPIDPoll, counts(b.PolledRestarts)))
	}
	p("| ↳ member restarts %s | | |\n", strings.Join(notes, "; "))
	return s.String()
}

func fmtSecs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
