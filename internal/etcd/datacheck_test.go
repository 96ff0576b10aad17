package etcd

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestGivenAMembersDataWhenItIsCheckedThenEachFaultIsNamed(t *testing.T) {
	p, _, _, stop := startRendered(t)
	dataDir := p.DataDir
	if err := CheckData(dataDir); !errors.Is(err, ErrDataInUse) {
		t.Errorf("while etcd runs: got %v, want ErrDataInUse", err)
	}
	stop()
	if err := CheckData(dataDir); err != nil {
		t.Fatalf("a cleanly stopped member's data: %v", err)
	}

	t.Run("an empty data dir holds no data", func(t *testing.T) {
		if err := CheckData(t.TempDir()); !errors.Is(err, ErrNoData) {
			t.Errorf("got %v, want ErrNoData", err)
		}
	})
	t.Run("a WAL without its database", func(t *testing.T) {
		dir := copyDir(t, dataDir)
		if err := os.Remove(filepath.Join(dir, "member", "snap", "db")); err != nil {
			t.Fatal(err)
		}
		if err := CheckData(dir); err == nil || errors.Is(err, ErrNoData) {
			t.Errorf("got %v, want a missing database named", err)
		}
	})
	t.Run("torn database pages", func(t *testing.T) {
		dir := copyDir(t, dataDir)
		db := filepath.Join(dir, "member", "snap", "db")
		data, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		// Every page past the two meta pages gets a garbage header, as a torn write leaves it.
		for off := 2 * 4096; off+16 <= len(data); off += 4096 {
			for i := range 16 {
				data[off+i] = 0xa5
			}
		}
		if err := os.WriteFile(db, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := CheckData(dir); err == nil {
			t.Error("torn pages passed the check")
		}
	})
	t.Run("a WAL record with a bad crc", func(t *testing.T) {
		dir := copyDir(t, dataDir)
		wals, _ := filepath.Glob(filepath.Join(dir, "member", "wal", "*.wal"))
		if len(wals) == 0 {
			t.Fatal("no WAL file")
		}
		f, err := os.OpenFile(wals[0], os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		// The first records (crc, metadata) sit in the first bytes; garble them.
		if _, err := f.WriteAt([]byte{0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef}, 8); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := CheckData(dir); err == nil || errors.Is(err, ErrNoData) {
			t.Errorf("got %v, want the WAL fault named", err)
		}
	})
}

// copyDir copies a data dir tree so that each case garbles its own copy.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
