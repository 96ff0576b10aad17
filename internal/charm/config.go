package charm

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/etcd"
)

// Config is the charm's configuration as Juju hands it over (names from the classic charm, so bundles
// written for it deploy unchanged).
type Config struct {
	Port                    int    `json:"port"`
	ManagementPort          int    `json:"management_port"`
	MetricsPort             int    `json:"metrics_port"`
	HeartbeatInterval       int    `json:"heartbeat_interval"`
	ElectionTimeout         int    `json:"election_timeout"`
	SnapshotCount           string `json:"snapshot_count"`
	TLSCipherSuites         string `json:"tls_cipher_suites"`
	BindToAllInterfaces     bool   `json:"bind_to_all_interfaces"`
	BindWithInsecureHTTP    bool   `json:"bind_with_insecure_http"`
	QuotaBackendBytes       int64  `json:"quota_backend_bytes"`
	AutoCompactionMode      string `json:"auto_compaction_mode"`
	AutoCompactionRetention string `json:"auto_compaction_retention"`
	TLSExtraSANs            string `json:"tls_extra_sans"`
	AllowNestedPrefixes     bool   `json:"allow_nested_prefixes"`
	DBAdmin                 bool   `json:"db_admin"`
	NagiosContext           string `json:"nagios_context"`
	NagiosServicegroups     string `json:"nagios_servicegroups"`
	DefragPolicy            string `json:"defrag_policy"`
	ReplacementPolicy       string `json:"replacement_policy"`
	CACertificate           string `json:"ca_certificate"`
	CAKey                   string `json:"ca_key"` // read by the leader into a secret; never logged or written to disk
	periodicConfig                 // snapshot_interval, snapshot_retention: read with the rest, in one config-get
	backupConfig                   // backup_retention, backup_retention_days (S3)
}

// Problem is one invalid option: what is wrong and how to fix it, shown to the operator as blocked status.
type Problem struct {
	Option string
	Reason string
}

func (p Problem) String() string { return p.Option + ": " + p.Reason }

// defrag_policy and replacement_policy values.
const (
	defragAuto = "auto"
	defragOff  = "off"
)

const (
	minQuota = 100 << 20
	maxQuota = 8 << 30
)

func readConfig() (Config, error) {
	var cfg Config
	if err := goops.GetConfig(&cfg); err != nil {
		return cfg, fmt.Errorf("reading config: %w", err)
	}
	return cfg, nil
}

// Validate reports every invalid option at once, so one fix round is enough. bootstrappedPeerPort is the peer
// port the running cluster was formed with (0 before bootstrap): peer URLs are in every member's raft state,
// so changing the port would cut the member off.
func (c Config) Validate(bootstrappedPeerPort int) []Problem {
	var ps []Problem
	bad := func(opt, format string, args ...any) {
		ps = append(ps, Problem{Option: opt, Reason: fmt.Sprintf(format, args...)})
	}
	validPort := func(opt string, v int) bool {
		if v < 1 || v > 65535 {
			bad(opt, "%d is not a TCP port; use 1-65535", v)
			return false
		}
		return true
	}
	if validPort("port", c.Port) && validPort("management_port", c.ManagementPort) && c.Port == c.ManagementPort {
		bad("management_port", "equals port (%d); client and peer listeners need different ports", c.Port)
	}
	if c.MetricsPort != 0 && validPort("metrics_port", c.MetricsPort) && (c.MetricsPort == c.Port || c.MetricsPort == c.ManagementPort) {
		bad("metrics_port", "%d is already the client or peer port; pick another, or 0 for no metrics listener", c.MetricsPort)
	}
	if c.BindWithInsecureHTTP {
		// The classic charm ran etcd without authentication, so its plain listener served anyone on the
		// machine. Here authentication is always on, and a plain listener carries no identity: every request
		// on it would be refused, and units sharing a machine would all claim 127.0.0.1:4001.
		bad("bind_with_insecure_http", "a plain HTTP listener cannot work with etcd authentication, which this charm "+
			"always keeps on (every request on it would be refused); give local clients TLS credentials "+
			"(package-client-credentials, or a db or etcd-client relation) and set it to false")
	}
	if bootstrappedPeerPort != 0 && c.ManagementPort != bootstrappedPeerPort {
		bad("management_port", "the cluster was formed with peer port %d and members cannot move; set it back to %d",
			bootstrappedPeerPort, bootstrappedPeerPort)
	}
	if c.HeartbeatInterval < 10 || c.HeartbeatInterval > 5000 {
		bad("heartbeat_interval", "%d ms is outside 10-5000", c.HeartbeatInterval)
	} else if c.ElectionTimeout < 5*c.HeartbeatInterval {
		bad("election_timeout", "%d ms is under 5 x heartbeat_interval (%d ms); use at least %d",
			c.ElectionTimeout, c.HeartbeatInterval, 5*c.HeartbeatInterval)
	}
	if c.ElectionTimeout > 50000 {
		bad("election_timeout", "%d ms is over etcd's limit of 50000", c.ElectionTimeout)
	}
	if _, err := c.snapshotCount(); err != nil {
		bad("snapshot_count", "%v; use \"auto\" or a positive integer", err)
	}
	if suites := splitList(c.TLSCipherSuites); len(suites) > 0 {
		if err := etcd.ValidateCipherSuites(suites); err != nil {
			bad("tls_cipher_suites", "%v", err)
		}
	}
	if q := c.QuotaBackendBytes; q != 0 && (q < minQuota || q > maxQuota) {
		bad("quota_backend_bytes", "%d is outside %d (100 MiB) to %d (8 GiB); 0 keeps etcd's default", q, minQuota, maxQuota)
	}
	switch c.AutoCompactionMode {
	case "":
	case "periodic":
		if d, err := parseRetention(c.AutoCompactionRetention); err != nil || d <= 0 {
			bad("auto_compaction_retention", "%q is not a positive duration for periodic mode (e.g. 1h, 30m)", c.AutoCompactionRetention)
		}
	case "revision":
		if n, err := strconv.ParseInt(c.AutoCompactionRetention, 10, 64); err != nil || n <= 0 {
			bad("auto_compaction_retention", "%q is not a positive revision count for revision mode", c.AutoCompactionRetention)
		}
	default:
		bad("auto_compaction_mode", "%q is neither periodic nor revision (empty turns compaction off)", c.AutoCompactionMode)
	}
	switch c.DefragPolicy {
	case defragAuto, defragOff:
	default:
		bad("defrag_policy", "%q is neither auto (defragment by rule, and recover from NOSPACE) nor off", c.DefragPolicy)
	}
	switch c.ReplacementPolicy {
	case defragAuto, defragOff:
	default:
		bad("replacement_policy", "%q is neither auto (replace a member that cannot serve) nor off", c.ReplacementPolicy)
	}
	for _, san := range c.extraSANs() {
		if net.ParseIP(san) == nil && !validDNSName(san) {
			bad("tls_extra_sans", "%q is neither an IP address nor a DNS name", san)
		}
	}
	// Both end up in Nagios host and service definitions, one per line.
	if c.NagiosContext != "" && !nagiosNameRE.MatchString(c.NagiosContext) {
		bad("nagios_context", "%q is not a Nagios host name prefix; use letters, digits, '.', '_' and '-' (default juju)", c.NagiosContext)
	}
	for _, g := range splitList(c.NagiosServicegroups) {
		if !nagiosNameRE.MatchString(g) {
			bad("nagios_servicegroups", "%q is not a Nagios servicegroup name; use letters, digits, '.', '_' and '-', comma-separated", g)
		}
	}
	return ps
}

var nagiosNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// snapshotCount is 0 for "auto": etcd's own default.
func (c Config) snapshotCount() (uint64, error) {
	s := strings.TrimSpace(c.SnapshotCount)
	if s == "" || s == "auto" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a positive integer", s)
	}
	return n, nil
}

// cipherSuites are the TLS 1.2 suites every listener offers: the option's, else AEAD suites only. Left empty,
// etcd would take Go's defaults, which still include the CBC-SHA1 suites.
func (c Config) cipherSuites() []string {
	if suites := splitList(c.TLSCipherSuites); len(suites) > 0 {
		return suites
	}
	return slices.Clone(etcd.DefaultCipherSuites)
}
func (c Config) extraSANs() []string { return splitList(c.TLSExtraSANs) }

// parseRetention accepts what etcd accepts for periodic retention: a Go duration, or a bare number of hours.
func parseRetention(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Hour, nil
	}
	return time.ParseDuration(s)
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func validDNSName(s string) bool {
	if len(s) == 0 || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(s, "."), ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return false
			}
		}
	}
	return true
}

// insecurePort is where bind_with_insecure_http listens (127.0.0.1 only), as the classic charm did.
