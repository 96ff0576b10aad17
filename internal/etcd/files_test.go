package etcd

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tls", "member.key")
	steps := []struct {
		name    string
		data    string
		mode    os.FileMode
		changed bool
	}{
		{"create with parents", "key-1", ModeKey, true},
		{"same content and mode", "key-1", ModeKey, false},
		{"mode only", "key-1", 0o640, true},
		{"content only", "key-2", 0o640, true},
		{"back to key mode", "key-2", ModeKey, true},
	}
	for _, s := range steps {
		changed, err := WriteFile(path, []byte(s.data), s.mode)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if changed != s.changed {
			t.Errorf("%s: changed = %v, want %v", s.name, changed, s.changed)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != s.data {
			t.Fatalf("%s: content %q, %v", s.name, got, err)
		}
		info, err := os.Stat(path)
		if err != nil || info.Mode().Perm() != s.mode {
			t.Fatalf("%s: mode %v, %v; want %v", s.name, info.Mode().Perm(), err, s.mode)
		}
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestWriteFileRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	if _, err := WriteFile(dir, []byte("x"), ModeConfig); err == nil {
		t.Fatal("WriteFile over a directory succeeded")
	}
}

func TestEnsureDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "tls")
	if changed, err := EnsureDir(dir, ModeTLSDir); err != nil || !changed {
		t.Fatalf("create: %v, %v", changed, err)
	}
	if changed, err := EnsureDir(dir, ModeTLSDir); err != nil || changed {
		t.Fatalf("again: %v, %v", changed, err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if changed, err := EnsureDir(dir, ModeTLSDir); err != nil || !changed {
		t.Fatalf("fix mode: %v, %v", changed, err)
	}
	info, _ := os.Stat(dir)
	if info.Mode().Perm() != ModeTLSDir {
		t.Errorf("mode %v", info.Mode().Perm())
	}
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureDir(file, ModeDir); err == nil {
		t.Error("EnsureDir accepted a regular file")
	}
}
