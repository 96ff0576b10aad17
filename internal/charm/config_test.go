package charm

import (
	"strings"
	"testing"
)

func defaults() Config {
	return Config{Port: 2379, ManagementPort: 2380, MetricsPort: 2381, HeartbeatInterval: 100, ElectionTimeout: 1000,
		SnapshotCount: "auto", AutoCompactionMode: "periodic", AutoCompactionRetention: "1h", DefragPolicy: "auto",
		ReplacementPolicy: "auto"}
}

func TestGivenDefaultConfigWhenValidatedThenNoProblems(t *testing.T) {
	if ps := defaults().Validate(0); len(ps) != 0 {
		t.Fatalf("defaults reported problems: %v", ps)
	}
}

func TestGivenBadConfigWhenValidatedThenTheOptionAndTheFixAreNamed(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(*Config)
		peer    int
		option  string
		mention string
	}{
		{"port out of range", func(c *Config) { c.Port = 70000 }, 0, "port", "1-65535"},
		{"nagios context with a line break", func(c *Config) { c.NagiosContext = "juju\ncommand[x]=/bin/sh" }, 0, "nagios_context", "letters, digits"},
		{"nagios servicegroup with a space", func(c *Config) { c.NagiosServicegroups = "prod, etcd servers" }, 0, "nagios_servicegroups", "comma-separated"},
		{"port clash", func(c *Config) { c.ManagementPort = 2379 }, 0, "management_port", "different ports"},
		{"peer port moved after bootstrap", func(c *Config) { c.ManagementPort = 2390 }, 2380, "management_port", "set it back to 2380"},
		{"election under 5x heartbeat", func(c *Config) { c.ElectionTimeout = 400 }, 0, "election_timeout", "at least 500"},
		{"heartbeat too small", func(c *Config) { c.HeartbeatInterval = 1 }, 0, "heartbeat_interval", "10-5000"},
		{"election too large", func(c *Config) { c.ElectionTimeout = 60000 }, 0, "election_timeout", "50000"},
		{"snapshot count not a number", func(c *Config) { c.SnapshotCount = "lots" }, 0, "snapshot_count", "positive integer"},
		{"unknown cipher", func(c *Config) { c.TLSCipherSuites = "TLS_NOPE" }, 0, "tls_cipher_suites", "TLS_NOPE"},
		{"quota too small", func(c *Config) { c.QuotaBackendBytes = 1024 }, 0, "quota_backend_bytes", "100 MiB"},
		{"compaction mode", func(c *Config) { c.AutoCompactionMode = "sometimes" }, 0, "auto_compaction_mode", "neither periodic nor revision"},
		{"periodic retention", func(c *Config) { c.AutoCompactionRetention = "soon" }, 0, "auto_compaction_retention", "duration"},
		{"revision retention", func(c *Config) { c.AutoCompactionMode, c.AutoCompactionRetention = "revision", "1h" }, 0, "auto_compaction_retention", "revision count"},
		{"bad SAN", func(c *Config) { c.TLSExtraSANs = "ok.example, not a name" }, 0, "tls_extra_sans", "not a name"},
		{"metrics port clash", func(c *Config) { c.MetricsPort = 2380 }, 0, "metrics_port", "already the client or peer port"},
		{"metrics port out of range", func(c *Config) { c.MetricsPort = -1 }, 0, "metrics_port", "1-65535"},
		{"insecure http", func(c *Config) { c.BindWithInsecureHTTP = true }, 0, "bind_with_insecure_http", "cannot work with etcd authentication"},
		{"defrag policy", func(c *Config) { c.DefragPolicy = "sometimes" }, 0, "defrag_policy", "neither auto"},
		{"replacement policy", func(c *Config) { c.ReplacementPolicy = "maybe" }, 0, "replacement_policy", "neither auto"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := defaults()
			tc.edit(&cfg)
			ps := cfg.Validate(tc.peer)
			if len(ps) != 1 {
				t.Fatalf("want exactly one problem, got %v", ps)
			}
			if ps[0].Option != tc.option || !strings.Contains(ps[0].Reason, tc.mention) {
				t.Fatalf("problem %q does not name %s with %q", ps[0], tc.option, tc.mention)
			}
		})
	}
}

func TestGivenSeveralBadOptionsWhenValidatedThenAllAreReported(t *testing.T) {
	cfg := defaults()
	cfg.Port, cfg.SnapshotCount, cfg.AutoCompactionMode = 0, "-3", "x"
	if ps := cfg.Validate(0); len(ps) != 3 {
		t.Fatalf("want 3 problems, got %v", ps)
	}
}

func TestGivenCompactionOffWhenValidatedThenAccepted(t *testing.T) {
	cfg := defaults()
	cfg.AutoCompactionMode, cfg.AutoCompactionRetention = "", ""
	if ps := cfg.Validate(0); len(ps) != 0 {
		t.Fatalf("compaction off reported problems: %v", ps)
	}
}
