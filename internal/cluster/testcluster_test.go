package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/etcd-charm/etcd/internal/pki"
)

// Test bounds. Generous because the machine is shared; they only cap a
// hung test, nothing waits for them to pass.
const (
	memberStartTimeout = 60 * time.Second
	testOpTimeout      = 60 * time.Second
	testProbeTimeout   = 2 * time.Second
)

// testPKI is one CA with the client certificate the charm uses (CN root).
type testPKI struct {
	dir  string
	ca   pki.KeyPair
	root pki.KeyPair
}

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	ca, err := pki.NewCA("etcd test CA", time.Hour)
	if err != nil {
		t.Fatalf("new CA: %v", err)
	}
	root, err := pki.IssueClient(ca, RootUser, time.Hour)
	if err != nil {
		t.Fatalf("issue root client cert: %v", err)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "ca.crt"), ca.CertPEM)
	return &testPKI{dir: dir, ca: ca, root: root}
}

// client issues a client certificate with the given CN (the etcd user).
func (p *testPKI) client(t testing.TB, cn string) pki.KeyPair {
	t.Helper()
	kp, err := pki.IssueClient(p.ca, cn, time.Hour)
	if err != nil {
		t.Fatalf("issue client cert %s: %v", cn, err)
	}
	return kp
}

// serverFiles writes a server-and-client (peer) certificate for ip and
// returns the TLS files etcd reads.
func (p *testPKI) serverFiles(t testing.TB, name, ip string) transport.TLSInfo {
	t.Helper()
	key, err := pki.NewPrivateKey()
	if err != nil {
		t.Fatalf("new key: %v", err)
	}
	// etcd checks a peer's client certificate against the connection's
	// source address, and the kernel sources loopback traffic to any 127/8
	// destination from 127.0.0.1, so that address must be covered too.
	csr, err := pki.NewCSR(key, name, []string{ip, "127.0.0.1"})
	if err != nil {
		t.Fatalf("new CSR: %v", err)
	}
	cert, err := pki.Sign(p.ca, csr, pki.ServerAndClient, time.Hour)
	if err != nil {
		t.Fatalf("sign %s: %v", name, err)
	}
	certFile := filepath.Join(p.dir, name+".crt")
	keyFile := filepath.Join(p.dir, name+".key")
	writeFile(t, certFile, cert)
	writeFile(t, keyFile, key)
	return transport.TLSInfo{
		CertFile:       certFile,
		KeyFile:        keyFile,
		TrustedCAFile:  filepath.Join(p.dir, "ca.crt"),
		ClientCertAuth: true,
	}
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// testMember is one in-process etcd member on its own loopback address.
type testMember struct {
	name      string
	ip        string
	clientURL string
	peerURL   string
	tls       transport.TLSInfo

	mu   sync.Mutex
	etcd *embed.Etcd
}

// testCluster allocates members on a random 127.x.y.0/24 so parallel test
// binaries (ours and other engineers') do not collide.
type testCluster struct {
	t      testing.TB
	pki    *testPKI
	token  string
	subnet string
	next   int
	quota  int64
}

func newTestCluster(t testing.TB) *testCluster {
	return &testCluster{
		t:      t,
		pki:    newTestPKI(t),
		token:  fmt.Sprintf("test-%d", rand.Uint64()),
		subnet: fmt.Sprintf("127.%d.%d.", 1+rand.IntN(254), 1+rand.IntN(254)),
	}
}

// newMember reserves an address, ports and certificates; it does not start.
func (tc *testCluster) newMember(name string) *testMember {
	tc.t.Helper()
	tc.next++
	ip := tc.subnet + fmt.Sprint(tc.next)
	ports := freePorts(tc.t, ip, 2)
	return &testMember{
		name:      name,
		ip:        ip,
		clientURL: "https://" + net.JoinHostPort(ip, ports[0]),
		peerURL:   "https://" + net.JoinHostPort(ip, ports[1]),
		tls:       tc.pki.serverFiles(tc.t, name, ip),
	}
}

// freePorts finds n distinct free ports on ip. It holds every listener until all are found: closing each at
// once let the kernel hand the same port out twice, and the member then failed to bind its second listener.
func freePorts(t testing.TB, ip string, n int) []string {
	t.Helper()
	var ports []string
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatalf("find free port on %s: %v", ip, err)
		}
		defer l.Close()
		_, port, _ := net.SplitHostPort(l.Addr().String())
		ports = append(ports, port)
	}
	return ports
}

func initialCluster(ms ...*testMember) string {
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		parts = append(parts, m.name+"="+m.peerURL)
	}
	return strings.Join(parts, ",")
}

// start launches m with a fresh data dir. state is "new" for bootstrap or
// "existing" for a member added with AddLearner. It does not wait for
// readiness (a bootstrapping member is only ready once quorum forms).
func (tc *testCluster) start(m *testMember, state, initial string) {
	tc.t.Helper()
	cfg := embed.NewConfig()
	cfg.Name = m.name
	cfg.Dir = tc.t.TempDir()
	cfg.ListenClientUrls = []url.URL{mustURL(tc.t, m.clientURL)}
	cfg.AdvertiseClientUrls = cfg.ListenClientUrls
	cfg.ListenPeerUrls = []url.URL{mustURL(tc.t, m.peerURL)}
	cfg.AdvertisePeerUrls = cfg.ListenPeerUrls
	cfg.InitialCluster = initial
	cfg.InitialClusterToken = tc.token
	cfg.ClusterState = state
	cfg.ClientTLSInfo = m.tls
	cfg.PeerTLSInfo = m.tls
	cfg.QuotaBackendBytes = tc.quota
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(testLogger())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		tc.t.Fatalf("start etcd %s: %v", m.name, err)
	}
	m.mu.Lock()
	m.etcd = e
	m.mu.Unlock()
	tc.t.Cleanup(m.stop)
}

// waitReady blocks until m serves clients.
func (m *testMember) waitReady(t testing.TB) {
	t.Helper()
	m.mu.Lock()
	e := m.etcd
	m.mu.Unlock()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		t.Fatalf("etcd %s failed: %v", m.name, err)
	case <-time.After(memberStartTimeout):
		t.Fatalf("etcd %s not ready within %v", m.name, memberStartTimeout)
	}
}

// stop closes m; safe to call more than once.
func (m *testMember) stop() {
	m.mu.Lock()
	e := m.etcd
	m.etcd = nil
	m.mu.Unlock()
	if e != nil {
		e.Close()
	}
}

func mustURL(t testing.TB, s string) url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return *u
}

// bootstrap starts n members together as a new cluster.
func (tc *testCluster) bootstrap(n int) []*testMember {
	tc.t.Helper()
	ms := make([]*testMember, n)
	for i := range ms {
		ms[i] = tc.newMember(fmt.Sprintf("m%d", i+1))
	}
	initial := initialCluster(ms...)
	for _, m := range ms {
		tc.start(m, embed.ClusterStateFlagNew, initial)
	}
	for _, m := range ms {
		m.waitReady(tc.t)
	}
	return ms
}

// dial connects with the given client certificate (the charm's is CN root).
func (tc *testCluster) dial(kp pki.KeyPair, ms ...*testMember) *Client {
	tc.t.Helper()
	return tc.dialOpts(Options{CertPEM: kp.CertPEM, KeyPEM: kp.KeyPEM}, ms...)
}

func (tc *testCluster) dialOpts(opts Options, ms ...*testMember) *Client {
	tc.t.Helper()
	for _, m := range ms {
		opts.Endpoints = append(opts.Endpoints, m.clientURL)
	}
	opts.CAPEM = tc.pki.ca.CertPEM
	opts.ProbeTimeout = testProbeTimeout
	ctx, cancel := context.WithTimeout(context.Background(), testOpTimeout)
	defer cancel()
	c, err := Dial(ctx, opts)
	if err != nil {
		tc.t.Fatalf("dial %v: %v", opts.Endpoints, err)
	}
	tc.t.Cleanup(func() { c.Close() })
	return c
}

func (tc *testCluster) rootClient(ms ...*testMember) *Client { return tc.dial(tc.pki.root, ms...) }

// opContext bounds one test step.
func opContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testOpTimeout)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(testOpTimeout)
	var last error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not reached within %v (last error: %v)", what, testOpTimeout, last)
}

func testLogger() *zap.Logger {
	if os.Getenv("CLUSTER_TEST_ETCD_LOG") != "" {
		lg, _ := zap.NewDevelopment()
		return lg
	}
	return zap.NewNop()
}
