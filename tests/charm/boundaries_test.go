package charm_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// Trust boundaries of one unit that need no relation: what its listeners accept, and who may read the
// files it leaves for the operator.
func TestGivenADeployedUnitWhenItsListenersAndOperatorFilesAreExaminedThenOnlyWhatIsMeantGetsThrough(t *testing.T) {
	m := newModel(t)
	if _, err := m.Deploy(context.Background(), artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 1}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 3*time.Minute)
	u := unitInfo(t, m, "etcd/0")
	t.Run("TLS 1.2 offers ECDHE with AEAD ciphers only", func(t *testing.T) { aeadOnly(t, u) })
	t.Run("files for juju scp belong to the ubuntu user alone", func(t *testing.T) { operatorFiles(t, m, u) })
	t.Run("a plain HTTP listener is refused and nothing restarts", func(t *testing.T) { noInsecureHTTP(t, m, u) })
	t.Run("the metrics listener serves /metrics and /health without a certificate, and no keys", func(t *testing.T) { metricsListener(t, m, u) })
}

// metricsListener: metrics_port (2381) is etcd's plain-HTTP metrics URL on the unit's address, opened with
// open-port: a scraper needs no credentials, and nothing but metrics and health is there.
func metricsListener(t *testing.T, m *client.Model, u api.UnitInfo) {
	base := "http://" + net.JoinHostPort(u.Address, "2381")
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		return resp.StatusCode, string(body)
	}
	if code, body := get("/metrics"); code != http.StatusOK || !strings.Contains(body, "etcd_server_has_leader 1") {
		t.Errorf("/metrics: %d, has_leader present: %v", code, strings.Contains(body, "etcd_server_has_leader"))
	}
	if code, body := get("/health"); code != http.StatusOK || !strings.Contains(body, `"health":"true"`) {
		t.Errorf("/health: %d %s", code, body)
	}
	resp, err := http.Post(base+"/v3/kv/range", "application/json", strings.NewReader(`{"key":"AA=="}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Errorf("the metrics listener answered a key range")
	}
	st, err := m.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ports := st.Applications["etcd"].Units[u.Name].OpenPorts; !slices.Contains(ports, "2381/tcp") || !slices.Contains(ports, "2379/tcp") {
		t.Errorf("open ports %v, want 2379/tcp and 2381/tcp", ports)
	}
}

// noInsecureHTTP: bind_with_insecure_http (a classic option) cannot do what it says with authentication on;
// setting it blocks the unit naming the option, and etcd keeps running as it was, with no plain listener.
func noInsecureHTTP(t *testing.T, m *client.Model, u api.UnitInfo) {
	ctx := context.Background()
	before := etcdPID(t, m, u.Name)
	if err := m.SetConfig(ctx, "etcd", map[string]string{"bind_with_insecure_http": "true"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, "the unit blocked, naming bind_with_insecure_http", func() bool {
		st := unitStatuses(t, m)[u.Name]
		return strings.HasPrefix(st, "blocked: ") && strings.Contains(st, "bind_with_insecure_http")
	})
	if pid := etcdPID(t, m, u.Name); pid != before {
		t.Errorf("etcd restarted (pid %d to %d) for a refused option", before, pid)
	}
	if conn, err := net.DialTimeout("tcp", "127.0.0.1:4001", time.Second); err == nil {
		conn.Close()
		t.Errorf("something listens on 127.0.0.1:4001")
	}
	if err := m.SetConfig(ctx, "etcd", map[string]string{"bind_with_insecure_http": "false"}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 2*time.Minute)
}

// aeadOnly: with tls_cipher_suites left empty the charm offers ECDHE with AEAD ciphers only on TLS 1.2 (Go's
// own default list, which etcd would take, still has the CBC-SHA1 suites); TLS 1.3 and AEAD suites work.
func aeadOnly(t *testing.T, u api.UnitInfo) {
	tlsDir := filepath.Join(u.Root, "etc/etcd/tls")
	// The member certificate: the peer port admits members only.
	cert, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "member.crt"), filepath.Join(tlsDir, "member.key"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(tlsDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	handshake := func(port string, version uint16, suites []uint16) error {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", u.Address+":"+port, &tls.Config{
			Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: u.Address,
			MinVersion: version, MaxVersion: version, CipherSuites: suites})
		if err != nil {
			return err
		}
		return conn.Close()
	}
	cbc := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA}
	aead := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}
	for _, port := range []string{"2379", "2380"} {
		if err := handshake(port, tls.VersionTLS12, cbc); err == nil {
			t.Errorf("port %s accepted a TLS 1.2 handshake offering only CBC-SHA1 suites", port)
		}
		if err := handshake(port, tls.VersionTLS12, aead); err != nil {
			t.Errorf("port %s refused TLS 1.2 with AES-GCM: %v", port, err)
		}
		if err := handshake(port, tls.VersionTLS13, nil); err != nil {
			t.Errorf("port %s refused TLS 1.3: %v", port, err)
		}
	}
}

// operatorFiles: juju scp logs in as the ubuntu user, so what the charm writes under /home/ubuntu for the
// operator to copy (the credentials tarball, snapshots) must be that user's, and no one else's to read.
func operatorFiles(t *testing.T, m *client.Model, u api.UnitInfo) {
	const uid, gid = 1000, 1000 // the ubuntu user of a cloud image
	home := filepath.Join(u.Root, "home/ubuntu")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatal(err)
	}
	owned := func(path string, mode os.FileMode) {
		t.Helper()
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		st := info.Sys().(*syscall.Stat_t)
		if st.Uid != uid || st.Gid != gid || info.Mode().Perm() != mode {
			t.Errorf("%s is %d:%d %v, want %d:%d %v", path, st.Uid, st.Gid, info.Mode().Perm(), uid, gid, mode)
		}
	}
	creds := runOK(t, m, u.Name, "package-client-credentials", nil)
	owned(result(creds, "path"), 0o600)
	snap := runOK(t, m, u.Name, "snapshot", nil)
	owned(result(snap, "snapshot.path"), 0o600)
	owned(filepath.Dir(result(snap, "snapshot.path")), 0o700)
	// A target outside the home stays root's.
	other := runOK(t, m, u.Name, "snapshot", map[string]any{"target": "/var/backups/etcd"})
	if info, err := os.Stat(result(other, "snapshot.path")); err != nil || info.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("a snapshot outside /home/ubuntu changed hands: %v %v", err, info)
	}
}
