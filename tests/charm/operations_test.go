package charm_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-charm/etcd/internal/pki"
	"github.com/etcd-charm/etcd/localmodel/client"
)

func deploy3(t *testing.T) *client.Model {
	t.Helper()
	return deploy3With(t, newModel(t))
}

func deploy3With(t *testing.T, m *client.Model) *client.Model {
	t.Helper()
	if _, err := m.Deploy(context.Background(), artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 3}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 5*time.Minute)
	return m
}

// etcdctl is a real etcdctl that shares no code with the charm when the machine has one (Debian's
// etcd-client, which CI installs); otherwise etcd's own, from the charm binary.
func etcdctl(env []string, args ...string) *exec.Cmd {
	path, err := exec.LookPath("etcdctl")
	var cmd *exec.Cmd
	if err == nil {
		cmd = exec.Command(path, args...)
	} else {
		cmd = exec.Command(artefacts.dispatch, append([]string{"etcdctl"}, args...)...)
	}
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	return cmd
}

func unpackCredentials(t *testing.T, m *client.Model, unit string) (dir string, endpoints string) {
	t.Helper()
	res, err := m.Run(context.Background(), unit, "package-client-credentials", nil)
	if err != nil || res.Status != "completed" {
		t.Fatalf("package-client-credentials on %s: %v %+v", unit, err, res)
	}
	path, _ := res.Results["path"].(string)
	dir = t.TempDir()
	if out, err := exec.Command("tar", "-xzmf", path, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("unpacking %s: %v %s", path, err, out)
	}
	readme, err := os.ReadFile(filepath.Join(dir, "etcd_credentials/README.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(readme), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "export ETCDCTL_ENDPOINTS="); ok {
			endpoints = v
		}
	}
	if endpoints == "" {
		t.Fatalf("README has no ETCDCTL_ENDPOINTS:\n%s", readme)
	}
	return filepath.Join(dir, "etcd_credentials"), endpoints
}

func TestGivenTheCredentialsTarballWhenAnOutsideEtcdctlUsesItThenItReadsAndWritesAndOthersAreRefused(t *testing.T) {
	m := deploy3(t)
	creds, endpoints := unpackCredentials(t, m, "etcd/leader")
	env := []string{"ETCDCTL_ENDPOINTS=" + endpoints, "ETCDCTL_CACERT=" + filepath.Join(creds, "ca.crt"),
		"ETCDCTL_CERT=" + filepath.Join(creds, "client.crt"), "ETCDCTL_KEY=" + filepath.Join(creds, "client.key")}
	if out, err := etcdctl(env, "put", "greeting", "hello").CombinedOutput(); err != nil {
		t.Fatalf("put with the tarball's credentials: %v\n%s", err, out)
	}
	out, err := etcdctl(env, "get", "greeting", "--print-value-only").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "hello" {
		t.Fatalf("get: %v %q", err, out)
	}

	noCert := []string{"ETCDCTL_ENDPOINTS=" + endpoints, "ETCDCTL_CACERT=" + filepath.Join(creds, "ca.crt"),
		"ETCDCTL_DIAL_TIMEOUT=3s", "ETCDCTL_COMMAND_TIMEOUT=5s"}
	if out, err := etcdctl(noCert, "get", "greeting").CombinedOutput(); err == nil {
		t.Fatalf("a client without a certificate was served:\n%s", out)
	}

	other, err := pki.NewCA("someone else", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := pki.IssueClient(other, "root", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "c.crt"), foreign.CertPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "c.key"), foreign.KeyPEM, 0o600)
	foreignEnv := append(noCert, "ETCDCTL_CERT="+filepath.Join(dir, "c.crt"), "ETCDCTL_KEY="+filepath.Join(dir, "c.key"))
	if out, err := etcdctl(foreignEnv, "get", "greeting").CombinedOutput(); err == nil {
		t.Fatalf("a certificate from another CA named root was served:\n%s", out)
	}

	// The machine's own etcdctl reaches the cluster with the charm's admin credentials.
	reply, err := m.Exec(context.Background(), "etcd/1", "etcdctl", "get", "greeting", "--print-value-only")
	if err != nil || reply.Code != 0 || strings.TrimSpace(reply.Stdout) != "hello" {
		t.Fatalf("etcdctl on the unit: %v %+v", err, reply)
	}

	// The health action speaks the classic charm's words.
	res, err := m.Run(context.Background(), "etcd/0", "health", nil)
	if err != nil || !strings.Contains(fmt.Sprint(res.Results["output"]), "cluster is healthy") {
		t.Fatalf("health action: %v %+v", err, res)
	}
}

// writer puts increasing values until stopped and remembers which writes etcd acknowledged.
type writer struct {
	mu    sync.Mutex
	acked []string
	stop  chan struct{}
	done  chan struct{}
}

func startWriter(t *testing.T, m *client.Model) *writer {
	cli := adminClient(t, m)
	w := &writer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			key := fmt.Sprintf("writer/%06d", i)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err := cli.Raw().Put(ctx, key, "v")
			cancel()
			if err == nil {
				w.mu.Lock()
				w.acked = append(w.acked, key)
				w.mu.Unlock()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return w
}

func (w *writer) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

func (w *writer) finish() []string {
	close(w.stop)
	<-w.done
	return w.acked
}

func TestGivenTheRaftLeaderWhenItsEtcdIsKilledThenTheServiceRestartsANewLeaderServesAndNoWriteIsLost(t *testing.T) {
	m := deploy3(t)
	victim := raftLeaderUnit(t, m)
	w := startWriter(t, m)
	waitFor(t, 30*time.Second, "writes acknowledged before the fault", func() bool { return w.count() > 0 })
	if err := m.SignalWorkload(context.Background(), victim, "etcd", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "a raft leader other than "+victim, func() bool { return raftLeaderUnit(t, m) != victim })
	afterElection := w.count()
	waitFor(t, 30*time.Second, "writes acknowledged after the election", func() bool { return w.count() > afterElection })
	acked := w.finish()
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged")
	}
	waitActive(t, m, 3*time.Minute)
	keys := map[string]string{}
	for _, k := range acked {
		keys[k] = "v"
	}
	assertCluster(t, m, keys)
	t.Logf("%d acknowledged writes all present after killing %s's etcd", len(acked), victim)
}

func unitStatuses(t *testing.T, m *client.Model) map[string]string {
	t.Helper()
	st, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for name, u := range st.Applications["etcd"].Units {
		out[name] = u.WorkloadStatus.Current + ": " + u.WorkloadStatus.Message
	}
	return out
}

func TestGivenBadConfigWhenSetThenUnitsBlockNamingTheOptionTheClusterKeepsServingAndTheFixRecovers(t *testing.T) {
	m := deploy3(t)
	ctx := context.Background()
	keys := map[string]string{}
	cases := []struct{ option, value, mention string }{
		{"election_timeout", "300", "election_timeout"},
		{"heartbeat_interval", "0", "heartbeat_interval"},
		{"tls_cipher_suites", "TLS_MADE_UP", "TLS_MADE_UP"},
		{"port", "2380", "management_port"},
		{"management_port", "2390", "set it back to 2380"},
		{"snapshot_count", "many", "snapshot_count"},
		{"quota_backend_bytes", "1000", "quota_backend_bytes"},
		{"auto_compaction_mode", "weekly", "auto_compaction_mode"},
	}
	for _, tc := range cases {
		t.Run(tc.option, func(t *testing.T) {
			if err := m.SetConfig(ctx, "etcd", map[string]string{tc.option: tc.value}); err != nil {
				t.Fatal(err)
			}
			waitIdle(t, m)
			for unit, st := range unitStatuses(t, m) {
				if !strings.HasPrefix(st, "blocked: ") || !strings.Contains(st, tc.mention) {
					t.Fatalf("%s with %s=%s: %q", unit, tc.option, tc.value, st)
				}
			}
			put(t, m, keys, "config/"+tc.option, tc.value)
			if err := m.SetConfig(ctx, "etcd", nil, tc.option); err != nil {
				t.Fatal(err)
			}
			waitActive(t, m, 3*time.Minute)
			assertCluster(t, m, keys)
		})
	}
}

func waitIdle(t *testing.T, m *client.Model) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := m.WaitForIdle(ctx, client.WaitOptions{Timeout: 2 * time.Minute, IdlePeriod: 2 * time.Second}); err != nil {
		t.Fatalf("waiting for idle: %v", err)
	}
}

func TestGivenAValidTuningChangeWhenSetThenMembersRestartOneAtATimeAndStayHealthy(t *testing.T) {
	m := deploy3(t)
	keys := map[string]string{}
	put(t, m, keys, "before", "restart")
	w := startWriter(t, m)
	if err := m.SetConfig(context.Background(), "etcd", map[string]string{"heartbeat_interval": "150", "election_timeout": "1500"}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 5*time.Minute)
	for _, k := range w.finish() {
		keys[k] = "v"
	}
	assertCluster(t, m, keys)
	for _, u := range mustUnits(t, m) {
		cfg, err := os.ReadFile(filepath.Join(u, "etc/etcd/etcd.conf.yml"))
		if err != nil || !strings.Contains(string(cfg), "heartbeat-interval: 150") {
			t.Fatalf("config of %s not updated: %v\n%s", u, err, cfg)
		}
	}
}

func mustUnits(t *testing.T, m *client.Model) []string {
	infos, err := m.Units(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var roots []string
	for _, u := range infos {
		roots = append(roots, u.Root)
	}
	return roots
}

func TestGivenTheJujuLeaderUnitWhenRemovedThenANewLeaderSignsAndIssuesAndOldCertificatesStillVerify(t *testing.T) {
	m := deploy3(t)
	ctx := context.Background()
	keys := map[string]string{}
	put(t, m, keys, "before", "leader loss")
	infos, err := m.Units(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var oldLeader, survivorRoot string
	for _, u := range infos {
		if u.Leader {
			oldLeader = u.Name
		} else if survivorRoot == "" {
			survivorRoot = u.Root
		}
	}
	caBefore, err := os.ReadFile(filepath.Join(survivorRoot, "etc/etcd/tls/ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	memberCert, _ := os.ReadFile(filepath.Join(survivorRoot, "etc/etcd/tls/member.crt"))
	if err := m.RemoveUnit(ctx, oldLeader); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 5*time.Minute)
	if _, err := m.AddUnit(ctx, "etcd", 1); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 5*time.Minute)
	assertCluster(t, m, keys)
	if err := pki.Verify(caBefore, memberCert, x509.ExtKeyUsageServerAuth, time.Now()); err != nil {
		t.Fatalf("a certificate issued before the leader left no longer verifies: %v", err)
	}
	creds, endpoints := unpackCredentials(t, m, "etcd/leader")
	caAfter, _ := os.ReadFile(filepath.Join(creds, "ca.crt"))
	if string(caAfter) != string(caBefore) {
		t.Fatal("the CA changed when the Juju leader left")
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(creds, "client.crt"), filepath.Join(creds, "client.key"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caAfter)
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(endpoints, ","), DialTimeout: 5 * time.Second,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Put(cctx, "after", "new leader"); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("credentials from the new leader cannot write: %v", err)
	}
}
