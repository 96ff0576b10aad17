package charm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// Requirer charms for the relation tests: the example requirer built on our interface libraries, and a
// "raw" requirer (the local model's programmable test charm declaring an etcd_client endpoint) that writes
// whatever relation data and secrets a test tells it to, bad data included.
var (
	requirersOnce sync.Once
	requirersErr  error
	requirers     struct{ example, raw string }
)

func buildRequirers(t *testing.T) {
	t.Helper()
	build(t)
	requirersOnce.Do(func() {
		dir, err := os.MkdirTemp("", "etcd-requirers-")
		if err != nil {
			requirersErr = err
			return
		}
		root := repoRoot()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		_, requirers.example, requirersErr = buildCharm(ctx, root, dir, "./examples/etcd-requirer",
			filepath.Join(root, "examples/etcd-requirer/charmcraft.yaml"), "etcd-requirer")
		if requirersErr != nil {
			return
		}
		meta, err := os.ReadFile(filepath.Join(root, "localmodel/testcharm/charmcraft.yaml"))
		if err != nil {
			requirersErr = err
			return
		}
		rawMeta := strings.Replace(string(meta), "name: testcharm", "name: raw-requirer", 1)
		rawMeta = strings.Replace(rawMeta, "requires:\n", "requires:\n  etcd-client:\n    interface: etcd_client\n", 1)
		metaPath := filepath.Join(dir, "raw-requirer.yaml")
		if requirersErr = os.WriteFile(metaPath, []byte(rawMeta), 0o644); requirersErr != nil {
			return
		}
		_, requirers.raw, requirersErr = buildCharm(ctx, root, dir, "./localmodel/testcharm", metaPath, "raw-requirer")
	})
	if requirersErr != nil {
		t.Fatalf("building the requirer charms: %v", requirersErr)
	}
}

// deployOneWithClientA deploys a one-unit etcd and the example requirer client-a asking for /a/, not yet
// related.
func deployOneWithClientA(t *testing.T) *client.Model {
	t.Helper()
	buildRequirers(t)
	m := newModel(t)
	if _, err := m.Deploy(context.Background(), artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 1}); err != nil {
		t.Fatal(err)
	}
	deployRequirer(t, m, "client-a", map[string]string{"prefix": "/a/"})
	return m
}

// deployRequirer deploys one unit of the example requirer under app with the given config.
func deployRequirer(t *testing.T, m *client.Model, app string, config map[string]string) {
	t.Helper()
	if _, err := m.Deploy(context.Background(), requirers.example, client.DeployOptions{App: app, NumUnits: 1, Config: config}); err != nil {
		t.Fatalf("deploying %s: %v", app, err)
	}
}

func integrate(t *testing.T, m *client.Model, a, b string) int {
	t.Helper()
	id, err := m.Integrate(context.Background(), a, b)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// waitAppsActive waits until the named applications are all active and idle.
func waitAppsActive(t *testing.T, m *client.Model, timeout time.Duration, apps ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+30*time.Second)
	defer cancel()
	if err := m.WaitForIdle(ctx, client.WaitOptions{Apps: apps, Status: "active", Timeout: timeout, IdlePeriod: 3 * time.Second}); err != nil {
		st, _ := m.Status(context.Background())
		t.Fatalf("waiting for %v active: %v\nstatus: %+v", apps, err, st.Applications)
	}
}

// clientFiles is where the example requirer saved what it uses on one endpoint.
type clientFiles struct{ dir string }

func requirerFiles(t *testing.T, m *client.Model, unit, endpoint string) clientFiles {
	t.Helper()
	return clientFiles{dir: filepath.Join(unitInfo(t, m, unit).Root, "var/lib/etcd-requirer", endpoint)}
}

// snapshot copies the files aside, so a test can try the old certificate after a renewal.
func (f clientFiles) snapshot(t *testing.T) clientFiles {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"ca.crt", "client.crt", "client.key"} {
		data, err := os.ReadFile(filepath.Join(f.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return clientFiles{dir: dir}
}

// etcdctl runs a real etcdctl with exactly these credentials against the given endpoints.
func (f clientFiles) etcdctl(endpoints []string, args ...string) (string, error) {
	cmd := etcdctl([]string{
		"ETCDCTL_API=3",
		"ETCDCTL_CACERT=" + filepath.Join(f.dir, "ca.crt"),
		"ETCDCTL_CERT=" + filepath.Join(f.dir, "client.crt"),
		"ETCDCTL_KEY=" + filepath.Join(f.dir, "client.key"),
		"ETCDCTL_ENDPOINTS=" + strings.Join(endpoints, ","),
		"ETCDCTL_DIAL_TIMEOUT=3s",
		"ETCDCTL_COMMAND_TIMEOUT=5s",
	}, args...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// dial connects a Go client holding exactly these credentials to every member.
func (f clientFiles) dial(t *testing.T, m *client.Model) *cluster.Client {
	t.Helper()
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(f.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	cli, err := cluster.Dial(context.Background(), cluster.Options{Endpoints: memberEndpoints(t, m),
		CertPEM: read("client.crt"), KeyPEM: read("client.key"), CAPEM: read("ca.crt")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// kubeAPIServerCompaction does what kube-apiserver's compactor does every 5 minutes (k8s.io/apiserver,
// storage/etcd3/compact.go): claim the round with a transaction on compact_rev_key, then compact to the
// revision it read.
func kubeAPIServerCompaction(cli *cluster.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const key = "compact_rev_key"
	get, err := cli.Raw().Get(ctx, key)
	if err != nil {
		return err
	}
	var version int64
	if len(get.Kvs) == 1 {
		version = get.Kvs[0].Version
	}
	rev := get.Header.Revision
	txn, err := cli.Raw().Txn(ctx).If(clientv3.Compare(clientv3.Version(key), "=", version)).
		Then(clientv3.OpPut(key, strconv.FormatInt(rev, 10))).Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return fmt.Errorf("claiming the compaction round: %w", err)
	}
	if !txn.Succeeded {
		return fmt.Errorf("another compactor claimed the round")
	}
	if _, err := cli.Raw().Compact(ctx, rev); err != nil {
		return fmt.Errorf("compacting to revision %d: %w", rev, err)
	}
	return nil
}

// memberEndpoints are the etcd units' client URLs, one per member.
func memberEndpoints(t *testing.T, m *client.Model) []string {
	t.Helper()
	var out []string
	for _, u := range aliveUnits(t, m) {
		out = append(out, "https://"+unitInfo(t, m, u).Address+":2379")
	}
	return out
}

// mustWork: a put and a get of key through every member, with these credentials.
func (f clientFiles) mustWork(t *testing.T, m *client.Model, key string) {
	t.Helper()
	for _, ep := range memberEndpoints(t, m) {
		if out, err := f.etcdctl([]string{ep}, "put", key, "v-"+ep); err != nil {
			t.Fatalf("put %s through %s: %v %s", key, ep, err, out)
		}
		if out, err := f.etcdctl([]string{ep}, "get", key, "--print-value-only"); err != nil || out != "v-"+ep {
			t.Fatalf("get %s through %s: %v %q", key, ep, err, out)
		}
	}
}

// mustBeDenied: etcd refuses the request (permission, unknown user or TLS), through every member.
func (f clientFiles) mustBeDenied(t *testing.T, m *client.Model, what string, args ...string) {
	t.Helper()
	for _, ep := range memberEndpoints(t, m) {
		out, err := f.etcdctl([]string{ep}, args...)
		if err == nil {
			t.Fatalf("%s through %s was allowed: %s", what, ep, out)
		}
		if !deniedOutput(out) {
			t.Fatalf("%s through %s failed for another reason: %s", what, ep, out)
		}
	}
}

func deniedOutput(out string) bool {
	for _, s := range []string{"permission denied", "user name not found", "bad certificate", "certificate required",
		"unknown certificate", "authentication handshake failed", "invalid auth token"} {
		if strings.Contains(out, s) {
			return true
		}
	}
	return false
}

// rejectedByEveryMember: the TLS handshake itself fails on every member (the certificate is no longer
// trusted), which is stronger than a permission error.
func (f clientFiles) rejectedByEveryMember(t *testing.T, m *client.Model) {
	t.Helper()
	for _, ep := range memberEndpoints(t, m) {
		out, err := f.etcdctl([]string{ep}, "get", "/anything")
		if err == nil {
			t.Fatalf("%s still accepts the certificate: %s", ep, out)
		}
		if strings.Contains(out, "permission denied") {
			t.Fatalf("%s still completes the TLS handshake with the certificate: %s", ep, out)
		}
	}
}

// runRaw makes the raw requirer's leader perform one goops call.
func runRaw(t *testing.T, m *client.Model, unit, fn string, args ...string) string {
	t.Helper()
	res, err := m.Run(context.Background(), unit, "call", map[string]any{"fn": fn, "args": args})
	if err != nil || res.Status != "completed" {
		t.Fatalf("%s %v on %s: %v %+v", fn, args, unit, err, res)
	}
	raw, _ := res.Results["result"].(string)
	var out string
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		return raw // not a string result
	}
	return strings.TrimSpace(out)
}
