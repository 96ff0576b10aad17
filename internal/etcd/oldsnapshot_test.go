package etcd

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Snapshots taken from etcd 3.4, which the classic charm's snap runs, restore into the etcd this charm
// embeds, both as `etcdctl snapshot save` writes them (bare, with etcd's sha256 trailer) and as the classic
// charm's snapshot action packed them (a tarball holding a raw copy of member/snap/db as ./db).
func TestGivenSnapshotsFromEtcd34WhenRestoredThenTheEmbeddedEtcdServesEveryKey(t *testing.T) {
	bin, err := exec.LookPath("etcd")
	if err != nil {
		t.Skip("no etcd 3.4 server here (Debian's etcd-server package; .ci/run installs it)")
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.Contains(string(out), "etcd Version: 3.4.") {
		t.Skipf("%s is not etcd 3.4 (%q, %v); Debian's etcd-server package is", bin, firstLine(string(out)), err)
	}

	// Given an etcd 3.4 member holding 50 keys
	dataDir := filepath.Join(t.TempDir(), "etcd34")
	client, peer := fmt.Sprintf("http://127.0.0.1:%d", freePort(t)), fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	old := exec.Command(bin, "--name", "old", "--data-dir", dataDir, "--listen-client-urls", client,
		"--advertise-client-urls", client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "old="+peer, "--log-level", "error")
	old.Stderr = io.Discard
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	stop := sync.OnceFunc(func() {
		_ = old.Process.Kill()
		_ = old.Wait()
	})
	t.Cleanup(stop)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{client}, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want := map[string]string{}
	for i := range 50 {
		k, v := fmt.Sprintf("/registry/k%02d", i), fmt.Sprintf("value %d from etcd 3.4", i)
		if _, err := putRetrying(ctx, cli, k, v); err != nil {
			t.Fatalf("writing to etcd 3.4: %v", err)
		}
		want[k] = v
	}

	// When it is snapshotted through the API (bare) and by the classic charm's raw copy (tarball)
	bare := filepath.Join(t.TempDir(), "etcd34.db")
	saveSnapshot(ctx, t, cli, bare)
	stop() // the classic charm copied the live file; a stopped member's copy is the consistent one
	classic := filepath.Join(t.TempDir(), "etcd-snapshot-2025-06-01-12.00.00.tar.gz")
	packClassic(t, filepath.Join(dataDir, "member", "snap", "db"), classic)

	// Then each restores, and the etcd this charm embeds serves every key from it
	assertRestores(t, map[string]string{"bare snapshot": bare, "classic charm tarball": classic}, want)
}

// Snapshots etcd 3.5.36 took (testdata/etcd35 wrote them: etcd 3.5 cannot be built beside the 3.7 the charm
// embeds) restore into the etcd this charm embeds, bare and in the classic charm's tarball.
func TestGivenSnapshotsFromEtcd35WhenRestoredThenTheEmbeddedEtcdServesEveryKey(t *testing.T) {
	want := map[string]string{}
	for i := range 50 {
		want[fmt.Sprintf("/registry/k%02d", i)] = fmt.Sprintf("value %d from etcd 3.5", i)
	}
	assertRestores(t, map[string]string{
		"bare snapshot":         filepath.Join("testdata", "etcd-3.5.36.db"),
		"classic charm tarball": filepath.Join("testdata", "etcd-3.5.36-classic.tar.gz"),
	}, want)
}

// assertRestores restores each snapshot as the restore action does (unpack, verify, etcdutl restore with a
// revision bump) and checks that the etcd this charm embeds serves exactly want from it.
func assertRestores(t *testing.T, snapshots map[string]string, want map[string]string) {
	t.Helper()
	for name, path := range snapshots {
		t.Run(name, func(t *testing.T) {
			db, err := UnpackSnapshot(path, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			st, err := SnapshotFileStatus(db)
			if err != nil || st.TotalKeys < len(want) {
				t.Fatalf("status of %s: %+v %v", path, st, err)
			}
			restored := filepath.Join(t.TempDir(), "data")
			peerURL := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
			if err := RestoreSnapshot(RestoreOptions{SnapshotPath: db, DataDir: restored, Name: "etcd-0",
				PeerURL: peerURL, Token: "restored", RevisionBump: 1000}); err != nil {
				t.Fatal(err)
			}
			got := serveAndRead(t, restored, peerURL, "/registry/")
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: %q, want %q", k, got[k], v)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d keys restored, want %d", len(got), len(want))
			}
		})
	}
}

// putRetrying writes while a just-started member may still be electing itself.
func putRetrying(ctx context.Context, cli *clientv3.Client, k, v string) (*clientv3.PutResponse, error) {
	for {
		attempt, cancel := context.WithTimeout(ctx, 2*time.Second)
		resp, err := cli.Put(attempt, k, v)
		cancel()
		if err == nil || ctx.Err() != nil {
			return resp, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// packClassic writes the classic charm's v3 snapshot archive: a gzipped tar with the db file as ./db.
func packClassic(t *testing.T, db, archive string) {
	t.Helper()
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "./", Typeflag: tar.TypeDir, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	if err := tw.WriteHeader(&tar.Header{Name: "./db", Typeflag: tar.TypeReg, Mode: 0o600, Size: int64(len(data))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
}

// serveAndRead starts the embedded etcd on a restored data dir and returns the keys under prefix.
func serveAndRead(t *testing.T, dataDir, peerURL, prefix string) map[string]string {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Name, cfg.Dir = "etcd-0", dataDir
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop()) // Close logs its listeners' shutdown as errors
	peer, _ := url.Parse(peerURL)
	client, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", freePort(t)))
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*peer}, []url.URL{*peer}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{*client}, []url.URL{*client}
	cfg.InitialCluster = "etcd-0=" + peerURL
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("starting etcd on the restored data: %v", err)
	}
	defer e.Close()
	waitReady(t, e)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{client.String()}, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range resp.Kvs {
		got[string(kv.Key)] = string(kv.Value)
	}
	return got
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
