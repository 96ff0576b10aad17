package etcd

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/etcd-charm/etcd/internal/pki"
)

// startRendered renders a single-member config with TLS from pki, loads it
// through etcd's own parser and starts a real etcd from it. The returned
// stop function may be called early; cleanup calls it again harmlessly
// (embed.Etcd.Close panics on a second call).
func startRendered(t *testing.T) (Paths, testPKI, *embed.Etcd, func()) {
	t.Helper()
	p := tempPaths(t)
	creds := writeTestPKI(t, p, "127.0.0.1", "localhost")
	c := singleMember(p, "127.0.0.1", freePort(t), freePort(t))
	c.ListenMetricsURLs = []string{fmt.Sprintf("http://127.0.0.1:%d", freePort(t))}
	c.LogLevel = "error"
	writeConfig(t, p, c)

	cfg, err := embed.ConfigFromFile(p.ConfigFile)
	if err != nil {
		t.Fatalf("embed.ConfigFromFile: %v", err)
	}
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("embed.StartEtcd: %v", err)
	}
	stop := sync.OnceFunc(e.Close)
	t.Cleanup(stop)
	waitReady(t, e)
	return p, creds, e, stop
}

// waitReady waits until a started etcd serves clients, failing the test if it stops or takes over a minute.
func waitReady(t *testing.T, e *embed.Etcd) {
	t.Helper()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		t.Fatalf("etcd failed: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("etcd did not become ready within 60s")
	}
}

func newClient(t *testing.T, endpoint string, tlsCfg *tls.Config) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{endpoint},
		TLS:         tlsCfg,
		DialTimeout: 5 * time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		t.Fatalf("clientv3.New: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func clientTLS(t *testing.T, caFile, certFile, keyFile string) *tls.Config {
	t.Helper()
	cfg, err := transport.TLSInfo{TrustedCAFile: caFile, CertFile: certFile, KeyFile: keyFile}.ClientConfig()
	if err != nil {
		t.Fatalf("client TLS config: %v", err)
	}
	return cfg
}

// handshake opens a raw TLS connection to the member's client port and
// waits briefly for the server's verdict: with TLS 1.3 a rejected client
// certificate only shows up as an alert on the first read. An accepted
// client sees no data (etcd waits for an HTTP/2 preface) and gets nil.
func handshake(t *testing.T, e *embed.Etcd, cfg *tls.Config) error {
	t.Helper()
	cfg = cfg.Clone()
	cfg.ServerName = "127.0.0.1"
	// Present the certificate even when the server's acceptable-CA list
	// does not name its issuer, as a hostile client would.
	if len(cfg.Certificates) > 0 {
		c := cfg.Certificates[0]
		cfg.Certificates = nil
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &c, nil }
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", e.Clients[0].Addr().String(), cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = conn.Read(make([]byte, 1))
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return err
}

func TestRenderedConfigRunsEtcd(t *testing.T) {
	p, creds, e, _ := startRendered(t)
	endpoint := e.Config().AdvertiseClientUrls[0].String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	root := newClient(t, endpoint, clientTLS(t, p.CACert, p.RootClientCert, p.RootClientKey))
	if _, err := root.Put(ctx, "/charm/hello", "world"); err != nil {
		t.Fatalf("Put over TLS with the root client cert: %v", err)
	}
	resp, err := root.Get(ctx, "/charm/hello")
	if err != nil || len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != "world" {
		t.Fatalf("Get = %v, %v", resp, err)
	}

	t.Run("raw TLS with the root certificate is accepted", func(t *testing.T) {
		if err := handshake(t, e, clientTLS(t, p.CACert, p.RootClientCert, p.RootClientKey)); err != nil {
			t.Fatalf("TLS with the root certificate: %v", err)
		}
	})

	t.Run("refused without a client certificate", func(t *testing.T) {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(creds.ca.CertPEM)
		anon := newClient(t, endpoint, &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12})
		actx, acancel := context.WithTimeout(ctx, 3*time.Second)
		defer acancel()
		if _, err := anon.Get(actx, "/charm/hello"); err == nil {
			t.Fatal("Get without a client certificate succeeded")
		}
		err := handshake(t, e, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12})
		if err == nil || !strings.Contains(err.Error(), "certificate required") {
			t.Fatalf("TLS without a client certificate: %v, want a certificate-required alert", err)
		}
	})

	t.Run("refused with a certificate from another CA", func(t *testing.T) {
		other, err := pki.NewCA("other", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		stranger, err := pki.IssueClient(other, "root", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		certFile, keyFile := filepath.Join(dir, "c.crt"), filepath.Join(dir, "c.key")
		if err := os.WriteFile(certFile, stranger.CertPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, stranger.KeyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		cli := newClient(t, endpoint, clientTLS(t, p.CACert, certFile, keyFile))
		sctx, scancel := context.WithTimeout(ctx, 3*time.Second)
		defer scancel()
		if _, err := cli.Get(sctx, "/charm/hello"); err == nil {
			t.Fatal("Get with a foreign CA's certificate succeeded")
		}
		err = handshake(t, e, clientTLS(t, p.CACert, certFile, keyFile))
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("TLS with a foreign CA's certificate: %v, want a certificate alert", err)
		}
	})

	t.Run("client certificate CN is the etcd user", func(t *testing.T) {
		// The charm's auth bootstrap in miniature: a password-less root
		// user, authenticated only by its certificate's CN.
		if _, err := root.RoleAdd(ctx, "root"); err != nil {
			t.Fatal(err)
		}
		if _, err := root.UserAddWithOptions(ctx, "root", "", &clientv3.UserAddOptions{NoPassword: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := root.UserGrantRole(ctx, "root", "root"); err != nil {
			t.Fatal(err)
		}
		if _, err := root.AuthEnable(ctx); err != nil {
			t.Fatalf("AuthEnable: %v", err)
		}
		if _, err := root.Put(ctx, "/charm/hello", "again"); err != nil {
			t.Fatalf("Put as CN=root with auth enabled: %v", err)
		}
		ghost, err := pki.IssueClient(creds.ca, "ghost", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		certFile, keyFile := filepath.Join(dir, "g.crt"), filepath.Join(dir, "g.key")
		if _, err := WriteFile(certFile, ghost.CertPEM, ModeCert); err != nil {
			t.Fatal(err)
		}
		if _, err := WriteFile(keyFile, ghost.KeyPEM, ModeKey); err != nil {
			t.Fatal(err)
		}
		cli := newClient(t, endpoint, clientTLS(t, p.CACert, certFile, keyFile))
		if _, err := cli.Put(ctx, "/charm/hello", "ghost"); !errors.Is(err, rpctypes.ErrPermissionDenied) {
			t.Fatalf("Put as unknown CN=ghost: %v, want permission denied", err)
		}
	})

	t.Run("data dir identity matches the running member", func(t *testing.T) {
		memberID, clusterID, err := DataDirIdentity(p.DataDir)
		if err != nil {
			t.Fatalf("DataDirIdentity: %v", err)
		}
		if want := uint64(e.Server.MemberID()); memberID != want {
			t.Errorf("member ID %x, want %x", memberID, want)
		}
		if want := uint64(e.Server.Cluster().ID()); clusterID != want {
			t.Errorf("cluster ID %x, want %x", clusterID, want)
		}
	})
}

func TestDataDirIdentityAfterStop(t *testing.T) {
	p, _, e, stop := startRendered(t)
	wantMember, wantCluster := uint64(e.Server.MemberID()), uint64(e.Server.Cluster().ID())
	stop()
	memberID, clusterID, err := DataDirIdentity(p.DataDir)
	if err != nil {
		t.Fatalf("DataDirIdentity: %v", err)
	}
	if memberID != wantMember || clusterID != wantCluster {
		t.Errorf("identity %x/%x, want %x/%x", memberID, clusterID, wantMember, wantCluster)
	}
}

func TestDataDirIdentityNoData(t *testing.T) {
	empty := t.TempDir()
	emptyWAL := filepath.Join(t.TempDir(), "d")
	if err := os.MkdirAll(filepath.Join(emptyWAL, "member", "wal"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, dir := range map[string]string{
		"absent":        filepath.Join(t.TempDir(), "missing"),
		"empty":         empty,
		"empty WAL dir": emptyWAL,
	} {
		if _, _, err := DataDirIdentity(dir); !errors.Is(err, ErrNoData) {
			t.Errorf("%s: DataDirIdentity = %v, want ErrNoData", name, err)
		}
	}
}

func TestDataDirIdentityCorruptWAL(t *testing.T) {
	dir := t.TempDir()
	walDir := filepath.Join(dir, "member", "wal")
	if err := os.MkdirAll(walDir, 0o700); err != nil {
		t.Fatal(err)
	}
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(i*7 + 3)
	}
	if err := os.WriteFile(filepath.Join(walDir, "0000000000000000-0000000000000000.wal"), junk, 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := DataDirIdentity(dir)
	if err == nil || errors.Is(err, ErrNoData) {
		t.Fatalf("DataDirIdentity on a corrupt WAL = %v, want a read error", err)
	}
}
