package bench

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/etcd-charm/etcd/internal/versitygw"
	"github.com/etcd-charm/etcd/localmodel/charmpack"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// S3Backup is what a backup to object storage and a restore from it cost on a 3-unit cluster, against a real
// S3 server (versitygw over HTTPS on this machine).
type S3Backup struct {
	DBBytes int64
	// Backup is the create-backup action: snapshot, verify, pack, upload, manifest.
	Backup      time.Duration
	ObjectBytes int64
	// Restore is from the restore action (backup-id) until every unit is active again.
	Restore time.Duration
}

// BuildS3Integrator packs the s3-integrator stand-in of the tests into outDir.
func BuildS3Integrator(ctx context.Context, moduleDir, outDir string) (string, error) {
	binary := filepath.Join(outDir, "s3-integrator-dispatch")
	charm := filepath.Join(outDir, "s3-integrator_amd64.charm")
	if err := charmpack.Build(ctx, moduleDir, "./tests/charms/s3-integrator", binary); err != nil {
		return "", err
	}
	return charm, charmpack.Pack(filepath.Join(moduleDir, "tests/charms/s3-integrator/charmcraft.yaml"), binary, charm)
}

// MeasureS3Backup deploys 3 units, fills mib MiB, relates the s3-integrator stand-in pointed at a versitygw it
// starts in work, and times create-backup and restore backup-id.
func MeasureS3Backup(ctx context.Context, m *client.Model, a Artefacts, s3Charm, work string, mib int, logf func(string, ...any)) (S3Backup, error) {
	var r S3Backup
	srv, err := versitygw.Run(work, versitygw.Options{TLS: true})
	if err != nil {
		return r, err
	}
	defer srv.Stop()
	if _, err := DeployActive(ctx, m, a.Charm, 3); err != nil {
		return r, fmt.Errorf("deploy -n 3: %w", err)
	}
	_, t, err := settledCluster(ctx, m)
	if err != nil {
		return r, err
	}
	if err := Fill(ctx, t, mib); err != nil {
		return r, fmt.Errorf("filling %d MiB: %w", mib, err)
	}
	cfg := map[string]string{"endpoint": srv.Endpoint, "bucket": "etcd-bench", "s3-uri-style": "path",
		"tls-ca-chain": base64.StdEncoding.EncodeToString([]byte(srv.CAPEM))}
	if _, err := m.Deploy(ctx, s3Charm, client.DeployOptions{App: "s3-integrator", NumUnits: 1, Config: cfg}); err != nil {
		return r, err
	}
	if res, err := m.Run(ctx, "s3-integrator/0", "sync-s3-credentials", map[string]any{"access-key": srv.AccessKey, "secret-key": srv.SecretKey}); err != nil || res.Status != "completed" {
		return r, fmt.Errorf("sync-s3-credentials: %v %s", err, res.Message)
	}
	if _, err := m.Integrate(ctx, App+":s3-credentials", "s3-integrator:s3-credentials"); err != nil {
		return r, err
	}
	if err := m.WaitForIdle(ctx, client.WaitOptions{Status: "active", Timeout: 5 * time.Minute, IdlePeriod: 2 * time.Second}); err != nil {
		return r, fmt.Errorf("settling after relating the s3-integrator: %w", err)
	}
	creds, eps, err := CharmTarget(ctx, m)
	if err != nil {
		return r, err
	}
	if cli, err := creds.Dial(ctx, eps); err == nil {
		if st, err := cli.EndpointStatus(ctx, eps[0]); err == nil {
			r.DBBytes = st.DBSize
		}
		cli.Close()
	}
	start := time.Now()
	res, err := m.Run(ctx, App+"/leader", "create-backup", nil)
	if err != nil || res.Status != "completed" {
		return r, fmt.Errorf("create-backup: %v %s %s", err, res.Status, res.Message)
	}
	r.Backup = time.Since(start)
	id := fmt.Sprint(res.Results["backup-id"])
	r.ObjectBytes, _ = strconv.ParseInt(fmt.Sprint(res.Results["size-bytes"]), 10, 64)
	logf("create-backup of a %d MiB database: %s (object %d MiB)", r.DBBytes>>20, r.Backup.Round(time.Millisecond), r.ObjectBytes>>20)
	start = time.Now()
	res, err = m.Run(ctx, App+"/leader", "restore", map[string]any{"backup-id": id})
	if err != nil || res.Status != "completed" {
		return r, fmt.Errorf("restore backup-id=%s: %v %s %s", id, err, res.Status, res.Message)
	}
	if _, err := WaitUnitsActive(ctx, m, 3, start); err != nil {
		return r, fmt.Errorf("after restore: %w", err)
	}
	r.Restore = time.Since(start)
	logf("restore backup-id=%s until every unit is active: %s", id, r.Restore.Round(time.Millisecond))
	return r, nil
}

func (r S3Backup) markdownRows() string {
	if r.Backup <= 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| `create-backup` to S3 (versitygw, HTTPS), %.0f MiB database, %.0f MiB object | %s | |\n",
		float64(r.DBBytes)/(1<<20), float64(r.ObjectBytes)/(1<<20), fmtDur(r.Backup))
	if r.Restore > 0 {
		fmt.Fprintf(&b, "| `restore backup-id=...` from S3 on 3 units, until every unit is active | %s | < 15 s: %s |\n",
			fmtDur(r.Restore), verdict(r.Restore < 15*time.Second))
	}
	return b.String()
}
