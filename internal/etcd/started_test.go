package etcd

import (
	"os"
	"path/filepath"
	"testing"
)

func TestGivenAConfigFileWhenEtcdStartsThenTheRecordNamesItsContentAndTrust(t *testing.T) {
	dir := t.TempDir()
	trust := filepath.Join(dir, "client-ca.crt")
	cfg := filepath.Join(dir, "etcd.conf.yml")
	write := func(path, content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(trust, "bundle one\n")
	write(cfg, "name: etcd-0\nclient-transport-security:\n  trusted-ca-file: "+trust+"\n")

	if _, ok := ReadStartRecord(cfg); ok {
		t.Fatal("a record before any start")
	}
	if err := RecordStart(cfg, "3.6.16"); err != nil {
		t.Fatal(err)
	}
	rec, ok := ReadStartRecord(cfg)
	if !ok {
		t.Fatal("no record after the start")
	}
	raw, _ := os.ReadFile(cfg)
	if rec.Config != Digest(raw) || rec.Trust != Digest([]byte("bundle one\n")) || rec.Version != "3.6.16" {
		t.Fatalf("record %+v does not name what was read", rec)
	}

	// The files change on disk: the record still says what the running process read, until the next start.
	write(trust, "bundle two\n")
	if again, _ := ReadStartRecord(cfg); again != rec {
		t.Fatalf("record changed without a start: %+v", again)
	}
	if err := RecordStart(cfg, "3.6.16"); err != nil {
		t.Fatal(err)
	}
	if again, _ := ReadStartRecord(cfg); again.Trust != Digest([]byte("bundle two\n")) {
		t.Fatalf("record after the next start %+v", again)
	}

	if err := RemoveStartRecord(cfg); err != nil {
		t.Fatal(err)
	}
	if _, ok := ReadStartRecord(cfg); ok {
		t.Fatal("record survived its removal")
	}
	if err := RemoveStartRecord(cfg); err != nil {
		t.Fatalf("removing a missing record: %v", err)
	}
}

func TestGivenAnUnreadableTrustBundleWhenEtcdStartsThenTheStartFails(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "etcd.conf.yml")
	if err := os.WriteFile(cfg, []byte("client-transport-security:\n  trusted-ca-file: "+filepath.Join(dir, "missing")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := RecordStart(cfg, "3.6.16"); err == nil {
		t.Fatal("a start that cannot read what etcd will read was recorded")
	}
	if _, ok := ReadStartRecord(cfg); ok {
		t.Fatal("a record was left by a failed start")
	}
}
