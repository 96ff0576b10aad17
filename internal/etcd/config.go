package etcd

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ClusterState is etcd's initial-cluster-state.
type ClusterState string

const (
	// ClusterStateNew bootstraps a new cluster (the first unit only; the
	// charm grows clusters by adding learners).
	ClusterStateNew ClusterState = "new"
	// ClusterStateExisting joins a cluster that already registered this
	// member with `member add`.
	ClusterStateExisting ClusterState = "existing"
)

// Defaults the charm uses when a config option is unset. They are etcd
// 3.6's and 3.7's own defaults except auto-compaction, which etcd leaves off and which
// is the most common cause of NOSPACE outages.
const (
	DefaultHeartbeatInterval       = 100 * time.Millisecond
	DefaultElectionTimeout         = 1000 * time.Millisecond
	DefaultSnapshotCount           = 10000
	DefaultAutoCompactionMode      = "periodic"
	DefaultAutoCompactionRetention = "1h"

	// MaxElectionTimeout is etcd's upper bound for election-timeout.
	MaxElectionTimeout = 50 * time.Second

	// InsecureLocalClientURL is the plain-HTTP loopback listener the classic
	// charm offered with bind_with_insecure_http. It is never advertised.
	InsecureLocalClientURL = "http://127.0.0.1:4001"
)

// Member is one entry of initial-cluster.
type Member struct {
	Name    string
	PeerURL string
}

// TLSFiles names the files etcd reads for one listener family. The charm
// uses one member certificate (serverAuth+clientAuth) for both the client
// and peer listeners.
type TLSFiles struct {
	TrustedCAFile string
	CertFile      string
	KeyFile       string
	// ClientCertFile and ClientKeyFile, on the client listener, are what etcd presents when it dials its
	// own client port: the gRPC gateway does. Empty, etcd presents CertFile.
	ClientCertFile string
	ClientKeyFile  string
	// AllowedCNs, when set, are the only client certificate CNs the listener admits (beyond its CA).
	AllowedCNs []string
}

// Config is what the charm decides for one member. Zero numeric fields and
// empty compaction settings mean "use the Default* value".
type Config struct {
	Name    string
	DataDir string

	// Listen URLs must name IP addresses (etcd cannot listen on a DNS
	// name); 0.0.0.0 is allowed for bind_to_all_interfaces.
	ListenClientURLs    []string
	AdvertiseClientURLs []string
	ListenPeerURLs      []string
	AdvertisePeerURLs   []string
	// ListenMetricsURLs serve /metrics and /health; http is allowed here
	// so monitoring needs no client certificate.
	ListenMetricsURLs []string
	// InsecureLocalHTTP adds InsecureLocalClientURL to the client
	// listeners (classic charm option bind_with_insecure_http).
	InsecureLocalHTTP bool

	InitialCluster      []Member
	InitialClusterState ClusterState
	InitialClusterToken string

	HeartbeatInterval       time.Duration
	ElectionTimeout         time.Duration
	SnapshotCount           uint64
	QuotaBackendBytes       int64
	AutoCompactionMode      string
	AutoCompactionRetention string
	CipherSuites            []string
	// FeatureGates are etcd server feature gates, e.g. InitialCorruptCheck.
	FeatureGates map[string]bool

	ClientTLS TLSFiles
	PeerTLS   TLSFiles

	// LogLevel defaults to "info"; LogOutputs to stderr, which systemd
	// sends to the journal.
	LogLevel   string
	LogOutputs []string
}

func (c Config) heartbeat() time.Duration {
	if c.HeartbeatInterval == 0 {
		return DefaultHeartbeatInterval
	}
	return c.HeartbeatInterval
}

func (c Config) election() time.Duration {
	if c.ElectionTimeout == 0 {
		return DefaultElectionTimeout
	}
	return c.ElectionTimeout
}

func (c Config) snapshotCount() uint64 {
	if c.SnapshotCount == 0 {
		return DefaultSnapshotCount
	}
	return c.SnapshotCount
}

func (c Config) compaction() (mode, retention string) {
	mode, retention = c.AutoCompactionMode, c.AutoCompactionRetention
	if mode == "" {
		mode = DefaultAutoCompactionMode
	}
	if retention == "" {
		retention = DefaultAutoCompactionRetention
	}
	return mode, retention
}

// Validate reports everything wrong with c at once, so a blocked status can
// name every bad option. etcd itself exits the process on some of these
// (malformed URLs), which the charm would only see as a crash loop.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if c.Name == "" || strings.ContainsAny(c.Name, "=, \t\n") {
		add("member name %q must be non-empty without '=', ',' or spaces", c.Name)
	}
	if !filepath.IsAbs(c.DataDir) {
		add("data dir %q is not an absolute path", c.DataDir)
	}
	checkURLs := func(what string, urls []string, listen bool, schemes ...string) {
		if len(urls) == 0 {
			add("%s: at least one URL is required", what)
		}
		for _, u := range urls {
			if err := checkURL(u, listen, schemes...); err != nil {
				add("%s: %w", what, err)
			}
		}
	}
	checkURLs("listen-client-urls", c.ListenClientURLs, true, "https")
	checkURLs("advertise-client-urls", c.AdvertiseClientURLs, false, "https")
	checkURLs("listen-peer-urls", c.ListenPeerURLs, true, "https")
	checkURLs("initial-advertise-peer-urls", c.AdvertisePeerURLs, false, "https")
	for _, u := range c.ListenMetricsURLs {
		if err := checkURL(u, true, "http", "https"); err != nil {
			add("listen-metrics-urls: %w", err)
		}
	}

	errs = append(errs, c.validateInitialCluster()...)
	switch c.InitialClusterState {
	case ClusterStateNew, ClusterStateExisting:
	default:
		add("initial-cluster-state %q must be %q or %q", c.InitialClusterState, ClusterStateNew, ClusterStateExisting)
	}
	if c.InitialClusterToken == "" {
		add("initial-cluster-token is empty")
	}

	hb, el := c.heartbeat(), c.election()
	switch {
	case hb < time.Millisecond || hb%time.Millisecond != 0:
		add("heartbeat interval %v must be a positive whole number of milliseconds", hb)
	case el%time.Millisecond != 0:
		add("election timeout %v must be a whole number of milliseconds", el)
	case el < 5*hb:
		add("election timeout %v must be at least five heartbeat intervals (%v)", el, 5*hb)
	case el > MaxElectionTimeout:
		add("election timeout %v exceeds etcd's maximum of %v", el, MaxElectionTimeout)
	}
	if c.QuotaBackendBytes < 0 {
		add("quota-backend-bytes %d is negative", c.QuotaBackendBytes)
	}
	mode, retention := c.compaction()
	if err := validateCompaction(mode, retention); err != nil {
		errs = append(errs, err)
	}
	if err := ValidateCipherSuites(c.CipherSuites); err != nil {
		errs = append(errs, err)
	}
	for gate := range c.FeatureGates {
		if gate == "" || strings.ContainsAny(gate, "=, ") {
			add("feature gate name %q is malformed", gate)
		}
	}
	checkTLS := func(what string, f TLSFiles) {
		for _, p := range []string{f.TrustedCAFile, f.CertFile, f.KeyFile} {
			if !filepath.IsAbs(p) {
				add("%s: TLS file path %q is not absolute", what, p)
			}
		}
		if (f.ClientCertFile == "") != (f.ClientKeyFile == "") {
			add("%s: client-cert-file and client-key-file come together", what)
		}
		for _, p := range []string{f.ClientCertFile, f.ClientKeyFile} {
			if p != "" && !filepath.IsAbs(p) {
				add("%s: TLS file path %q is not absolute", what, p)
			}
		}
	}
	checkTLS("client-transport-security", c.ClientTLS)
	checkTLS("peer-transport-security", c.PeerTLS)
	switch c.LogLevel {
	case "", "debug", "info", "warn", "error", "panic", "fatal":
	default:
		add("log level %q is not one of debug, info, warn, error, panic, fatal", c.LogLevel)
	}
	return errors.Join(errs...)
}

func (c Config) validateInitialCluster() []error {
	var errs []error
	if len(c.InitialCluster) == 0 {
		return []error{errors.New("initial-cluster is empty")}
	}
	seen := map[string]bool{}
	self := false
	for _, m := range c.InitialCluster {
		if m.Name == "" || strings.ContainsAny(m.Name, "=, \t\n") {
			errs = append(errs, fmt.Errorf("initial-cluster: member name %q is malformed", m.Name))
		}
		if seen[m.Name] {
			errs = append(errs, fmt.Errorf("initial-cluster: member %q is listed twice", m.Name))
		}
		seen[m.Name] = true
		if err := checkURL(m.PeerURL, false, "https"); err != nil {
			errs = append(errs, fmt.Errorf("initial-cluster: member %q: %w", m.Name, err))
		}
		if m.Name == c.Name {
			self = true
			found := false
			for _, u := range c.AdvertisePeerURLs {
				found = found || u == m.PeerURL
			}
			if !found {
				errs = append(errs, fmt.Errorf("initial-cluster: this member's peer URL %q is not among its advertised peer URLs %v", m.PeerURL, c.AdvertisePeerURLs))
			}
		}
	}
	if !self {
		errs = append(errs, fmt.Errorf("initial-cluster does not list this member %q", c.Name))
	}
	return errs
}

// checkURL accepts scheme://host:port with no path. Listen URLs must use an
// IP literal, which is all etcd can bind to.
func checkURL(raw string, listen bool, schemes ...string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("URL %q: %w", raw, err)
	}
	okScheme := false
	for _, s := range schemes {
		okScheme = okScheme || u.Scheme == s
	}
	if !okScheme {
		return fmt.Errorf("URL %q: scheme must be one of %v", raw, schemes)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("URL %q: must be scheme://host:port only", raw)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil {
		return fmt.Errorf("URL %q: %w", raw, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("URL %q: port %q is not in 1-65535", raw, port)
	}
	if host == "" {
		return fmt.Errorf("URL %q: host is empty", raw)
	}
	if listen && net.ParseIP(host) == nil {
		return fmt.Errorf("URL %q: etcd can only listen on an IP address, not %q", raw, host)
	}
	return nil
}

func validateCompaction(mode, retention string) error {
	switch mode {
	case "periodic":
		// etcd reads a bare integer as hours, anything else as a Go duration.
		if _, err := strconv.ParseUint(retention, 10, 64); err == nil {
			return nil // 0 is etcd's way of turning compaction off, which the charm offers
		}
		d, err := time.ParseDuration(retention)
		if err != nil || d <= 0 {
			return fmt.Errorf("auto-compaction-retention %q must be a positive duration (e.g. 1h, 30m) or whole hours", retention)
		}
	case "revision":
		n, err := strconv.ParseUint(retention, 10, 64)
		if err != nil || n == 0 {
			return fmt.Errorf("auto-compaction-retention %q must be a positive number of revisions in revision mode", retention)
		}
	default:
		return fmt.Errorf("auto-compaction-mode %q must be periodic or revision", mode)
	}
	return nil
}
