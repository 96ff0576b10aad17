package etcd

import (
	"bytes"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/pkg/v3/featuregate"
	"go.etcd.io/etcd/server/v3/embed"
)

func urls(us []url.URL) string {
	s := make([]string, len(us))
	for i, u := range us {
		s[i] = u.String()
	}
	return strings.Join(s, ",")
}

// loadRendered renders c, writes it and parses it with etcd's own loader,
// which also runs etcd's Config.Validate.
func loadRendered(t *testing.T, p Paths, c Config) (*embed.Config, []byte) {
	t.Helper()
	data, err := c.Render()
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if _, err := WriteFile(p.ConfigFile, data, ModeConfig); err != nil {
		t.Fatal(err)
	}
	cfg, err := embed.ConfigFromFile(p.ConfigFile)
	if err != nil {
		t.Fatalf("embed.ConfigFromFile rejected the rendered file: %v\n%s", err, data)
	}
	return cfg, data
}

func TestRenderSingleMember(t *testing.T) {
	p := tempPaths(t)
	c := singleMember(p, "127.0.0.1", 2379, 2380)
	cfg, data := loadRendered(t, p, c)
	// etcd 3.7 refuses to start with any of the removed --experimental-* options.
	if strings.Contains(string(data), "experimental") {
		t.Errorf("the rendered file names an experimental option, which etcd 3.7 refuses:\n%s", data)
	}

	checks := []struct{ name, got, want string }{
		{"name", cfg.Name, "etcd0"},
		{"data-dir", cfg.Dir, p.DataDir},
		{"listen-client-urls", urls(cfg.ListenClientUrls), "https://127.0.0.1:2379"},
		{"advertise-client-urls", urls(cfg.AdvertiseClientUrls), "https://127.0.0.1:2379"},
		{"listen-peer-urls", urls(cfg.ListenPeerUrls), "https://127.0.0.1:2380"},
		{"initial-advertise-peer-urls", urls(cfg.AdvertisePeerUrls), "https://127.0.0.1:2380"},
		{"initial-cluster", cfg.InitialCluster, "etcd0=https://127.0.0.1:2380"},
		{"initial-cluster-state", cfg.ClusterState, "new"},
		{"initial-cluster-token", cfg.InitialClusterToken, "etcd-test-token"},
		{"auto-compaction-mode", cfg.AutoCompactionMode, "periodic"},
		{"auto-compaction-retention", cfg.AutoCompactionRetention, "1h"},
		{"logger", cfg.Logger, "zap"},
		{"log-outputs", strings.Join(cfg.LogOutputs, ","), "stderr"},
		{"tls-min-version", cfg.TlsMinVersion, "TLS1.2"},
		{"client cert-file", cfg.ClientTLSInfo.CertFile, p.MemberCert},
		{"client key-file", cfg.ClientTLSInfo.KeyFile, p.MemberKey},
		{"client trusted-ca-file", cfg.ClientTLSInfo.TrustedCAFile, p.CACert},
		{"peer cert-file", cfg.PeerTLSInfo.CertFile, p.MemberCert},
		{"peer key-file", cfg.PeerTLSInfo.KeyFile, p.MemberKey},
		{"peer trusted-ca-file", cfg.PeerTLSInfo.TrustedCAFile, p.CACert},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if !cfg.ClientTLSInfo.ClientCertAuth || !cfg.PeerTLSInfo.ClientCertAuth {
		t.Errorf("client-cert-auth: client=%v peer=%v, want both true", cfg.ClientTLSInfo.ClientCertAuth, cfg.PeerTLSInfo.ClientCertAuth)
	}
	if !cfg.StrictReconfigCheck || cfg.MaxLearners != 1 {
		t.Errorf("strict-reconfig-check=%v max-learners=%d", cfg.StrictReconfigCheck, cfg.MaxLearners)
	}
	if cfg.TickMs != 100 || cfg.ElectionMs != 1000 || cfg.SnapshotCount != 10000 {
		t.Errorf("heartbeat=%d election=%d snapshot-count=%d", cfg.TickMs, cfg.ElectionMs, cfg.SnapshotCount)
	}
	if !strings.HasPrefix(string(data), "# Written by the etcd charm") {
		t.Errorf("rendered file lacks the header:\n%s", data)
	}
}

func TestRenderJoiningMember(t *testing.T) {
	p := tempPaths(t)
	c := singleMember(p, "127.0.0.12", 2379, 2380)
	c.Name = "etcd2"
	c.InitialClusterState = ClusterStateExisting
	// Given out of order: the rendering sorts by name.
	c.InitialCluster = []Member{
		{Name: "etcd2", PeerURL: "https://127.0.0.12:2380"},
		{Name: "etcd0", PeerURL: "https://127.0.0.10:2380"},
		{Name: "etcd1", PeerURL: "https://127.0.0.11:2380"},
	}
	c.HeartbeatInterval = 250 * time.Millisecond
	c.ElectionTimeout = 2500 * time.Millisecond
	c.SnapshotCount = 50000
	c.QuotaBackendBytes = 4 << 30
	c.AutoCompactionMode = "revision"
	c.AutoCompactionRetention = "1000"
	c.CipherSuites = DefaultCipherSuites
	c.ListenMetricsURLs = []string{"http://127.0.0.12:2381"}
	c.FeatureGates = map[string]bool{"InitialCorruptCheck": true, "CompactHashCheck": true}

	cfg, _ := loadRendered(t, p, c)
	if cfg.ClusterState != "existing" {
		t.Errorf("initial-cluster-state = %q", cfg.ClusterState)
	}
	if want := "etcd0=https://127.0.0.10:2380,etcd1=https://127.0.0.11:2380,etcd2=https://127.0.0.12:2380"; cfg.InitialCluster != want {
		t.Errorf("initial-cluster = %q, want %q", cfg.InitialCluster, want)
	}
	if cfg.TickMs != 250 || cfg.ElectionMs != 2500 || cfg.SnapshotCount != 50000 || cfg.QuotaBackendBytes != 4<<30 {
		t.Errorf("tick=%d election=%d snap=%d quota=%d", cfg.TickMs, cfg.ElectionMs, cfg.SnapshotCount, cfg.QuotaBackendBytes)
	}
	if cfg.AutoCompactionMode != "revision" || cfg.AutoCompactionRetention != "1000" {
		t.Errorf("compaction %q %q", cfg.AutoCompactionMode, cfg.AutoCompactionRetention)
	}
	if strings.Join(cfg.CipherSuites, ",") != strings.Join(DefaultCipherSuites, ",") {
		t.Errorf("cipher-suites = %v", cfg.CipherSuites)
	}
	if urls(cfg.ListenMetricsUrls) != "http://127.0.0.12:2381" {
		t.Errorf("listen-metrics-urls = %v", cfg.ListenMetricsUrls)
	}
	for _, gate := range []string{"InitialCorruptCheck", "CompactHashCheck"} {
		if !cfg.ServerFeatureGate.Enabled(featuregate.Feature(gate)) {
			t.Errorf("feature gate %s not enabled", gate)
		}
	}
}

func TestRenderInsecureLocalHTTP(t *testing.T) {
	p := tempPaths(t)
	c := singleMember(p, "0.0.0.0", 2379, 2380)
	c.AdvertiseClientURLs = []string{"https://10.0.0.5:2379"}
	c.AdvertisePeerURLs = []string{"https://10.0.0.5:2380"}
	c.InitialCluster = []Member{{Name: "etcd0", PeerURL: "https://10.0.0.5:2380"}}
	c.InsecureLocalHTTP = true
	cfg, _ := loadRendered(t, p, c)
	// etcd sorts listen URLs as it parses them.
	if got := urls(cfg.ListenClientUrls); got != "http://127.0.0.1:4001,https://0.0.0.0:2379" {
		t.Errorf("listen-client-urls = %q", got)
	}
	if got := urls(cfg.AdvertiseClientUrls); got != "https://10.0.0.5:2379" {
		t.Errorf("the insecure listener must not be advertised: %q", got)
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	p := tempPaths(t)
	c := singleMember(p, "127.0.0.1", 2379, 2380)
	c.FeatureGates = map[string]bool{"A": true, "B": false, "C": true, "D": true, "E": false}
	first, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, err := c.Render()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first, again) {
			t.Fatalf("rendering changed between calls:\n%s\n---\n%s", first, again)
		}
	}
	if !bytes.Contains(first, []byte("feature-gates: A=true,B=false,C=true,D=true,E=false\n")) {
		t.Errorf("feature gates not sorted:\n%s", first)
	}
	c.ElectionTimeout = 2 * time.Second
	changed, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(first, changed) {
		t.Error("a changed election timeout rendered identically")
	}
}

func TestValidate(t *testing.T) {
	p := tempPaths(t)
	base := singleMember(p, "127.0.0.1", 2379, 2380)
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"empty name", func(c *Config) { c.Name = "" }, "member name"},
		{"relative data dir", func(c *Config) { c.DataDir = "data" }, "absolute"},
		{"plain http client", func(c *Config) { c.ListenClientURLs = []string{"http://127.0.0.1:2379"} }, "scheme"},
		{"listen on DNS name", func(c *Config) { c.ListenPeerURLs = []string{"https://etcd-0:2380"} }, "only listen on an IP"},
		{"missing port", func(c *Config) { c.AdvertiseClientURLs = []string{"https://127.0.0.1"} }, "missing port"},
		{"port out of range", func(c *Config) { c.ListenClientURLs = []string{"https://127.0.0.1:70000"} }, "1-65535"},
		{"URL with path", func(c *Config) { c.ListenClientURLs = []string{"https://127.0.0.1:2379/x"} }, "scheme://host:port only"},
		{"no client URLs", func(c *Config) { c.ListenClientURLs = nil }, "at least one URL"},
		{"self not in cluster", func(c *Config) { c.InitialCluster = []Member{{"other", "https://127.0.0.2:2380"}} }, "does not list this member"},
		{"self URL mismatch", func(c *Config) { c.InitialCluster = []Member{{"etcd0", "https://127.0.0.9:2380"}} }, "not among its advertised"},
		{"duplicate member", func(c *Config) { c.InitialCluster = append(c.InitialCluster, c.InitialCluster[0]) }, "listed twice"},
		{"bad state", func(c *Config) { c.InitialClusterState = "joining" }, "initial-cluster-state"},
		{"empty token", func(c *Config) { c.InitialClusterToken = "" }, "token"},
		{"election too short", func(c *Config) { c.HeartbeatInterval = 500 * time.Millisecond }, "five heartbeat"},
		{"election too long", func(c *Config) { c.HeartbeatInterval = time.Second; c.ElectionTimeout = 60 * time.Second }, "maximum"},
		{"sub-millisecond heartbeat", func(c *Config) { c.HeartbeatInterval = 1500 * time.Microsecond }, "milliseconds"},
		{"bad periodic retention", func(c *Config) { c.AutoCompactionRetention = "soon" }, "positive duration"},
		{"bad revision retention", func(c *Config) { c.AutoCompactionMode = "revision"; c.AutoCompactionRetention = "1h" }, "revisions"},
		{"bad mode", func(c *Config) { c.AutoCompactionMode = "hourly" }, "periodic or revision"},
		{"negative quota", func(c *Config) { c.QuotaBackendBytes = -1 }, "negative"},
		{"unknown cipher", func(c *Config) { c.CipherSuites = []string{"TLS_FOO"} }, "unknown cipher suite"},
		{"relative TLS path", func(c *Config) { c.PeerTLS.KeyFile = "member.key" }, "not absolute"},
		{"bad log level", func(c *Config) { c.LogLevel = "chatty" }, "log level"},
		{"bad metrics URL", func(c *Config) { c.ListenMetricsURLs = []string{"ftp://127.0.0.1:2381"} }, "listen-metrics-urls"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			c.InitialCluster = append([]Member(nil), base.InitialCluster...)
			tc.modify(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tc.want)
			}
			if _, err := c.Render(); err == nil {
				t.Fatal("Render accepted an invalid config")
			}
		})
	}
	if err := base.Validate(); err != nil {
		t.Fatalf("base config invalid: %v", err)
	}
	// A zero periodic retention is etcd's "compaction off", which the charm's auto_compaction_mode="" asks for.
	off := base
	off.AutoCompactionMode, off.AutoCompactionRetention = "periodic", "0"
	out, err := off.Render()
	if err != nil || !strings.Contains(string(out), `auto-compaction-retention: "0"`) {
		t.Fatalf("compaction off: %v\n%s", err, out)
	}
}

func TestValidateReportsAllProblems(t *testing.T) {
	c := Config{}
	err := c.Validate()
	if err == nil {
		t.Fatal("empty config validated")
	}
	for _, want := range []string{"member name", "data dir", "listen-client-urls", "initial-cluster is empty", "token"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestRenderGatewayClientCertificateAndPeerAllowedCN(t *testing.T) {
	p := tempPaths(t)
	c := singleMember(p, "127.0.0.1", 2379, 2380)
	cfg, data := loadRendered(t, p, c)
	if cfg.ClientTLSInfo.ClientCertFile != "" || bytes.Contains(data, []byte("client-cert-file")) {
		t.Fatalf("a client certificate was rendered though none was given:\n%s", data)
	}
	c.ClientTLS.ClientCertFile, c.ClientTLS.ClientKeyFile = p.GatewayCert, p.GatewayKey
	cfg, _ = loadRendered(t, p, c)
	if cfg.ClientTLSInfo.ClientCertFile != p.GatewayCert || cfg.ClientTLSInfo.ClientKeyFile != p.GatewayKey {
		t.Errorf("etcd reads client-cert-file %q key %q, want the gateway's", cfg.ClientTLSInfo.ClientCertFile, cfg.ClientTLSInfo.ClientKeyFile)
	}
	if cfg.PeerTLSInfo.ClientCertFile != "" {
		t.Errorf("the peer listener got a client certificate: %q", cfg.PeerTLSInfo.ClientCertFile)
	}
	c.PeerTLS.AllowedCNs = []string{"etcd-member"}
	cfg, _ = loadRendered(t, p, c)
	if got := cfg.PeerTLSInfo.AllowedCNs; len(got) != 1 || got[0] != "etcd-member" || len(cfg.ClientTLSInfo.AllowedCNs) != 0 {
		t.Errorf("peer allowed CNs %v, client allowed CNs %v; want etcd-member on the peer listener only", got, cfg.ClientTLSInfo.AllowedCNs)
	}
	c.ClientTLS.ClientKeyFile = ""
	if err := c.Validate(); err == nil {
		t.Error("a client certificate without its key was accepted")
	}
}
