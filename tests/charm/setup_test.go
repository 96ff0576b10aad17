// Package charm_test drives the packed etcd charm on the local model: real controller, real hooks, real etcd
// processes with TLS and authentication, checked from outside with etcd's own client.
package charm_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/charmpack"
	"github.com/etcd-charm/etcd/localmodel/client"
)

var (
	buildOnce sync.Once
	buildErr  error
	artefacts struct{ localjuju, charm, dispatch string }
)

func repoRoot() string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		panic(fmt.Sprintf("locating the module: %v", err))
	}
	return strings.TrimSpace(string(out))
}

// build compiles localjuju and packs the etcd charm once per test process.
func build(t *testing.T) {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "etcd-charm-test-")
		if err != nil {
			buildErr = err
			return
		}
		root := repoRoot()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		artefacts.localjuju = filepath.Join(dir, "localjuju")
		if buildErr = charmpack.Build(ctx, root, "./cmd/localjuju", artefacts.localjuju); buildErr != nil {
			return
		}
		artefacts.dispatch, artefacts.charm, buildErr = buildCharm(ctx, root, dir, "./cmd/etcd-charm",
			filepath.Join(root, "charmcraft.yaml"), "etcd")
	})
	if buildErr != nil {
		t.Fatalf("building the charm and the local model: %v", buildErr)
	}
}

// buildCharm compiles a charm's binary from pkg and packs it with charmcraft into dir as <name>_amd64.charm.
func buildCharm(ctx context.Context, root, dir, pkg, charmcraft, name string) (binary, charm string, err error) {
	binary = filepath.Join(dir, name+"-dispatch")
	charm = filepath.Join(dir, name+"_amd64.charm")
	if err := charmpack.Build(ctx, root, pkg, binary); err != nil {
		return "", "", err
	}
	return binary, charm, charmpack.Pack(charmcraft, binary, charm)
}

// newModel bootstraps a local model that is destroyed when the test ends.
func newModel(t *testing.T) *client.Model {
	t.Helper()
	return newModelWith(t, 20*time.Second)
}

// newModelWith bootstraps a model whose units run update-status every updateStatus: a long interval shows
// what the charm does without the periodic hook's help.
func newModelWith(t *testing.T, updateStatus time.Duration) *client.Model {
	t.Helper()
	return newModelOpts(t, client.Options{UpdateStatusInterval: updateStatus})
}

// newModelOpts bootstraps a model with opts; the directory and binary are the test's own, and leadership
// moves 3 s after a leader goes unless opts say otherwise.
func newModelOpts(t *testing.T, opts client.Options) *client.Model {
	t.Helper()
	build(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	opts.Dir, opts.Binary = filepath.Join(t.TempDir(), "model"), artefacts.localjuju
	if opts.LeaseDuration == 0 {
		opts.LeaseDuration = 3 * time.Second
	}
	m, err := client.Bootstrap(ctx, opts)
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if lines, err := m.DebugLog(""); err == nil {
				n := len(lines)
				t.Logf("last debug-log lines:\n%s", strings.Join(lines[max(0, n-60):], "\n"))
			}
			logWorkloadErrors(t, m)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := m.Destroy(ctx); err != nil {
			t.Errorf("destroy: %v", err)
		}
	})
	return m
}

func waitActive(t *testing.T, m *client.Model, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout+30*time.Second)
	defer cancel()
	if err := m.WaitForIdle(ctx, client.WaitOptions{Status: "active", Timeout: timeout, IdlePeriod: 2 * time.Second}); err != nil {
		st, _ := m.Status(context.Background())
		t.Fatalf("waiting for active: %v\nstatus: %+v", err, st.Applications)
	}
}

// logWorkloadErrors prints the last errors each unit's etcd wrote to its workload log: a member that cannot
// start says why only there, and the debug log shows only that its process exited.
func logWorkloadErrors(t *testing.T, m *client.Model) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	units, err := m.Units(ctx)
	if err != nil {
		return
	}
	for _, u := range units {
		data, err := os.ReadFile(u.WorkloadLog)
		if err != nil {
			continue
		}
		var errs []string
		for _, line := range strings.Split(string(data), "\n") {
			// etcd's own error lines; a Go runtime panic or fatal error, which is plain text; and the local
			// model's start and exit records, which show a member that keeps restarting.
			if strings.Contains(line, `"level":"error"`) || strings.Contains(line, `"level":"fatal"`) ||
				strings.Contains(line, `"level":"panic"`) || strings.HasPrefix(line, "panic:") ||
				strings.HasPrefix(line, "fatal error:") || strings.HasPrefix(line, "-- ") {
				errs = append(errs, line)
			}
		}
		if len(errs) > 0 {
			t.Logf("last errors in %s's workload log:\n%s", u.Name, strings.Join(errs[max(0, len(errs)-8):], "\n"))
		}
		// The tail as well, whatever its level: a member that starts but never serves (waiting for raft to
		// publish it, or for a peer) says so only in warnings.
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		tail := lines[max(0, len(lines)-12):]
		for i, line := range tail {
			if len(line) > 400 {
				tail[i] = line[:400] + "…"
			}
		}
		t.Logf("last lines of %s's workload log:\n%s", u.Name, strings.Join(tail, "\n"))
	}
}
