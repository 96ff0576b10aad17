package charm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/etcd"
	"github.com/etcd-charm/etcd/internal/pki"
)

func (c *unitContext) runAction(name string) error {
	var err error
	switch name {
	case "health":
		err = c.healthAction()
	case "package-client-credentials", "generate-client-certificates":
		err = c.credentialsAction()
	case "snapshot":
		err = c.snapshotAction()
	case "create-backup":
		err = c.createBackupAction()
	case "list-backups":
		err = c.listBackupsAction()
	case "snapshot-status":
		err = c.snapshotStatusAction()
	case "restore":
		err = c.restoreAction()
	case "compact":
		err = c.compactAction()
	case "defrag":
		err = c.defragAction()
	case "alarm-list":
		err = c.alarmListAction()
	case "alarm-disarm":
		err = c.alarmDisarmAction()
	case "rebuild-cluster":
		err = c.rebuildAction()
	case "downgrade":
		err = c.downgradeAction()
	case "add-gateway-user":
		err = c.addGatewayUserAction()
	case "remove-gateway-user":
		err = c.removeGatewayUserAction()
	default:
		err = fmt.Errorf("unknown action %q", name)
	}
	switch name {
	case "restore", "rebuild-cluster":
		// The cluster is being replaced: the hooks that follow set status from what then runs.
	default:
		c.showAlarms()
	}
	if err != nil {
		return goops.FailActionf("%v", err)
	}
	return nil
}

// showAlarms keeps the alarm part of this unit's status current after an action. etcd raises NOSPACE on a
// client's write, which runs no hook, so without this the status would say nothing until the next hook
// (update-status: every 5 minutes by default). Only the alarm verdict is set here; the rest of the status
// message is the hooks' to write.
func (c *unitContext) showAlarms() {
	if c.peers == nil || c.peers.Self[keyMemberState] != stateVoter {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	cli, members, err := c.clusterView(ctx)
	if cli == nil {
		return
	}
	defer cli.Close()
	if err != nil {
		return
	}
	report := cli.HealthOf(ctx, members, memberEndpoints(members))
	if report.AlarmsErr != nil {
		return
	}
	cur, err := goops.GetUnitStatus()
	if err != nil {
		return
	}
	shown := strings.HasPrefix(cur.Message, plan.AlarmPrefix)
	if len(report.Alarms) == 0 && !shown {
		return
	}
	st, msg := plan.UnitStatus(c.peerURL(), report)
	if err := goops.SetUnitStatus(goops.StatusName(st), msg); err != nil {
		goops.LogWarningf("setting status after the action: %v", err)
	}
	if c.leader {
		ast, amsg := plan.AppStatus(report)
		_ = goops.SetAppStatus(goops.StatusName(ast), amsg)
	}
}

// healthAction reports each member and the cluster verdict in etcdctl's words, which scripts written for the
// classic charm look for ("cluster is healthy").
func (c *unitContext) healthAction() error {
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	if c.peers == nil {
		return fmt.Errorf("no peer relation yet")
	}
	cli, err := c.dialVoters(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	members, err := cli.Members(ctx)
	if err != nil {
		return fmt.Errorf("cluster is unavailable: %w", err)
	}
	report := cli.HealthOf(ctx, members, memberEndpoints(members))
	out, results := plan.HealthOutput(report)
	results["output"] = out
	return goops.SetActionResults(results)
}

// credentialsAction issues a fresh admin certificate and packs it the way the classic charm did, so existing
// instructions (`juju scp etcd/0:etcd_credentials.tar.gz .`) keep working.
func (c *unitContext) credentialsAction() error {
	if c.peers == nil || c.peers.App[keyCASecret] == "" {
		return fmt.Errorf("the cluster CA does not exist yet; wait for the units to become active")
	}
	ca, err := c.ensureCA()
	if err != nil {
		return err
	}
	kp, err := pki.IssueClient(ca, rootUser, pki.ClientLifetime)
	if err != nil {
		return fmt.Errorf("issuing a client certificate: %w", err)
	}
	endpoints, err := c.voterEndpoints(true)
	if err != nil {
		return err
	}
	if len(endpoints) == 0 {
		endpoints = []string{c.clientURL()}
	}
	archive, err := credentialsTarball(kp, []byte(c.serverCABundle()), endpoints)
	if err != nil {
		return err
	}
	path := filepath.Join(c.paths.credentialsDir, "etcd_credentials.tar.gz")
	if _, err := etcd.WriteFile(path, archive, 0o600); err != nil {
		return err
	}
	if err := c.handOver(path); err != nil {
		return err
	}
	return goops.SetActionResults(map[string]string{
		"path":         path,
		"copy-command": fmt.Sprintf("juju scp %s:%s .", c.unit, path),
		"endpoints":    strings.Join(endpoints, ","),
	})
}

func credentialsTarball(kp pki.KeyPair, caPEM []byte, endpoints []string) ([]byte, error) {
	readme := fmt.Sprintf(`etcd client credentials (admin: CN root)

Unpack next to where you run etcdctl, then:

  export ETCDCTL_CACERT=$(pwd)/etcd_credentials/ca.crt
  export ETCDCTL_CERT=$(pwd)/etcd_credentials/client.crt
  export ETCDCTL_KEY=$(pwd)/etcd_credentials/client.key
  export ETCDCTL_ENDPOINTS=%s
  etcdctl member list

The certificate authenticates as etcd's root user: keep client.key secret. It expires after %d days;
run the package-client-credentials action again for a fresh one.
`, strings.Join(endpoints, ","), int(pki.ClientLifetime.Hours()/24))
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	now := time.Now()
	if err := tw.WriteHeader(&tar.Header{Name: "etcd_credentials/", Typeflag: tar.TypeDir, Mode: 0o755, ModTime: now}); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
		mode int64
	}{
		{"client.crt", kp.CertPEM, 0o644}, {"client.key", kp.KeyPEM, 0o600},
		{"ca.crt", caPEM, 0o644}, {"README.txt", []byte(readme), 0o644},
	} {
		hdr := &tar.Header{Name: "etcd_credentials/" + f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: now}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("packing %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, fmt.Errorf("packing %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
