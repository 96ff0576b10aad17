package s3backup_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/s3backup"
	"github.com/etcd-charm/etcd/internal/versitygw"
)

// location is what an s3-integrator pointed at srv would send.
func location(t *testing.T, srv *versitygw.Server, bucket, path string) s3backup.Location {
	t.Helper()
	bag := map[string]string{"access-key": srv.AccessKey, "secret-key": srv.SecretKey, "bucket": bucket,
		"endpoint": srv.Endpoint, "path": path, "s3-uri-style": "path", "region": "us-east-1"}
	if srv.CAPEM != "" {
		chain, _ := json.Marshal([]string{strings.TrimSpace(srv.CAPEM)})
		bag["tls-ca-chain"] = string(chain)
	}
	l, err := s3backup.ParseLocation(bag, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func open(t *testing.T, l s3backup.Location) *s3backup.Store {
	t.Helper()
	s, err := s3backup.Open(l)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func archive(t *testing.T, size int) string {
	t.Helper()
	b := make([]byte, size)
	_, _ = rand.Read(b)
	p := filepath.Join(t.TempDir(), "etcd-snapshot.tar.gz")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func TestGivenATLSS3ServerWhenABackupIsUploadedThenItIsListedDownloadedVerifiedAndDeleted(t *testing.T) {
	srv := versitygw.Start(t, versitygw.Options{TLS: true})
	store := open(t, location(t, srv, "etcd-backups", "clusters/prod"))
	if err := store.Check(ctx(t)); err != nil {
		t.Fatalf("check (creates the bucket): %v", err)
	}
	if _, err := os.Stat(filepath.Join(srv.Dir, "etcd-backups")); err != nil {
		t.Fatalf("the bucket was not created: %v", err)
	}
	src := archive(t, 3<<20)
	taken := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	m, err := store.Upload(ctx(t), src, s3backup.Manifest{ID: taken.Format(s3backup.IDLayout), Revision: 42, TotalKeys: 7,
		ClusterID: "abc", Kind: s3backup.KindManual, Taken: taken, Model: "m", Application: "etcd"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Object != "clusters/prod/2026-12-06T09:00:00Z.tar.gz" || m.Size != 3<<20 || len(m.SHA256) != 64 {
		t.Errorf("manifest %+v", m)
	}
	if _, err := store.Upload(ctx(t), src, s3backup.Manifest{ID: m.ID}); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("a second upload under the same id: %v", err)
	}
	ms, skipped, err := store.List(ctx(t))
	if err != nil || len(ms) != 1 || skipped != 0 || ms[0].Revision != 42 || ms[0].ClusterID != "abc" {
		t.Fatalf("list: %+v skipped %d %v", ms, skipped, err)
	}
	dir := t.TempDir()
	got, gm, err := store.Download(ctx(t), m.ID, dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(got)
	if !bytes.Equal(a, b) || gm.SHA256 != m.SHA256 {
		t.Error("the downloaded archive differs from the upload")
	}
	if err := store.Delete(ctx(t), m.ID); err != nil {
		t.Fatal(err)
	}
	if ms, _, _ := store.List(ctx(t)); len(ms) != 0 {
		t.Errorf("listed after delete: %+v", ms)
	}
	if entries, _ := os.ReadDir(filepath.Join(srv.Dir, "etcd-backups", "clusters", "prod")); len(entries) != 0 {
		t.Errorf("objects left after delete: %v", entries)
	}
}

func TestGivenACorruptedObjectWhenItIsDownloadedThenItIsRefusedAndNoFileIsLeft(t *testing.T) {
	srv := versitygw.Start(t, versitygw.Options{})
	store := open(t, location(t, srv, "etcd", ""))
	if err := store.Check(ctx(t)); err != nil {
		t.Fatal(err)
	}
	taken := time.Now().UTC().Truncate(time.Second)
	m, err := store.Upload(ctx(t), archive(t, 1<<20), s3backup.Manifest{ID: taken.Format(s3backup.IDLayout), Taken: taken})
	if err != nil {
		t.Fatal(err)
	}
	// Flip one byte of the stored object behind the server's back (the posix backend keeps it as a file).
	obj := filepath.Join(srv.Dir, "etcd", m.Object)
	raw, err := os.ReadFile(obj)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 0xff
	if err := os.WriteFile(obj, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, _, err := store.Download(ctx(t), m.ID, dir); err == nil || !strings.Contains(err.Error(), "is corrupt") {
		t.Fatalf("download of a corrupted object: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
	if _, _, err := store.Download(ctx(t), "2020-01-01T00:00:00Z", dir); err == nil || !strings.Contains(err.Error(), "no backup") {
		t.Errorf("download of a missing backup: %v", err)
	}
	if _, _, err := store.Download(ctx(t), "../../etc/passwd", dir); err == nil || !strings.Contains(err.Error(), "not of the form") {
		t.Errorf("download of a path: %v", err)
	}
}

func TestGivenAnUploadThatNeverFinishedAndASiblingPrefixThenNeitherIsListed(t *testing.T) {
	srv := versitygw.Start(t, versitygw.Options{})
	store := open(t, location(t, srv, "etcd", "backups"))
	sibling := open(t, location(t, srv, "etcd", "backups-old"))
	if err := store.Check(ctx(t)); err != nil {
		t.Fatal(err)
	}
	taken := time.Now().UTC().Truncate(time.Second)
	if _, err := sibling.Upload(ctx(t), archive(t, 1024), s3backup.Manifest{ID: taken.Format(s3backup.IDLayout), Taken: taken}); err != nil {
		t.Fatal(err)
	}
	// An archive without its manifest: what a hook killed between the two uploads leaves.
	half := filepath.Join(srv.Dir, "etcd", "backups", "2026-01-01T00:00:00Z.tar.gz")
	if err := os.MkdirAll(filepath.Dir(half), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(half, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	// And a manifest that does not read.
	if err := os.WriteFile(filepath.Join(filepath.Dir(half), "2026-01-02T00:00:00Z.manifest.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	ms, skipped, err := store.List(ctx(t))
	if err != nil || len(ms) != 0 || skipped != 1 {
		t.Fatalf("list: %+v skipped %d err %v; want nothing listed and one damaged manifest", ms, skipped, err)
	}
}

func TestGivenUploadsThatNeverGotTheirManifestWhenOrphansAreListedThenOnlyTheOwnersOldOnesAreFound(t *testing.T) {
	srv := versitygw.Start(t, versitygw.Options{})
	store := open(t, location(t, srv, "etcd", "b"))
	if err := store.Check(ctx(t)); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	me := s3backup.Owner{Model: "m1", Application: "etcd"}
	upload := func(age time.Duration, owner s3backup.Owner) string {
		taken := now.Add(-age)
		m, err := store.Upload(ctx(t), archive(t, 512), s3backup.Manifest{ID: taken.Format(s3backup.IDLayout), Taken: taken,
			Model: owner.Model, Application: owner.Application})
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	complete := upload(48*time.Hour, me)
	orphan := upload(47*time.Hour, me)
	young := upload(time.Hour, me)
	others := upload(46*time.Hour, s3backup.Owner{Model: "m2", Application: "etcd"})
	// Take the manifests away, as a hook killed between the two uploads would have left them.
	for _, id := range []string{orphan, young, others} {
		if err := os.Remove(filepath.Join(srv.Dir, "etcd", "b", id+".manifest.json")); err != nil {
			t.Fatal(err)
		}
	}
	got, err := store.Orphans(ctx(t), me, 24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != orphan {
		t.Fatalf("orphans %v, want only %s (not the complete %s, the young %s or another owner's %s)", got, orphan, complete, young, others)
	}
	if err := store.DeleteOrphan(ctx(t), orphan); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(srv.Dir, "etcd", "b", orphan+".tar.gz")); !os.IsNotExist(err) {
		t.Errorf("the orphan is still there: %v", err)
	}
}

func TestGivenBadCredentialsAnUntrustedCertificateOrNoServerWhenCheckedThenTheErrorSaysWhatToFix(t *testing.T) {
	srv := versitygw.Start(t, versitygw.Options{TLS: true, IAM: true})
	good := location(t, srv, "etcd", "")
	if err := open(t, good).Check(ctx(t)); err != nil {
		t.Fatal(err)
	}
	wrongSecret := good
	wrongSecret.SecretKey = "not-the-secret"
	if err := open(t, wrongSecret).Check(ctx(t)); err == nil || !strings.Contains(err.Error(), "refused the credentials") {
		t.Errorf("wrong secret: %v", err)
	}
	untrusted := good
	untrusted.CAChain = nil
	if err := open(t, untrusted).Check(ctx(t)); err == nil || !strings.Contains(err.Error(), "tls-ca-chain") {
		t.Errorf("no CA: %v", err)
	}
	// A user of its own: root's bucket is not theirs to write.
	srv.CreateUser(t, "tenant", "tenant-secret")
	tenant := good
	tenant.AccessKey, tenant.SecretKey = "tenant", "tenant-secret"
	if err := open(t, tenant).Check(ctx(t)); err == nil || !strings.Contains(err.Error(), "refused the credentials") {
		t.Errorf("a user without rights on the bucket: %v", err)
	}
	gone := good
	gone.Endpoint = &url.URL{Scheme: "https", Host: "127.0.0.1:1"}
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := open(t, gone).Check(c); err == nil || !strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("nothing listening: %v", err)
	}
}
