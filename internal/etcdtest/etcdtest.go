// Package etcdtest runs a real one-member etcd for tests that need what etcd itself answers: client TLS
// with client-certificate authentication, as the charm configures it, and a plain-HTTP metrics listener.
package etcdtest

import (
	"context"
	"crypto/tls"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"

	"github.com/etcd-charm/etcd/internal/pki"
)

// Member is a running one-member etcd.
type Member struct {
	Etcd       *embed.Etcd
	Client     *clientv3.Client // authenticated with a client certificate
	ClientAddr string           // host:port of the TLS client listener
	MetricsURL string           // http://host:port of the metrics listener
	CACert     string           // the CA file the member's certificate chains to
	CertFile   string           // the member's own certificate

	stop sync.Once
}

// Stop ends the member; a second call does nothing.
func (m *Member) Stop() { m.stop.Do(m.Etcd.Close) }

func freeURL(t testing.TB, scheme string) url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return url.URL{Scheme: scheme, Host: l.Addr().String()}
}

func write(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Start runs the member until the test ends; its certificate lives for certLifetime.
func Start(t testing.TB, certLifetime time.Duration) *Member {
	t.Helper()
	dir := t.TempDir()
	ca, err := pki.NewCA("etcdtest CA", 10*certLifetime)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := pki.NewCSR(key, "member", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.Sign(ca, csr, pki.ServerAndClient, certLifetime)
	if err != nil {
		t.Fatal(err)
	}
	root, err := pki.IssueClient(ca, "root", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	m := &Member{CACert: write(t, filepath.Join(dir, "ca.crt"), ca.CertPEM), CertFile: write(t, filepath.Join(dir, "member.crt"), cert)}
	server := transport.TLSInfo{TrustedCAFile: m.CACert, CertFile: m.CertFile, KeyFile: write(t, filepath.Join(dir, "member.key"), key), ClientCertAuth: true}

	cfg := embed.NewConfig()
	cfg.Dir = filepath.Join(dir, "data")
	cfg.Logger, cfg.LogLevel = "zap", "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	peer, client, metrics := freeURL(t, "http"), freeURL(t, "https"), freeURL(t, "http")
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenMetricsUrls = []url.URL{metrics}
	cfg.ClientTLSInfo = server
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.Etcd, m.ClientAddr, m.MetricsURL = e, client.Host, metrics.String()
	t.Cleanup(m.Stop)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		t.Fatal("etcd did not become ready")
	}

	clientTLS := transport.TLSInfo{TrustedCAFile: m.CACert, CertFile: write(t, filepath.Join(dir, "root.crt"), root.CertPEM),
		KeyFile: write(t, filepath.Join(dir, "root.key"), root.KeyPEM)}
	tc, err := clientTLS.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	tc.MinVersion = tls.VersionTLS12
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{client.String()}, TLS: tc, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	m.Client = cli
	return m
}

// RaiseAlarm raises an alarm on the member as etcd itself would (NOSPACE on a full backend, CORRUPT on a
// hash mismatch).
func (m *Member) RaiseAlarm(t testing.TB, alarm pb.AlarmType) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := pb.NewMaintenanceClient(m.Client.ActiveConnection()).Alarm(ctx, &pb.AlarmRequest{
		Action: pb.AlarmRequest_ACTIVATE, MemberID: uint64(m.Etcd.Server.MemberID()), Alarm: alarm}); err != nil {
		t.Fatalf("raising %v: %v", alarm, err)
	}
}
