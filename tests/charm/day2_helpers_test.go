package charm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/charmpack"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// appClient dials every unit of app with the root client certificate one of its units keeps.
func appClient(t *testing.T, m *client.Model, app string) *cluster.Client {
	t.Helper()
	return dialUnits(t, m, func(u api.UnitInfo) bool { return strings.HasPrefix(u.Name, app+"/") })
}

// unitClient dials one unit's member only.
func unitClient(t *testing.T, m *client.Model, unit string) *cluster.Client {
	t.Helper()
	return dialUnits(t, m, func(u api.UnitInfo) bool { return u.Name == unit })
}

func dialUnits(t *testing.T, m *client.Model, pick func(api.UnitInfo) bool) *cluster.Client {
	t.Helper()
	infos, err := m.Units(context.Background())
	if err != nil {
		t.Fatalf("listing units: %v", err)
	}
	var endpoints []string
	var tlsDir string
	for _, u := range infos {
		if pick(u) && (u.Life == "" || u.Life == "alive") {
			endpoints = append(endpoints, "https://"+u.Address+":2379")
			if tlsDir == "" {
				tlsDir = filepath.Join(u.Root, "etc/etcd/tls")
			}
		}
	}
	if tlsDir == "" {
		t.Fatal("no such units")
	}
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(tlsDir, name))
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		return data
	}
	cli, err := cluster.Dial(context.Background(), cluster.Options{Endpoints: endpoints,
		CertPEM: read("root.crt"), KeyPEM: read("root.key"), CAPEM: serverCA(tlsDir, read)})
	if err != nil {
		t.Fatalf("dialling %v: %v", endpoints, err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// jujuRun runs an action the way an operator types it, through the local model's `juju run` command line
// (values read as YAML, as Juju reads them), and returns the task's JSON result.
func jujuRun(t *testing.T, m *client.Model, unit, action string, args ...string) (api.ActionResult, error) {
	t.Helper()
	cmd := exec.Command(artefacts.localjuju, append([]string{"run", unit, action, "--format=json"}, args...)...)
	cmd.Env = append(os.Environ(), "LOCALJUJU_MODEL_DIR="+m.Dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var res map[string]api.ActionResult
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		return api.ActionResult{}, fmt.Errorf("juju run %s %s %v: %v, %v: %s", unit, action, args, err, jerr, stderr.String())
	}
	if err != nil {
		return res[unit], fmt.Errorf("juju run %s %s %v: %v: %s", unit, action, args, err, stderr.String())
	}
	return res[unit], nil
}

// runOK runs an action that must complete.
func runOK(t *testing.T, m *client.Model, unit, action string, params map[string]any) api.ActionResult {
	t.Helper()
	res, err := m.Run(context.Background(), unit, action, params)
	if err != nil || res.Status != "completed" {
		t.Fatalf("%s on %s %v: %v status=%s message=%q results=%v", action, unit, params, err, res.Status, res.Message, res.Results)
	}
	return res
}

// runFails runs an action that must fail with a message naming what to do.
func runFails(t *testing.T, m *client.Model, unit, action string, params map[string]any, mention string) {
	t.Helper()
	res, err := m.Run(context.Background(), unit, action, params)
	if err != nil {
		t.Fatalf("%s on %s: %v", action, unit, err)
	}
	if res.Status != "failed" || !strings.Contains(res.Message, mention) {
		t.Fatalf("%s on %s %v: want failed mentioning %q, got %s %q", action, unit, params, mention, res.Status, res.Message)
	}
}

// result reads a dotted action result key ("snapshot.path"), which Juju nests.
func result(res api.ActionResult, key string) string {
	if v, ok := res.Results[key]; ok {
		return fmt.Sprint(v)
	}
	var cur any = res.Results
	for _, part := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[part]
	}
	if cur == nil {
		return ""
	}
	return fmt.Sprint(cur)
}

// fingerprint is what a failed action must leave alone: the member IDs and the revision.
func fingerprint(t *testing.T, cli *cluster.Client) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	members, err := cli.Members(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, mem := range members {
		ids = append(ids, mem.IDString())
	}
	sort.Strings(ids)
	rev, err := cli.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("members %v revision %d", ids, rev)
}

// putMany writes n keys prefix/00000.. in transactions of 100 and returns the revision after the last one.
func putMany(t *testing.T, cli *cluster.Client, prefix string, n int) int64 {
	t.Helper()
	var rev int64
	for i := 0; i < n; i += 100 {
		var ops []clientv3.Op
		for j := i; j < min(i+100, n); j++ {
			ops = append(ops, clientv3.OpPut(fmt.Sprintf("%s/%05d", prefix, j), "v"))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		resp, err := cli.Raw().Txn(ctx).Then(ops...).Commit()
		cancel()
		if err != nil {
			t.Fatalf("writing %s keys: %v", prefix, err)
		}
		rev = resp.Header.Revision
	}
	return rev
}

// unitKeys lists the keys under prefix that each unit's own member holds (serializable reads, no forwarding).
func unitKeys(t *testing.T, m *client.Model, app, prefix string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, u := range appUnits(t, m, app) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		resp, err := unitClient(t, m, u).Raw().Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly(),
			clientv3.WithSerializable())
		cancel()
		if err != nil {
			t.Fatalf("reading keys from %s: %v", u, err)
		}
		out[u] = int(resp.Count)
	}
	return out
}

// wantUnitKeys checks that every etcd unit's own member holds want keys under prefix.
func wantUnitKeys(t *testing.T, m *client.Model, prefix string, want int, what string) {
	t.Helper()
	for unit, n := range unitKeys(t, m, "etcd", prefix) {
		if n != want {
			t.Errorf("%s holds %d keys under %s, want %d (%s)", unit, n, prefix, want, what)
		}
	}
}

// unitStatusOf is one unit's workload status line.
func unitStatusOf(t *testing.T, m *client.Model, app, unit string) string {
	t.Helper()
	st, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	u := st.Applications[app].Units[unit]
	return u.WorkloadStatus.Current + ": " + u.WorkloadStatus.Message
}

func waitAppActive(t *testing.T, m *client.Model, app string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+30*time.Second)
	defer cancel()
	if err := m.WaitForIdle(ctx, client.WaitOptions{Apps: []string{app}, Status: "active", Timeout: timeout,
		IdlePeriod: 2 * time.Second}); err != nil {
		st, _ := m.Status(context.Background())
		t.Fatalf("waiting for %s active: %v\nstatus: %+v", app, err, st.Applications[app])
	}
}

var variants struct {
	built map[string]string
}

// charmWithEtcdVersion packs the charm with its embedded etcd reporting another version (a link-time
// variable), the way a newer release of the charm would carry a newer etcd.
func charmWithEtcdVersion(t *testing.T, v string) string {
	t.Helper()
	build(t)
	if p, ok := variants.built[v]; ok {
		return p
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "dispatch")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath",
		"-ldflags=-s -w -X go.etcd.io/etcd/api/v3/version.Version="+v, "-o", bin, "./cmd/etcd-charm")
	cmd.Dir = repoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the charm with etcd %s: %v\n%s", v, err, out)
	}
	out := filepath.Join(dir, "etcd_"+v+".charm")
	if err := charmpack.Pack(filepath.Join(repoRoot(), "charmcraft.yaml"), bin, out); err != nil {
		t.Fatal(err)
	}
	if variants.built == nil {
		variants.built = map[string]string{}
	}
	variants.built[v] = out
	return out
}

// memberVersions samples each unit's reported etcd version by address; "" where the member does not
// answer. It never fails the test, so a sampling goroutine may call it.
func memberVersions(cli *cluster.Client, addrs map[string]string) map[string]string {
	out := map[string]string{}
	for unit, addr := range addrs {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := cli.EndpointStatus(ctx, "https://"+addr+":2379")
		cancel()
		out[unit] = ""
		if err == nil {
			out[unit] = st.Version
		}
	}
	return out
}

// versionWatch samples every 200 ms which etcd version each member answers with while a refresh rolls: the
// order in which members first answer with the target version, and the most members down at one sample.
type versionWatch struct {
	mu       sync.Mutex
	order    []string
	maxDown  int
	stop     chan struct{}
	finished chan struct{}
}

func watchVersions(cli *cluster.Client, addrs map[string]string, target string) *versionWatch {
	w := &versionWatch{stop: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(w.finished)
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			vs := memberVersions(cli, addrs)
			w.mu.Lock()
			down := 0
			for _, u := range sortedKeys(vs) {
				switch vs[u] {
				case "":
					down++
				case target:
					if !containsString(w.order, u) {
						w.order = append(w.order, u)
					}
				}
			}
			w.maxDown = max(w.maxDown, down)
			w.mu.Unlock()
		}
	}()
	return w
}

// upgraded is how many members have answered with the target version so far.
func (w *versionWatch) upgraded() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.order)
}

// finish stops sampling and returns the upgrade order and the most members down at once.
func (w *versionWatch) finish() ([]string, int) {
	close(w.stop)
	<-w.finished
	return w.order, w.maxDown
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appUnits are app's units that are not going away, sorted.
func appUnits(t *testing.T, m *client.Model, app string) []string {
	t.Helper()
	infos, err := m.Units(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range infos {
		if strings.HasPrefix(u.Name, app+"/") && (u.Life == "" || u.Life == "alive") {
			names = append(names, u.Name)
		}
	}
	sort.Strings(names)
	return names
}

// othersOf names app's units other than the Juju leader.
func othersOf(t *testing.T, m *client.Model, app, leader string) []string {
	t.Helper()
	var others []string
	for _, u := range appUnits(t, m, app) {
		if u != leader {
			others = append(others, u)
		}
	}
	return others
}

// writeOnUnit writes a file at a path on a unit's machine (under its root in the local model).
func writeOnUnit(t *testing.T, m *client.Model, unit, path string, data []byte) {
	t.Helper()
	host := filepath.Join(unitInfo(t, m, unit).Root, path)
	if err := os.MkdirAll(filepath.Dir(host), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(host, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// copyToUnit is juju scp of a host file onto a unit.
func copyToUnit(t *testing.T, m *client.Model, unit, hostFile, path string) {
	t.Helper()
	data, err := os.ReadFile(hostFile)
	if err != nil {
		t.Fatal(err)
	}
	writeOnUnit(t, m, unit, path, data)
}
