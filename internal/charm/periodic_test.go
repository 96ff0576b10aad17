package charm

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/gruyaume/goops/goopstest"

	"github.com/etcd-charm/etcd/internal/etcd"
)

// Given the periodic snapshot directory with two finished archives, one still being written and an unrelated
// file, when snapshot-status runs, then only the finished archives are listed as kept.
func TestGivenAnArchiveStillBeingWrittenWhenSnapshotStatusRunsThenOnlyFinishedArchivesAreKept(t *testing.T) {
	root := t.TempDir()
	c := &unitContext{unit: "etcd/0", leader: true, root: root, paths: paths{Paths: etcd.NewPaths(root, "")}}
	dir := c.hostPath(periodicSnapshotDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"etcd-snapshot-20261206-100000.tar.gz", "etcd-snapshot-20261206-110000.tar.gz",
		"etcd-snapshot-20261206-120000.tar.gz.tmp", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx := goopstest.NewContext(c.snapshotStatusAction)
	if _, err := ctx.RunAction("snapshot-status", goopstest.State{Leader: true}, nil); err != nil {
		t.Fatal(err)
	}
	if ctx.ActionError != nil {
		t.Fatal(ctx.ActionError)
	}
	want := "etcd-snapshot-20261206-100000.tar.gz,etcd-snapshot-20261206-110000.tar.gz"
	if got := ctx.ActionResults["kept"]; got != want {
		t.Errorf("kept = %q, want %q", got, want)
	}
}
