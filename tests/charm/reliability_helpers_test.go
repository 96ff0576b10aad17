package charm_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-charm/etcd/internal/robustness"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// How the reliability scenarios run, from the environment:
//
//	RELIABILITY=full           every scenario (otherwise only the short CI selection runs)
//	RELIABILITY_RUNS=N         runs per scenario, in a row on one deployment (default 5 when full, else 1)
//	RELIABILITY_HISTORY=D      at least this much recorded traffic per run (default 15s)
//	RELIABILITY_REPORT=FILE    rewrite the results table between the markers in FILE
//	RELIABILITY_ARTIFACTS=DIR  where visualisations of failed histories go (default ./reliability-artifacts
//	                           at the repository root, ignored by git)
type reliabilitySettings struct {
	full      bool
	runs      int
	history   time.Duration
	report    string
	artifacts string
}

const fullRunCommand = "make reliability (RELIABILITY=full go test ./tests/charm -run TestReliability -timeout 0)"

func reliabilityEnv(t *testing.T) reliabilitySettings {
	t.Helper()
	s := reliabilitySettings{full: os.Getenv("RELIABILITY") == "full", runs: 1, history: 15 * time.Second,
		report: os.Getenv("RELIABILITY_REPORT"), artifacts: os.Getenv("RELIABILITY_ARTIFACTS")}
	if s.full {
		s.runs = 5
	}
	if v := os.Getenv("RELIABILITY_RUNS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("RELIABILITY_RUNS=%q: want a positive integer", v)
		}
		s.runs = n
	}
	if v := os.Getenv("RELIABILITY_HISTORY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("RELIABILITY_HISTORY=%q: want a positive duration such as 20s", v)
		}
		s.history = d
	}
	if s.artifacts == "" {
		s.artifacts = filepath.Join(repoRoot(), "reliability-artifacts")
	}
	return s
}

// scenario is one fault, injected once per run into a cluster that serves recorded traffic.
type scenario struct {
	name  string
	units int
	ci    bool // in the short selection plain `go test` runs
	// network says the fault cuts members off, which needs root and nft; checked before deploying.
	network bool
	// autoRetry runs failed hooks again with Juju's back-off, as a real model does: the crash scenarios
	// kill the charm's own hooks and rely on it.
	autoRetry bool
	// inject applies the fault and returns once the fault itself is over (the process restarted, the
	// network healed, the action finished); recovery is awaited afterwards.
	inject func(t *testing.T, f *faultRun)
}

// faultRun is what a fault needs to know about the run it disturbs.
type faultRun struct {
	m   *client.Model
	run int // 0-based, so faults can vary between runs
}

// runResult is one run's line in the log and its share of the results table.
type runResult struct {
	stats      robustness.Stats
	violations int
	toActive   time.Duration
}

// runScenario deploys once and repeats the scenario on that deployment; each run records its own keys, so
// every history starts from an empty key set.
func runScenario(t *testing.T, sc scenario) {
	env := reliabilityEnv(t)
	if !sc.ci && !env.full {
		t.Skipf("%s runs only in the full reliability run: %s", sc.name, fullRunCommand)
	}
	if sc.network {
		requireNetworkFaults(t)
	}
	m := newModelOpts(t, client.Options{UpdateStatusInterval: 20 * time.Second, AutoRetry: sc.autoRetry})
	if _, err := m.Deploy(context.Background(), artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: sc.units}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 5*time.Minute)
	var results []runResult
	for i := range env.runs {
		var res runResult
		ok := t.Run(fmt.Sprintf("run-%d", i+1), func(t *testing.T) { res = oneRun(t, env, m, sc, i) })
		results = append(results, res)
		if !ok {
			break // the deployment may be broken; later runs would report that, not their own fault
		}
	}
	if env.report != "" {
		if err := writeResultRow(env.report, sc, results); err != nil {
			t.Errorf("writing the results table: %v", err)
		}
	}
}

const recorderClients = 6

// recordTraffic starts recorded traffic from several clients, each on its own connection, under a fresh key
// prefix that begins with prefix, and returns once the cluster has acknowledged writes (before what).
// The caller stops the recorder.
func recordTraffic(t *testing.T, m *client.Model, prefix string, maxDuration time.Duration, before string) *robustness.Recorder {
	t.Helper()
	var kvs []clientv3.KV
	for range recorderClients {
		kvs = append(kvs, adminClient(t, m).Raw())
	}
	began := time.Now()
	rec := robustness.Start(kvs, robustness.Traffic{
		KeyPrefix:     fmt.Sprintf("%s%d/", prefix, began.UnixNano()),
		MaxDuration:   maxDuration,
		MaxOperations: 300000,
		Seed:          uint64(began.UnixNano()),
	})
	waitFor(t, 30*time.Second, "acknowledged writes before "+before, func() bool { return rec.AcknowledgedWrites() > 20 })
	return rec
}

func oneRun(t *testing.T, env reliabilitySettings, m *client.Model, sc scenario, run int) runResult {
	// Given traffic from several clients, each on its own connection
	began := time.Now()
	rec := recordTraffic(t, m, fmt.Sprintf("reliability/%s/%d/", sc.name, run), 15*time.Minute+env.history, "the fault")
	defer rec.Stop()
	time.Sleep(env.history / 5)

	// When the fault happens and the model recovers
	faultAt := time.Now()
	sc.inject(t, &faultRun{m: m, run: run})
	waitActive(t, m, 5*time.Minute)
	waitHealthy(t, m)
	res := runResult{toActive: time.Since(faultAt)}
	// Keep recording after recovery, so every history shows writes flowing again.
	time.Sleep(max(3*time.Second, env.history-time.Since(began)))
	select {
	case <-rec.Done():
		t.Errorf("the traffic reached its bound before the run ended, so the history does not cover the recovery")
	default:
	}

	// Then the history is linearizable, every acknowledged write survived, and the members agree
	report := stopAndCheck(t, m, rec, env, fmt.Sprintf("%s-run%d", sc.name, run+1))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	violations := append(report.Violations, robustness.CheckCluster(ctx, adminClient(t, m), memberNames(aliveUnits(t, m)))...)
	res.stats, res.violations = report.Stats, len(violations)
	t.Logf("%s run %d: %d acknowledged, longest write gap %s, all units active and healthy %s after the fault",
		sc.name, run+1, res.stats.Acknowledged, res.stats.LongestWriteGap.Round(time.Millisecond), res.toActive.Round(time.Second))
	for _, v := range violations {
		t.Errorf("violation: %s", v)
	}
	return res
}

// stopAndCheck ends the recording, reads every key once more after recovery and checks the history. A
// failed history's visualisation goes to the artifacts directory as <name>-<time>.html.
func stopAndCheck(t *testing.T, m *client.Model, rec *robustness.Recorder, env reliabilitySettings, name string) robustness.Report {
	t.Helper()
	h := rec.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := h.ReadFinal(ctx, adminClient(t, m).Raw(), 0); err != nil {
		t.Fatalf("final reads after recovery: %v", err)
	}
	artefact := filepath.Join(env.artifacts, fmt.Sprintf("%s-%s.html", name, time.Now().Format("20060102-150405")))
	report := robustness.Check(h, robustness.CheckOptions{Visualization: artefact})
	t.Logf("%s: %d operations, %d unknown outcomes; linearizability %s (checked in %s); violations: %q", name,
		report.Stats.Operations, report.Stats.Unknown, report.Linearizability, report.CheckTime.Round(time.Millisecond),
		report.Violations)
	return report
}

// waitHealthy waits until every member answers a health probe; "active" alone can precede a restarted
// member catching up.
func waitHealthy(t *testing.T, m *client.Model) {
	t.Helper()
	cli := adminClient(t, m)
	waitFor(t, 2*time.Minute, "every member healthy", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		members, err := cli.Members(ctx)
		if err != nil {
			return false
		}
		var endpoints []string
		for _, mem := range members {
			endpoints = append(endpoints, mem.ClientURLs...)
		}
		report, err := cli.Health(ctx, endpoints)
		return err == nil && report.Healthy() && report.HealthyVoters == len(members)
	})
}

// memberNames are the etcd member names the charm gives units (etcd/0 -> etcd-0).
func memberNames(units []string) []string {
	var names []string
	for _, u := range units {
		names = append(names, strings.Replace(u, "/", "-", 1))
	}
	return names
}

// etcdPID is the main pid of a unit's etcd service, 0 while it is not running.
func etcdPID(t *testing.T, m *client.Model, unit string) int {
	t.Helper()
	svc, err := m.Service(context.Background(), unit, "etcd")
	if err != nil {
		t.Fatalf("etcd service of %s: %v", unit, err)
	}
	if svc.ActiveState != "active" {
		return 0
	}
	return svc.MainPID
}

// jujuLeader names the unit that holds Juju leadership.
func jujuLeader(t *testing.T, m *client.Model) string {
	t.Helper()
	leader := leaderNow(t, m)
	if leader == "" {
		t.Fatal("no unit holds Juju leadership")
	}
	return leader
}

// The results table lives between these markers; the rest of the document is prose.
const (
	reportBegin = "<!-- reliability-results:begin -->"
	reportEnd   = "<!-- reliability-results:end -->"
	reportHead  = "| Scenario | Units | Runs | Runs with violations | Violations | Longest write gap (worst run) | Unknown outcomes (worst run) | All active again (worst run) | Operations per run (fewest) | Run on |\n|---|---|---|---|---|---|---|---|---|---|\n"
)

// scenarioOrder keeps the table's rows in a fixed order whichever scenario finished last.
var scenarioOrder = []string{"kill-leader", "pause-leader", "rolling-restart", "scale-add-remove-leader",
	"juju-leader-removed", "certificate-renewal", "defrag", "defrag-by-rule", "corrupt-db", "data-dir-lost", "partition-3", "partition-5", "crash-config-change",
	"crash-scale"}

// writeResultRow replaces the scenario's row of the results table in file, keeping the other rows.
func writeResultRow(file string, sc scenario, results []runResult) error {
	doc, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	text := string(doc)
	begin, end := strings.Index(text, reportBegin), strings.Index(text, reportEnd)
	if begin < 0 || end < begin {
		return fmt.Errorf("%s has no %s ... %s markers", file, reportBegin, reportEnd)
	}
	rows := map[string]string{}
	sc2 := bufio.NewScanner(strings.NewReader(text[begin+len(reportBegin) : end]))
	for sc2.Scan() {
		line := sc2.Text()
		if fields := strings.Split(line, "|"); len(fields) > 2 && slices.Contains(scenarioOrder, strings.TrimSpace(fields[1])) {
			rows[strings.TrimSpace(fields[1])] = line
		}
	}
	rows[sc.name] = resultRow(sc, results)
	var table strings.Builder
	table.WriteString("\n" + reportHead)
	for _, name := range scenarioOrder {
		if row, ok := rows[name]; ok {
			table.WriteString(row + "\n")
		}
	}
	text = text[:begin+len(reportBegin)] + table.String() + text[end:]
	return os.WriteFile(file, []byte(text), 0o644)
}

func resultRow(sc scenario, results []runResult) string {
	var failed, violations, unknown int
	var gap, toActive time.Duration
	fewest := -1
	for _, r := range results {
		if r.violations > 0 || r.stats.Operations == 0 {
			failed++
		}
		violations += r.violations
		unknown = max(unknown, r.stats.Unknown)
		gap, toActive = max(gap, r.stats.LongestWriteGap), max(toActive, r.toActive)
		if fewest < 0 || r.stats.Operations < fewest {
			fewest = r.stats.Operations
		}
	}
	return fmt.Sprintf("| %s | %d | %d | %d | %d | %s | %d | %s | %d | %s |", sc.name, sc.units, len(results), failed,
		violations, gap.Round(time.Millisecond), unknown, toActive.Round(time.Second), fewest, time.Now().UTC().Format(time.DateOnly))
}

// isolate cuts unit's etcd off from its peers on the peer port, in both directions, until the returned
// heal is called (also at cleanup). Traffic between the other members and on client ports is untouched.
//
// Members dial each other from 127.0.0.1 (the kernel's source for any loopback destination), so the
// isolated member's outgoing peer connections cannot be told apart by address: its etcd process is moved
// into a cgroup of its own and nftables drops sockets of that cgroup, after dropping by port the peer
// connections it had already opened. Connections to its own peer listener are dropped by address.
func isolate(t *testing.T, m *client.Model, unit string, peerPort int) (heal func()) {
	t.Helper()
	requireNetworkFaults(t)
	addr := unitInfo(t, m, unit).Address
	pid := etcdPID(t, m, unit)
	if pid == 0 {
		t.Fatalf("etcd is not running on %s", unit)
	}
	name := fmt.Sprintf("reliability_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	root, err := cgroup2Root()
	if err != nil {
		t.Fatal(err)
	}
	group := filepath.Join(root, name)
	if err := os.Mkdir(group, 0o755); err != nil {
		t.Fatalf("creating cgroup %s: %v", group, err)
	}
	healed := false
	heal = func() {
		if healed {
			return
		}
		healed = true
		if out, err := exec.Command("nft", "delete", "table", "inet", name).CombinedOutput(); err != nil {
			t.Errorf("deleting nft table %s: %v %s", name, err, out)
		}
		// Back to the root cgroup, if it still runs, so the empty cgroup can go.
		_ = os.WriteFile(filepath.Join(root, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
		if err := os.Remove(group); err != nil {
			t.Errorf("removing cgroup %s: %v", group, err)
		}
	}
	t.Cleanup(heal)
	if err := os.WriteFile(filepath.Join(group, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		t.Fatalf("moving etcd (pid %d) of %s into %s: %v", pid, unit, group, err)
	}
	port := strconv.Itoa(peerPort)
	rules := []string{
		"ip daddr " + addr + " tcp dport " + port + " drop",
		"ip saddr " + addr + " tcp sport " + port + " drop",
		`socket cgroupv2 level 1 "` + name + `" tcp dport ` + port + " drop",
	}
	if ports := peerConnectionPorts(t, pid, peerPort); len(ports) > 0 {
		set := "{ " + strings.Join(ports, ", ") + " }"
		rules = append(rules, "tcp sport "+set+" tcp dport "+port+" drop", "tcp sport "+port+" tcp dport "+set+" drop")
	}
	script := fmt.Sprintf("table inet %s {\n chain out {\n  type filter hook output priority -10; policy accept;\n  %s\n }\n}\n",
		name, strings.Join(rules, "\n  "))
	file := filepath.Join(t.TempDir(), name+".nft")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	// nft resolves a cgroup path under /sys/fs/cgroup; a private mount namespace shows the cgroup v2
	// hierarchy there even on a hybrid host, without changing what anything else sees.
	load := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
		`mount -t cgroup2 none /sys/fs/cgroup && nft -f "$1"`, "sh", file)
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("loading nft rules:\n%s\n%v %s", script, err, out)
	}
	t.Logf("cut %s (%s, etcd pid %d) off from its peers on port %s (nft table %s)", unit, addr, pid, port, name)
	return heal
}

// requireNetworkFaults skips a test that cuts members off on a machine where that cannot be done.
func requireNetworkFaults(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil || os.Geteuid() != 0 {
		t.Skipf("cutting a member off needs root and nft (apt-get install nftables): %v", err)
	}
	if out, err := exec.Command("nft", "list", "tables").CombinedOutput(); err != nil {
		t.Skipf("cutting a member off needs nftables to work here: %v %s", err, out)
	}
	root, err := cgroup2Root()
	if err == nil {
		probe := filepath.Join(root, fmt.Sprintf("reliability_probe_%d", os.Getpid()))
		if err = os.Mkdir(probe, 0o755); err == nil {
			err = os.Remove(probe)
		}
	}
	if err != nil {
		t.Skipf("cutting a member off needs a writable cgroup v2 hierarchy: %v", err)
	}
}

// cgroup2Root is where the cgroup v2 hierarchy is mounted here.
func cgroup2Root() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		// ID parent major:minor root mountpoint options ... - fstype source superoptions
		fields := strings.Fields(s.Text())
		if i := slices.Index(fields, "-"); i > 4 && i+1 < len(fields) && fields[i+1] == "cgroup2" && fields[3] == "/" {
			return fields[4], nil
		}
	}
	return "", fmt.Errorf("no cgroup2 hierarchy mounted")
}

// peerConnectionPorts are the local ports of the connections process pid has open to a peer port.
func peerConnectionPorts(t *testing.T, pid, peerPort int) []string {
	t.Helper()
	inodes := map[string]bool{}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if ino, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	var ports []string
	for _, table := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			local, remote := hexPort(f[1]), hexPort(f[2])
			if remote == peerPort && local != peerPort {
				ports = append(ports, strconv.Itoa(local))
			}
		}
	}
	return ports
}

func hexPort(addr string) int {
	_, p, _ := strings.Cut(addr, ":")
	n, _ := strconv.ParseInt(p, 16, 32)
	return int(n)
}
