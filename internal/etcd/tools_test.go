package etcd

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEtcdctlScriptRuns executes the rendered wrapper with /bin/sh against a
// stand-in binary that prints its arguments and environment, under a root
// with a space and a quote in it to prove the quoting.
func TestEtcdctlScriptRuns(t *testing.T) {
	root := filepath.Join(t.TempDir(), "it's a root")
	p := NewPaths(root, "")
	fake := "#!/bin/sh\necho \"args=$*\"\necho \"endpoints=$ETCDCTL_ENDPOINTS\"\necho \"cacert=$ETCDCTL_CACERT\"\necho \"cert=$ETCDCTL_CERT\"\necho \"key=$ETCDCTL_KEY\"\n"
	if _, err := WriteFile(p.Binary, []byte(fake), ModeExecutable); err != nil {
		t.Fatal(err)
	}
	script, err := EtcdctlScript(p, []string{"https://127.0.0.1:2379", "https://127.0.0.2:2379"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteFile(p.Etcdctl, script, ModeExecutable); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, p.Etcdctl, "member", "list", "-w", "table").CombinedOutput()
	if err != nil {
		t.Fatalf("running wrapper: %v\n%s", err, out)
	}
	want := strings.Join([]string{
		"args=etcdctl member list -w table",
		"endpoints=https://127.0.0.1:2379,https://127.0.0.2:2379",
		"cacert=" + p.ServerCA,
		"cert=" + p.RootClientCert,
		"key=" + p.RootClientKey,
	}, "\n") + "\n"
	if string(out) != want {
		t.Errorf("wrapper output:\n%s\nwant:\n%s", out, want)
	}

	if _, err := WriteFile(p.Etcdutl, EtcdutlScript(p), ModeExecutable); err != nil {
		t.Fatal(err)
	}
	out, err = exec.CommandContext(ctx, p.Etcdutl, "snapshot", "status", "x").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "args=etcdutl snapshot status x\n") {
		t.Errorf("etcdutl wrapper: %v\n%s", err, out)
	}
}

func TestEtcdctlScriptRefuses(t *testing.T) {
	p := NewPaths("/", "")
	if _, err := EtcdctlScript(p, nil); err == nil {
		t.Error("no endpoints accepted")
	}
	if _, err := EtcdctlScript(p, []string{"127.0.0.1:2379"}); err == nil {
		t.Error("endpoint without scheme accepted")
	}
}
