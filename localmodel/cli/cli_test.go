package cli_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/client"
	"github.com/etcd-charm/etcd/localmodel/lmtest"
)

func TestMain(m *testing.M) { lmtest.Main(m) }

type cli struct {
	t   *testing.T
	bin string
	dir string
}

func (c cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	cmd.Env = append(os.Environ(), "LOCALJUJU_MODEL_DIR="+c.dir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		c.t.Fatalf("localjuju %v timed out", args)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

func (c cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("localjuju %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func (c cli) fails(code int, args ...string) string {
	c.t.Helper()
	out, errOut, got := c.run(args...)
	if got != code {
		c.t.Fatalf("localjuju %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), got, code, out, errOut)
	}
	return errOut
}

func (c cli) status() api.Status {
	c.t.Helper()
	var st api.Status
	if err := json.Unmarshal([]byte(c.ok("status", "--format=json")), &st); err != nil {
		c.t.Fatal(err)
	}
	return st
}

func TestCLIWorkedExample(t *testing.T) {
	b := lmtest.Build(t)
	work := t.TempDir()
	c := cli{t: t, bin: b.Localjuju, dir: filepath.Join(work, ".localjuju")}

	charm := filepath.Join(work, "testcharm.charm")
	c.ok("pack", "--charmcraft", b.Charmcraft, "--dispatch", b.Dispatch, "-o", charm)
	c.ok("bootstrap", "--update-status-interval", "1h", "--lease-duration", "1s")
	t.Cleanup(func() {
		m, err := client.Connect(c.dir)
		if err == nil {
			_ = m.Destroy(lmtest.Ctx(t, time.Minute))
			if left := client.SessionProcesses(m.PID()); len(left) > 0 {
				t.Errorf("processes left after destroy: %v", left)
			}
		}
	})
	c.fails(1, "bootstrap")
	c.ok("deploy", charm, "db", "-n", "2", "--config", "greeting=hey")
	c.ok("deploy", charm, "app", "--config", "count=3")
	c.ok("add-unit", "app", "-n", "1")
	c.ok("integrate", "db:db", "app")
	c.ok("wait-for-idle", "--status", "active", "--timeout", "2m")

	st := c.status()
	if len(st.Applications["db"].Units) != 2 || len(st.Applications["app"].Units) != 2 || !st.Applications["db"].Units["db/0"].Leader {
		t.Errorf("status after deploy: %+v", st.Applications)
	}
	tab := c.ok("status")
	for _, want := range []string{"App", "Unit", "db/0*", "active", "idle", "Integration provider", "db:db", "app:backend"} {
		if !strings.Contains(tab, want) {
			t.Errorf("tabular status lacks %q:\n%s", want, tab)
		}
	}

	if got := strings.TrimSpace(c.ok("config", "db", "greeting")); got != "hey" {
		t.Errorf("config db greeting = %q", got)
	}
	c.fails(1, "config", "db", "count=abc")
	c.fails(1, "config", "db", "bogus=1")
	c.ok("config", "db", "count=7", "enabled=false")
	cfgOut := c.ok("config", "db", "--format=json")
	var cfg api.ConfigReply
	if err := json.Unmarshal([]byte(cfgOut), &cfg); err != nil {
		t.Fatal(err)
	}
	if s := cfg.Settings["count"]; s.Source != "user" || s.Value != float64(7) {
		t.Errorf("config count: %+v", s)
	}
	if s := cfg.Settings["nickname"]; s.Source != "unset" || s.Value != nil {
		t.Errorf("config nickname: %+v", s)
	}
	c.ok("config", "db", "--reset", "count,enabled")
	if got := strings.TrimSpace(c.ok("config", "db", "count")); got != "1" {
		t.Errorf("count after reset = %q", got)
	}
	c.ok("wait-for-idle")

	out := c.ok("run", "db/0", "echo", "text=yo", "times=3", "loud=true")
	if !strings.Contains(out, "text: yo") || !strings.Contains(out, `times: "3"`) || !strings.Contains(out, `loud: "true"`) {
		t.Errorf("run plain output:\n%s", out)
	}
	var res map[string]api.ActionResult
	if err := json.Unmarshal([]byte(c.ok("run", "db/leader", "echo", "--format=json")), &res); err != nil {
		t.Fatal(err)
	}
	if r := res["db/0"]; r.Status != "completed" || r.Results["text"] != "hi" || r.Results["return-code"] != float64(0) {
		t.Errorf("run json: %+v", res)
	}
	if errOut := c.fails(1, "run", "db/0", "fail", "message=boom"); !strings.Contains(errOut, "task failed") || !strings.Contains(errOut, "boom") {
		t.Errorf("failed action stderr: %s", errOut)
	}
	c.fails(1, "run", "db/0", "echo", "times=notanumber")

	if got := c.ok("exec", "--unit", "db/1", "--", "is-leader", "--format=json"); strings.TrimSpace(got) != "false" {
		t.Errorf("exec is-leader on db/1 = %q", got)
	}
	c.fails(3, "exec", "--unit", "db/1", "--", "exit 3")

	local := filepath.Join(work, "hello.txt")
	if err := os.WriteFile(local, []byte("hello unit"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok("scp", local, "db/1:/tmp/hello.txt")
	if got := c.ok("exec", "--unit", "db/1", "--", `cat "$LOCALJUJU_ROOT/tmp/hello.txt"`); got != "hello unit" {
		t.Errorf("file copied into the unit root reads %q", got)
	}
	back := filepath.Join(work, "back.jsonl")
	c.ok("scp", "db/1:/var/log/testcharm/hooks.jsonl", back)
	if raw, err := os.ReadFile(back); err != nil || !strings.Contains(string(raw), `"hook":"install"`) {
		t.Errorf("scp from the unit: %v", err)
	}

	c.ok("config", "app", "fail-hooks=config-changed")
	if errOut := c.fails(1, "wait-for-idle", "--timeout", "1m"); !strings.Contains(errOut, `hook failed: "config-changed"`) {
		t.Errorf("wait-for-idle on an error: %s", errOut)
	}
	// wait-for-idle fails at the first unit in error; the other may not have run its hook yet, and would then
	// run it without the fault once it is cleared, leaving nothing to resolve.
	deadline := time.Now().Add(time.Minute)
	for inError := 0; inError < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("app/0 and app/1 not both in error a minute after the failing config: %+v", c.status().Applications["app"].Units)
		}
		inError = 0
		for _, u := range c.status().Applications["app"].Units {
			if u.WorkloadStatus.Current == "error" {
				inError++
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.ok("config", "app", "fail-hooks=")
	c.ok("resolve", "app/0")
	c.ok("resolved", "app/1")
	c.ok("wait-for-idle", "--status", "active")

	log := c.ok("debug-log", "--replay", "--no-tail", "--include", "app/0")
	if !strings.Contains(log, `unit-app-0:`) || !strings.Contains(log, `hook "config-changed" (via hook dispatching script: dispatch) failed`) || strings.Contains(log, "unit-db-0:") {
		t.Errorf("debug-log --include app/0:\n%s", log)
	}
	if n := len(strings.Split(strings.TrimSpace(c.ok("debug-log", "--no-tail", "-n", "3")), "\n")); n != 3 {
		t.Errorf("debug-log -n 3 printed %d lines", n)
	}

	c.ok("refresh", "db", "--path", charm)
	c.ok("remove-relation", "db", "app")
	c.ok("remove-unit", "db/1")
	c.ok("remove-unit", "app/1", "--force", "--no-wait")
	c.ok("wait-for-idle")
	st = c.status()
	if len(st.Applications["db"].Units) != 1 || len(st.Applications["app"].Units) != 1 || st.Applications["db"].CharmRev != 1 {
		t.Errorf("status after scale-down and refresh: %+v", st.Applications)
	}
	if len(st.Applications["db"].Relations["db"]) != 0 {
		t.Errorf("relation still listed: %+v", st.Applications["db"].Relations)
	}
	c.ok("remove-application", "app")
	c.ok("wait-for-idle")
	if _, ok := c.status().Applications["app"]; ok {
		t.Error("app still present after remove-application")
	}
	c.fails(2, "deploy")
	c.fails(2, "no-such-verb")
	c.ok("destroy")
	c.fails(1, "status")
}
