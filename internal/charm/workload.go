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
	return etcd.Config{
		Name:                    c.memberName(),
		DataDir:                 c.paths.DataDir,
		ListenClientURLs:        []string{"https://" + net.JoinHostPort(listen, port)},
		AdvertiseClientURLs:     []string{c.clientURL()},
		ListenPeerURLs:          []string{"https://" + net.JoinHostPort(listen, peerPort)},
		AdvertisePeerURLs:       []string{c.peerURL()},
		InsecureLocalHTTP:       c.cfg.BindWithInsecureHTTP,
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
	}
}

// writeWorkloadFiles renders etcd's config and unit file; it reports whether the config changed, which for
// a running member means a restart is due.
func (c *unitContext) writeWorkloadFiles(b bootstrapState) (bool, error) {
	// etcd reads the client trust bundle only when it starts, so a changed bundle counts as a changed config.
	trustChanged, err := etcd.WriteFile(c.paths.ClientTrust, c.clientTrustBundle(), etcd.ModeCert)
	if err != nil {
		return false, err
	}
	cfg := c.etcdConfig(b)
	if err := cfg.Validate(); err != nil {
		return false, fmt.Errorf("etcd configuration: %w", err)
	}
	rendered, err := cfg.Render()
	if err != nil {
		return false, fmt.Errorf("rendering etcd configuration: %w", err)
	}
	changed, err := etcd.WriteFile(c.paths.ConfigFile, rendered, etcd.ModeConfig)
	if err != nil {
		return false, err
	}
	unit, err := c.serviceUnit()
	if err != nil {
		return false, fmt.Errorf("rendering the etcd service unit: %w", err)
	}
	unitChanged, err := etcd.WriteFile(c.paths.UnitFile, unit, etcd.ModeUnit)
	if err != nil {
		return false, err
	}
	if unitChanged {
		if err := systemctl("daemon-reload"); err != nil {
			return false, err
		}
	}
	return changed || unitChanged || trustChanged, nil
}

func (c *unitContext) serviceUnit() ([]byte, error) {
	return etcd.ServiceUnit{Binary: c.paths.Binary, ConfigFile: c.paths.ConfigFile,
		ElectionTimeout: time.Duration(c.cfg.ElectionTimeout) * time.Millisecond}.Render()
}

// installBinary puts the charm's own binary on the machine as etcd (and etcdctl through a wrapper that
// carries the admin credentials), unless the same build is already there. The service runs this copy, so
// an upgrade-charm never swaps the binary under a running member.
func (c *unitContext) installBinary(force bool) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding the charm binary: %w", err)
	}
	if !force {
		if _, err := os.Stat(c.paths.Binary); err == nil {
			return c.installEtcdctl()
		}
	}
	if err := copyFile(self, c.paths.Binary, etcd.ModeExecutable); err != nil {
		return fmt.Errorf("installing etcd: %w", err)
	}
	return c.installEtcdctl()
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

func systemctl(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "systemctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func serviceActive() bool {
	return exec.Command("systemctl", "is-active", "--quiet", serviceName).Run() == nil
}

// dataDirEmpty reports whether etcd has never written to the data dir.
func (c *unitContext) dataDirEmpty() bool {
	entries, err := os.ReadDir(filepath.Join(c.paths.DataDir, "member"))
	return err != nil || len(entries) == 0
}
