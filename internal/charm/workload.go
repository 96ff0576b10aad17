package charm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/version"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/etcd"
)

// bootstrapState is what a member was first started with. etcd reads initial-* settings only when its data
// dir is empty, so they are kept as they were instead of re-rendered from today's membership: otherwise
// every membership change would rewrite every member's file and restart it for nothing.
type bootstrapState struct {
	InitialCluster []etcd.Member     `json:"initial-cluster"`
	State          etcd.ClusterState `json:"state"`
	Token          string            `json:"token"`
}

const bootstrapStateKey = "bootstrap"

func (c *unitContext) loadBootstrap() (*bootstrapState, error) {
	raw := getState(bootstrapStateKey)
	if raw == "" {
		return nil, nil
	}
	var b bootstrapState
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return nil, fmt.Errorf("decoding stored bootstrap state: %w", err)
	}
	return &b, nil
}

func (c *unitContext) saveBootstrap(b bootstrapState) error {
	raw, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("encoding bootstrap state: %w", err)
	}
	return setState(bootstrapStateKey, string(raw))
}

// etcdConfig is this member's etcd configuration for the current charm config.
func (c *unitContext) etcdConfig(b bootstrapState) etcd.Config {
	listen := c.address
	if c.cfg.BindToAllInterfaces {
		listen = "0.0.0.0"
	}
	port, peerPort := strconv.Itoa(c.cfg.Port), strconv.Itoa(c.cfg.ManagementPort)
	snap, _ := c.cfg.snapshotCount()
	mode, retention := c.cfg.AutoCompactionMode, c.cfg.AutoCompactionRetention
	if mode == "" { // compaction off: etcd's way of saying so is a zero retention
		mode, retention = "periodic", "0"
	}
	peerTLS := etcd.TLSFiles{TrustedCAFile: c.paths.CACert, CertFile: c.paths.MemberCert, KeyFile: c.paths.MemberKey}
	clientTLS := peerTLS
	clientTLS.TrustedCAFile = c.paths.ClientTrust
	clientTLS.CertFile, clientTLS.KeyFile = c.paths.ServerPair, c.paths.ServerPair // certificates.go
	clientTLS = c.gatewayClientTLS(clientTLS)
	peerTLS.AllowedCNs = c.peerAllowedCNs()
	return etcd.Config{
		Name:                    c.memberName(),
		DataDir:                 c.paths.DataDir,
		ListenClientURLs:        []string{"https://" + net.JoinHostPort(listen, port)},
		AdvertiseClientURLs:     []string{c.clientURL()},
		ListenPeerURLs:          []string{"https://" + net.JoinHostPort(listen, peerPort)},
		ListenMetricsURLs:       c.metricsURLs(listen),
		AdvertisePeerURLs:       []string{c.peerURL()},
		InitialCluster:          b.InitialCluster,
		InitialClusterState:     b.State,
		InitialClusterToken:     b.Token,
		HeartbeatInterval:       time.Duration(c.cfg.HeartbeatInterval) * time.Millisecond,
		ElectionTimeout:         time.Duration(c.cfg.ElectionTimeout) * time.Millisecond,
		SnapshotCount:           snap,
		QuotaBackendBytes:       c.cfg.QuotaBackendBytes,
		AutoCompactionMode:      mode,
		AutoCompactionRetention: retention,
		CipherSuites:            c.cfg.cipherSuites(),
		ClientTLS:               clientTLS,
		PeerTLS:                 peerTLS,
		FeatureGates:            dataCheckGates,
	}
}

// dataCheckGates turn on etcd's own corruption checks (etcd 3.7 takes them as feature gates only): at start,
// a member compares its data's hash with its peers' at the same revision and refuses to serve on a mismatch,
// which the charm then sees as a crash loop and answers by replacing the member; while running, the leader
// compares the members' hashes at each compaction and raises CORRUPT naming a member that differs.
var dataCheckGates = map[string]bool{"InitialCorruptCheck": true, "CompactHashCheck": true}

// writeWorkloadFiles renders etcd's config, client trust bundle and unit file, and returns what etcd is to
// run with. Writing them decides nothing: etcd reads them at its next start, and whether that start is due
// is decided by comparing what it started with (its start record) against what is returned here.
func (c *unitContext) writeWorkloadFiles(b bootstrapState) (plan.Started, error) {
	trust := c.clientTrustBundle()
	if _, err := etcd.WriteFile(c.paths.ClientTrust, trust, etcd.ModeCert); err != nil {
		return plan.Started{}, err
	}
	cfg := c.etcdConfig(b)
	if err := cfg.Validate(); err != nil {
		return plan.Started{}, fmt.Errorf("etcd configuration: %w", err)
	}
	rendered, err := cfg.Render()
	if err != nil {
		return plan.Started{}, fmt.Errorf("rendering etcd configuration: %w", err)
	}
	if _, err := etcd.WriteFile(c.paths.ConfigFile, rendered, etcd.ModeConfig); err != nil {
		return plan.Started{}, err
	}
	unit, err := c.serviceUnit()
	if err != nil {
		return plan.Started{}, fmt.Errorf("rendering the etcd service unit: %w", err)
	}
	// systemd reads the unit file only on daemon-reload; nothing in it needs etcd restarted (TimeoutStopSec
	// applies to the next stop). A reload that a killed hook missed is made up by ensureMember, which asks
	// systemd whether its copy is stale.
	unitChanged, err := etcd.WriteFile(c.paths.UnitFile, unit, etcd.ModeUnit)
	if err != nil {
		return plan.Started{}, err
	}
	if unitChanged {
		if err := c.systemctl("daemon-reload"); err != nil {
			return plan.Started{}, err
		}
	}
	return plan.Started{Config: etcd.Digest(rendered), Trust: etcd.Digest(trust), Version: version.Version}, nil
}

// serviceState asks systemd, in one call, whether etcd runs, whether systemd's copy of the unit is older than
// the file, and how often systemd has restarted etcd on its own since it was last started by hand.
func (c *unitContext) serviceState() (active, needsReload bool, restarts int) {
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "systemctl", "show", "-p", "ActiveState", "-p", "NeedDaemonReload",
		"-p", "NRestarts", serviceName).Output()
	if err != nil {
		return false, false, 0
	}
	for _, line := range strings.Split(string(out), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), "=")
		switch k {
		case "ActiveState":
			active = v == "active"
		case "NeedDaemonReload":
			needsReload = v == "yes"
		case "NRestarts":
			restarts, _ = strconv.Atoi(v) //nolint:errcheck // an unreadable count reads as none
		}
	}
	return active, needsReload, restarts
}

func (c *unitContext) serviceUnit() ([]byte, error) {
	return etcd.ServiceUnit{Binary: c.paths.Binary, ConfigFile: c.paths.ConfigFile,
		ElectionTimeout: time.Duration(c.cfg.ElectionTimeout) * time.Millisecond}.Render()
}

// installBinary puts the charm's own binary on the machine as etcd (and etcdctl through a wrapper that
// carries the admin credentials), unless this very build is already there. The service runs this copy, so
// a refresh never swaps the binary under a running member: the member picks the new copy up when it next
// restarts, which a refresh makes due (the start record names what started it).
func (c *unitContext) installBinary(force bool) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the charm binary: %w", err)
	}
	build, err := fileIdentity(self)
	if err != nil {
		return fmt.Errorf("reading the charm binary: %w", err)
	}
	if !force && getState(installedBinaryState) == build {
		if _, err := os.Stat(c.paths.Binary); err == nil {
			return c.installEtcdctl()
		}
	}
	if err := copyFile(self, c.paths.Binary, etcd.ModeExecutable); err != nil {
		return fmt.Errorf("installing etcd: %w", err)
	}
	if err := setState(installedBinaryState, build); err != nil {
		return err
	}
	return c.installEtcdctl()
}

// installedBinaryState names the charm build last copied into place, by fileIdentity: Juju replaces the
// charm's files on a refresh, so a different size or modification time means another build.
const installedBinaryState = "installed-binary"

func fileIdentity(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d-%d", info.Size(), info.ModTime().UnixNano()), nil
}

func (c *unitContext) installEtcdctl() error {
	script, err := etcd.EtcdctlScript(c.paths.Paths, []string{c.clientURL()})
	if err != nil {
		return err
	}
	if _, err := etcd.WriteFile(c.paths.Etcdctl, script, etcd.ModeExecutable); err != nil {
		return err
	}
	_, err = etcd.WriteFile(c.paths.Etcdutl, etcd.EtcdutlScript(c.paths.Paths), etcd.ModeExecutable)
	return err
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// systemctl runs one systemctl command, bounded so that a hung service manager cannot hang the hook.
func (c *unitContext) systemctl(args ...string) error {
	ctx, cancel := context.WithTimeout(c.ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// serviceActive reports whether systemd runs etcd now.
func (c *unitContext) serviceActive() bool {
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "systemctl", "is-active", "--quiet", serviceName).Run() == nil
}

// dataDirEmpty reports whether etcd has never written to the data dir.
func (c *unitContext) dataDirEmpty() bool {
	entries, err := os.ReadDir(filepath.Join(c.paths.DataDir, "member"))
	return err != nil || len(entries) == 0
}

// metricsURLs is etcd's plain-HTTP metrics listener: /metrics and /health only, no keys, no client
// certificate, so that a scraper on the network (grafana-agent, Prometheus) needs none of the cluster's
// credentials. None when metrics_port is 0.
func (c *unitContext) metricsURLs(listen string) []string {
	if c.cfg.MetricsPort == 0 {
		return nil
	}
	return []string{"http://" + net.JoinHostPort(listen, strconv.Itoa(c.cfg.MetricsPort))}
}
