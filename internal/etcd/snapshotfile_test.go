package etcd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// takeTestSnapshot starts a real member, writes n keys and streams a snapshot through the snapshot API.
func takeTestSnapshot(t *testing.T, n int) (string, int64) {
	t.Helper()
	p, _, e, stop := startRendered(t)
	cli := newClient(t, e.Clients[0].Addr().String(), clientTLS(t, p.CACert, p.RootClientCert, p.RootClientKey))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rev int64
	for i := 0; i < n; i++ {
		resp, err := cli.Put(ctx, fmt.Sprintf("k/%03d", i), "v")
		if err != nil {
			t.Fatal(err)
		}
		rev = resp.Header.Revision
	}
	path := filepath.Join(t.TempDir(), "snap.db")
	saveSnapshot(ctx, t, cli, path)
	stop()
	return path, rev
}

// saveSnapshot streams a snapshot through the snapshot API into path, as etcdctl snapshot save does.
func saveSnapshot(ctx context.Context, t *testing.T, cli *clientv3.Client, path string) {
	t.Helper()
	rc, err := cli.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, rc); err != nil {
		t.Fatal(err)
	}
}

func TestGivenASnapshotWhenPackedUnpackedAndRestoredThenItVerifiesAndRevisionsAreBumped(t *testing.T) {
	path, rev := takeTestSnapshot(t, 20)
	st, err := SnapshotFileStatus(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Revision != rev || st.TotalKeys != 20 || st.Hash == 0 {
		t.Fatalf("status %+v, want revision %d and 20 keys", st, rev)
	}

	archive := filepath.Join(t.TempDir(), SnapshotArchiveName(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	if filepath.Base(archive) != "etcd-snapshot-2026-01-02-03.04.05.tar.gz" {
		t.Fatalf("archive name %s", filepath.Base(archive))
	}
	if err := PackSnapshot(path, archive); err != nil {
		t.Fatal(err)
	}
	db, err := UnpackSnapshot(archive, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	again, err := SnapshotFileStatus(db)
	if err != nil || again != st {
		t.Fatalf("unpacked status %+v %v, want %+v", again, err, st)
	}
	if bare, err := UnpackSnapshot(path, t.TempDir()); err != nil || bare != path {
		t.Fatalf("a bare snapshot is used in place: %q %v", bare, err)
	}

	dataDir := filepath.Join(t.TempDir(), "data")
	if err := RestoreSnapshot(RestoreOptions{SnapshotPath: db, DataDir: dataDir, Name: "etcd-0",
		PeerURL: "https://127.0.0.1:2380", Token: "new-token", RevisionBump: 1000}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := DataDirIdentity(dataDir); err != nil {
		t.Fatalf("the restored data dir has no identity: %v", err)
	}
	restored, err := SnapshotFileStatus(filepath.Join(dataDir, "member", "snap", "db"))
	if err != nil {
		t.Fatal(err)
	}
	if restored.Revision != rev+1000 {
		t.Fatalf("restored revision %d, want %d", restored.Revision, rev+1000)
	}
}

func TestGivenADamagedSnapshotWhenCheckedThenItIsRefusedAsBad(t *testing.T) {
	path, _ := takeTestSnapshot(t, 5)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	flipped := append([]byte(nil), data...)
	flipped[len(flipped)/2] ^= 0xff
	cases := map[string][]byte{
		"a flipped byte": flipped,
		"truncated":      data[:len(data)-100],
		"too short":      data[:100],
		"not a database": make([]byte, 4096),
	}
	for name, content := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := SnapshotFileStatus(p); !errors.Is(err, ErrBadSnapshot) {
			t.Errorf("%s: SnapshotFileStatus = %v, want ErrBadSnapshot", name, err)
		}
	}
	gz := filepath.Join(dir, "empty.tar.gz")
	if err := ArchiveDir(t.TempDir(), gz); err != nil {
		t.Fatal(err)
	}
	if _, err := UnpackSnapshot(gz, t.TempDir()); !errors.Is(err, ErrBadSnapshot) {
		t.Errorf("a tarball without db: %v, want ErrBadSnapshot", err)
	}
}
