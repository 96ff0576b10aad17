package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/client"
	"github.com/etcd-charm/etcd/localmodel/lmtest"
)

func TestCLIInjectHookFault(t *testing.T) {
	b := lmtest.Build(t)
	work := t.TempDir()
	c := cli{t: t, bin: b.Localjuju, dir: filepath.Join(work, ".localjuju")}
	c.ok("bootstrap", "--update-status-interval", "1h")
	t.Cleanup(func() {
		if m, err := client.Connect(c.dir); err == nil {
			_ = m.Destroy(lmtest.Ctx(t, time.Minute))
		}
	})
	c.ok("deploy", b.TestCharm, "db")
	c.ok("wait-for-idle", "--timeout", "2m")

	for _, bad := range [][]string{
		{"inject-hook-fault", "db/0"},
		{"inject-hook-fault", "db/0", "--after-tool-calls", "2", "--random"},
		{"inject-hook-fault", "db/0", "--after-tool-calls", "2", "--seed", "3"},
		{"inject-hook-fault", "db/0", "--clear", "--hook", "install"},
		{"inject-hook-fault", "--random"},
	} {
		c.fails(2, bad...)
	}
	if errOut := c.fails(1, "inject-hook-fault", "db/0", "--hook", "confg-changed", "--after-tool-calls", "1"); !strings.Contains(errOut, `no hook or action "confg-changed"`) {
		t.Errorf("misspelt hook: %s", errOut)
	}

	// A random kill point within config-changed's three tool calls, replayable from the seed.
	if _, errOut, code := c.run("inject-hook-fault", "db/leader", "--hook", "config-changed", "--random", "--seed", "5"); code != 0 || !strings.Contains(errOut, "seed 5") {
		t.Errorf("arming: exit %d: %s", code, errOut)
	}
	c.ok("config", "db", "greeting=killed")
	if errOut := c.fails(1, "wait-for-idle", "--timeout", "1m"); !strings.Contains(errOut, `hook failed: "config-changed"`) {
		t.Errorf("wait-for-idle after the kill: %s", errOut)
	}
	var faults api.HookFaultsReply
	if err := json.Unmarshal([]byte(c.ok("hook-faults", "--format=json")), &faults); err != nil {
		t.Fatal(err)
	}
	if len(faults.Armed) != 0 || len(faults.Kills) != 1 || faults.Kills[0].Hook != "config-changed" || faults.Kills[0].Seed != 5 ||
		faults.Kills[0].ToolCalls < 1 || faults.Kills[0].ToolCalls > 3 {
		t.Errorf("hook-faults: %+v", faults)
	}
	if log := c.ok("debug-log", "--replay", "--no-tail", "--include", "db/0"); !strings.Contains(log, "fault injection: killed hook config-changed after") {
		t.Errorf("debug-log lacks the kill:\n%s", log)
	}
	c.ok("resolve", "db/0")
	c.ok("wait-for-idle", "--status", "active", "--timeout", "1m")

	c.ok("inject-hook-fault", "db/0", "--after-tool-calls", "1", "--times", "3")
	if out := c.ok("hook-faults"); !strings.Contains(out, "after-tool-calls: 1") || !strings.Contains(out, "times: 3") {
		t.Errorf("hook-faults (yaml) with an armed fault:\n%s", out)
	}
	c.ok("inject-hook-fault", "db/0", "--clear")
	c.ok("config", "db", "greeting=spared")
	c.ok("wait-for-idle", "--status", "active", "--timeout", "1m")
	c.ok("destroy")
}
