package etcd

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// configHeader warns operators that hand edits do not survive.
const configHeader = "# Written by the etcd charm; local changes are overwritten.\n"

// configFile mirrors the keys etcd 3.7's embed.Config reads from
// --config-file. Field order is the output order, which keeps rendering
// byte-for-byte stable.
type configFile struct {
	Name                     string          `yaml:"name"`
	DataDir                  string          `yaml:"data-dir"`
	ListenPeerURLs           string          `yaml:"listen-peer-urls"`
	ListenClientURLs         string          `yaml:"listen-client-urls"`
	InitialAdvertisePeerURLs string          `yaml:"initial-advertise-peer-urls"`
	AdvertiseClientURLs      string          `yaml:"advertise-client-urls"`
	ListenMetricsURLs        string          `yaml:"listen-metrics-urls,omitempty"`
	InitialCluster           string          `yaml:"initial-cluster"`
	InitialClusterState      string          `yaml:"initial-cluster-state"`
	InitialClusterToken      string          `yaml:"initial-cluster-token"`
	StrictReconfigCheck      bool            `yaml:"strict-reconfig-check"`
	MaxLearners              int             `yaml:"max-learners"`
	HeartbeatInterval        int64           `yaml:"heartbeat-interval"`
	ElectionTimeout          int64           `yaml:"election-timeout"`
	SnapshotCount            uint64          `yaml:"snapshot-count"`
	QuotaBackendBytes        int64           `yaml:"quota-backend-bytes,omitempty"`
	AutoCompactionMode       string          `yaml:"auto-compaction-mode"`
	AutoCompactionRetention  string          `yaml:"auto-compaction-retention"`
	FeatureGates             string          `yaml:"feature-gates,omitempty"`
	TLSMinVersion            string          `yaml:"tls-min-version"`
	CipherSuites             []string        `yaml:"cipher-suites,omitempty"`
	ClientTransportSecurity  securitySection `yaml:"client-transport-security"`
	PeerTransportSecurity    securitySection `yaml:"peer-transport-security"`
	Logger                   string          `yaml:"logger"`
	LogLevel                 string          `yaml:"log-level"`
	LogOutputs               []string        `yaml:"log-outputs"`
}

type securitySection struct {
	CertFile       string   `yaml:"cert-file"`
	KeyFile        string   `yaml:"key-file"`
	ClientCertAuth bool     `yaml:"client-cert-auth"`
	TrustedCAFile  string   `yaml:"trusted-ca-file"`
	ClientCertFile string   `yaml:"client-cert-file,omitempty"`
	ClientKeyFile  string   `yaml:"client-key-file,omitempty"`
	AllowedCNs     []string `yaml:"allowed-cn,omitempty"`
}

// Render validates c and returns etcd's --config-file content.
//
// Fixed choices: client-cert-auth on both listeners (etcd maps the client
// certificate CN to the user, and peers must prove membership);
// strict-reconfig-check and max-learners 1 so membership changes stay one
// at a time; TLS 1.2 minimum; zap logging.
func (c Config) Render() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("invalid etcd configuration: %w", err)
	}
	listenClient := slices.Clone(c.ListenClientURLs)
	if c.InsecureLocalHTTP && !slices.Contains(listenClient, InsecureLocalClientURL) {
		listenClient = append(listenClient, InsecureLocalClientURL)
	}
	mode, retention := c.compaction()
	logLevel := c.LogLevel
	if logLevel == "" {
		logLevel = "info"
	}
	logOutputs := c.LogOutputs
	if len(logOutputs) == 0 {
		logOutputs = []string{"stderr"}
	}
	f := configFile{
		Name:                     c.Name,
		DataDir:                  c.DataDir,
		ListenPeerURLs:           strings.Join(c.ListenPeerURLs, ","),
		ListenClientURLs:         strings.Join(listenClient, ","),
		InitialAdvertisePeerURLs: strings.Join(c.AdvertisePeerURLs, ","),
		AdvertiseClientURLs:      strings.Join(c.AdvertiseClientURLs, ","),
		ListenMetricsURLs:        strings.Join(c.ListenMetricsURLs, ","),
		InitialCluster:           InitialClusterString(c.InitialCluster),
		InitialClusterState:      string(c.InitialClusterState),
		InitialClusterToken:      c.InitialClusterToken,
		StrictReconfigCheck:      true,
		MaxLearners:              1,
		HeartbeatInterval:        c.heartbeat().Milliseconds(),
		ElectionTimeout:          c.election().Milliseconds(),
		SnapshotCount:            c.snapshotCount(),
		QuotaBackendBytes:        c.QuotaBackendBytes,
		AutoCompactionMode:       mode,
		AutoCompactionRetention:  retention,
		FeatureGates:             featureGatesString(c.FeatureGates),
		TLSMinVersion:            "TLS1.2",
		CipherSuites:             c.CipherSuites,
		ClientTransportSecurity:  security(c.ClientTLS),
		PeerTransportSecurity:    security(c.PeerTLS),
		Logger:                   "zap",
		LogLevel:                 logLevel,
		LogOutputs:               logOutputs,
	}
	var buf bytes.Buffer
	buf.WriteString(configHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encoding etcd configuration: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding etcd configuration: %w", err)
	}
	return buf.Bytes(), nil
}

func security(f TLSFiles) securitySection {
	return securitySection{CertFile: f.CertFile, KeyFile: f.KeyFile, ClientCertAuth: true, TrustedCAFile: f.TrustedCAFile,
		ClientCertFile: f.ClientCertFile, ClientKeyFile: f.ClientKeyFile, AllowedCNs: f.AllowedCNs}
}

// InitialClusterString renders members as etcd's name=peerURL list, sorted
// by name so the same membership always renders the same way. etcd's
// format allows a name to repeat with several URLs; the charm uses one.
func InitialClusterString(members []Member) string {
	sorted := slices.Clone(members)
	slices.SortFunc(sorted, func(a, b Member) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.PeerURL, b.PeerURL)
	})
	parts := make([]string, len(sorted))
	for i, m := range sorted {
		parts[i] = m.Name + "=" + m.PeerURL
	}
	return strings.Join(parts, ",")
}

func featureGatesString(gates map[string]bool) string {
	names := make([]string, 0, len(gates))
	for name := range gates {
		names = append(names, name)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s=%t", name, gates[name])
	}
	return strings.Join(parts, ",")
}
