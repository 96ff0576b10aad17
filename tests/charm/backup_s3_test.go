package charm_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/bench"
	"github.com/etcd-charm/etcd/internal/versitygw"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// Backups in S3: a real S3 server (versitygw over a directory, HTTPS with a CA of the test's own) and a
// stand-in s3-integrator (tests/charms/s3-integrator) answering the s3 interface key for key as the 1.x or
// 2.x charm does.
var (
	s3IntegratorOnce sync.Once
	s3IntegratorErr  error
	s3IntegratorPath string
)

func buildS3Integrator(t *testing.T) string {
	t.Helper()
	build(t)
	s3IntegratorOnce.Do(func() {
		dir, err := os.MkdirTemp("", "s3-integrator-")
		if err != nil {
			s3IntegratorErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		s3IntegratorPath, s3IntegratorErr = bench.BuildS3Integrator(ctx, repoRoot(), dir)
	})
	if s3IntegratorErr != nil {
		t.Fatalf("building the s3-integrator stand-in: %v", s3IntegratorErr)
	}
	return s3IntegratorPath
}

// deployS3Integrator deploys the stand-in pointed at srv, as an operator configures s3-integrator.
func deployS3Integrator(t *testing.T, m *client.Model, srv *versitygw.Server, config map[string]string) {
	t.Helper()
	cfg := map[string]string{"endpoint": srv.Endpoint, "s3-uri-style": "path", "region": "us-east-1",
		"tls-ca-chain": base64.StdEncoding.EncodeToString([]byte(srv.CAPEM))}
	for k, v := range config {
		cfg[k] = v
	}
	if _, err := m.Deploy(context.Background(), buildS3Integrator(t), client.DeployOptions{App: "s3-integrator", NumUnits: 1, Config: cfg}); err != nil {
		t.Fatal(err)
	}
}

func syncS3Credentials(t *testing.T, m *client.Model, access, secret string) {
	t.Helper()
	runOK(t, m, "s3-integrator/0", "sync-s3-credentials", map[string]any{"access-key": access, "secret-key": secret})
}

// waitLeaderStatus waits until the etcd leader's status line contains want (and, when want is "", until it
// is active with no word about S3).
func waitLeaderStatus(t *testing.T, m *client.Model, leader, want string) string {
	t.Helper()
	var st string
	what := "the leader's status to say " + strconv.Quote(want)
	if want == "" {
		what = "the leader to be active with nothing to say about S3"
	}
	waitFor(t, 3*time.Minute, what, func() bool {
		st = unitStatuses(t, m)[leader]
		if want == "" {
			return strings.HasPrefix(st, "active: ") && !strings.Contains(st, "s3") && !strings.Contains(st, "backups")
		}
		return strings.Contains(st, want)
	})
	return st
}

func TestGivenA3UnitClusterAndA1xS3IntegratorWhenABackupIsRestoredFromS3ThenEveryMemberHoldsExactlyTheBackup(t *testing.T) {
	srv := versitygw.Start(t, versitygw.Options{TLS: true})
	m := deploy3(t)
	leader := jujuLeader(t, m)
	follower := othersOf(t, m, "etcd", leader)[0]
	runFails(t, m, leader, "create-backup", nil, "relate an s3-integrator first")

	deployS3Integrator(t, m, srv, map[string]string{"flavour": "1", "bucket": "etcd-backups", "path": "/prod/etcd/"})
	integrate(t, m, "etcd:s3-credentials", "s3-integrator:s3-credentials")
	// 1.x answers once our bucket request is in; without credentials synced yet, the leader says what it waits for.
	st := waitLeaderStatus(t, m, leader, "waiting for the s3-integrator's access-key, secret-key")
	if !strings.HasPrefix(st, "active: ") {
		t.Errorf("waiting for credentials should not take the cluster out of active: %s", st)
	}
	syncS3Credentials(t, m, srv.AccessKey, srv.SecretKey)
	waitLeaderStatus(t, m, leader, "")
	if _, err := os.Stat(filepath.Join(srv.Dir, "etcd-backups")); err != nil {
		t.Fatalf("the leader did not create the missing bucket: %v", err)
	}

	cli := appClient(t, m, "etcd")
	putMany(t, cli, "data", 2000)
	res := runOK(t, m, leader, "create-backup", nil)
	id := result(res, "backup-id")
	if result(res, "location") != srv.Endpoint+"/etcd-backups/prod/etcd" || result(res, "object") != "prod/etcd/"+id+".tar.gz" {
		t.Fatalf("create-backup: %v", res.Results)
	}
	runFails(t, m, follower, "create-backup", nil, "Juju leader only")
	putMany(t, cli, "after", 50)

	// Any unit lists; charmed-etcd's first two columns come first.
	list := runOK(t, m, follower, "list-backups", nil)
	table := result(list, "backups")
	if result(list, "count") != "1" || !strings.HasPrefix(table, "backup-id") || !strings.Contains(table, id) ||
		!strings.Contains(table, "| finished") || !strings.Contains(table, "manual") {
		t.Fatalf("list-backups: %v", list.Results)
	}
	runFails(t, m, leader, "restore", map[string]any{"backup-id": "2020-01-01T00:00:00Z"}, "no backup 2020-01-01T00:00:00Z")
	runFails(t, m, leader, "restore", map[string]any{"backup-id": "../../x"}, "not of the form")
	runFails(t, m, leader, "restore", map[string]any{"backup-id": id, "path": "/home/ubuntu/x.tar.gz"}, "not both")

	start := time.Now()
	runOK(t, m, leader, "restore", map[string]any{"backup-id": id})
	waitActive(t, m, 5*time.Minute)
	t.Logf("restore from S3 (%s) until every unit was active: %.1f s", id, time.Since(start).Seconds())
	wantUnitKeys(t, m, "data/", 2000, "of the backup's keys")
	wantUnitKeys(t, m, "after/", 0, "written after the backup")
}

func TestGivenOneUnitAndA2xS3IntegratorWhenBackupsAreScheduledAndFaultsStrikeThenRetentionPrunesAndEachFaultBlocksNamingTheFix(t *testing.T) {
	srv := versitygw.Start(t, versitygw.Options{TLS: true, IAM: true})
	m := newModel(t)
	if _, err := m.Deploy(context.Background(), artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 1}); err != nil {
		t.Fatal(err)
	}
	deployS3Integrator(t, m, srv, map[string]string{"flavour": "2", "bucket": "etcd"})
	syncS3Credentials(t, m, srv.AccessKey, srv.SecretKey)
	rel := integrate(t, m, "etcd:s3-credentials", "s3-integrator:s3-credentials")
	waitAppsActive(t, m, 3*time.Minute, "etcd", "s3-integrator")
	const leader = "etcd/0"
	waitLeaderStatus(t, m, leader, "")

	// 2.x sent the credentials in a secret, because we asked for one.
	bag, err := m.AppBag(context.Background(), rel, "s3-integrator")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(bag["secret-extra"], "secret:") || bag["access-key"] != "" {
		t.Fatalf("the provider should answer a v1 requirer with secret-extra only: %v", bag)
	}
	cli := appClient(t, m, "etcd")
	putMany(t, cli, "data", 500)
	manual := result(runOK(t, m, leader, "create-backup", nil), "backup-id")
	pid := etcdPID(t, m, leader)
	before := fingerprint(t, cli)

	t.Run("each fault blocks the leader naming the fix, and the fix recovers", func(t *testing.T) {
		faults := []struct {
			name   string
			apply  func()
			status string
		}{
			{"a wrong secret key", func() { syncS3Credentials(t, m, srv.AccessKey, "wrong") }, "refused the credentials"},
			{"a user without rights on the bucket", func() {
				srv.CreateUser(t, "tenant", "tenant-secret")
				syncS3Credentials(t, m, "tenant", "tenant-secret")
			}, "refused the credentials"},
			{"an endpoint nobody listens on", func() { setConfig(t, m, "s3-integrator", map[string]string{"endpoint": "https://127.0.0.1:1"}) }, "cannot reach"},
			{"an endpoint that is not http(s)", func() { setConfig(t, m, "s3-integrator", map[string]string{"endpoint": "ftp://127.0.0.1"}) }, "not http or https"},
			{"no CA for the endpoint's certificate", func() { setConfig(t, m, "s3-integrator", map[string]string{"tls-ca-chain": ""}) }, "tls-ca-chain"},
			{"a bucket name S3 refuses", func() { setConfig(t, m, "s3-integrator", map[string]string{"bucket": "Not_A_Bucket"}) }, "not a valid S3 bucket name"},
		}
		good := map[string]string{"endpoint": srv.Endpoint, "bucket": "etcd",
			"tls-ca-chain": base64.StdEncoding.EncodeToString([]byte(srv.CAPEM))}
		for _, f := range faults {
			f.apply()
			st := waitLeaderStatus(t, m, leader, f.status)
			if !strings.HasPrefix(st, "blocked: s3-credentials: ") {
				t.Errorf("%s: status %q, want blocked naming s3-credentials", f.name, st)
			}
			runFails(t, m, leader, "create-backup", nil, f.status)
			t.Logf("%s: %s", f.name, st)
			setConfig(t, m, "s3-integrator", good)
			syncS3Credentials(t, m, srv.AccessKey, srv.SecretKey)
			waitLeaderStatus(t, m, leader, "")
		}
		if got := etcdPID(t, m, leader); got != pid {
			t.Errorf("etcd restarted (pid %d to %d) for a storage fault", pid, got)
		}
		if after := fingerprint(t, cli); after != before {
			t.Errorf("a storage fault changed the cluster: %s, then %s", before, after)
		}
	})

	t.Run("a corrupted backup is refused before anything stops", func(t *testing.T) {
		obj := filepath.Join(srv.Dir, "etcd", manual+".tar.gz")
		raw, err := os.ReadFile(obj)
		if err != nil {
			t.Fatal(err)
		}
		saved := append([]byte(nil), raw...)
		raw[len(raw)/2] ^= 0xff
		if err := os.WriteFile(obj, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		runFails(t, m, leader, "restore", map[string]any{"backup-id": manual}, "is corrupt")
		if err := os.WriteFile(obj, saved, 0o644); err != nil {
			t.Fatal(err)
		}
		if got := etcdPID(t, m, leader); got != pid {
			t.Errorf("etcd restarted (pid %d to %d) for a corrupt backup", pid, got)
		}
		if after := fingerprint(t, cli); after != before {
			t.Errorf("a refused restore changed the cluster: %s, then %s", before, after)
		}
	})

	t.Run("scheduled backups go to the bucket and retention keeps the newest two, never the manual one", func(t *testing.T) {
		setConfig(t, m, "etcd", map[string]string{"snapshot_interval": "1m", "backup_retention": "2"})
		seen := map[string]bool{}
		waitFor(t, 6*time.Minute, "three scheduled backups", func() bool {
			res, err := m.Run(context.Background(), leader, "snapshot-status", nil)
			if err == nil {
				if id := result(res, "s3.last-good.backup-id"); id != "" {
					seen[id] = true
				}
			}
			return len(seen) >= 3
		})
		list := runOK(t, m, leader, "list-backups", nil)
		table := result(list, "backups")
		if n := strings.Count(table, "scheduled"); n != 2 {
			t.Errorf("want the 2 newest scheduled backups kept, the table has %d:\n%s", n, table)
		}
		if !strings.Contains(table, manual) {
			t.Errorf("retention deleted the manual backup %s:\n%s", manual, table)
		}
		t.Logf("scheduled backups seen: %v\n%s", seen, table)
	})
}

func setConfig(t *testing.T, m *client.Model, app string, cfg map[string]string) {
	t.Helper()
	if err := m.SetConfig(context.Background(), app, cfg); err != nil {
		t.Fatal(err)
	}
}
