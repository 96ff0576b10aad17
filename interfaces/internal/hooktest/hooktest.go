// Package hooktest runs interface-library code in hook contexts of an in-process local model: the real
// hook-tool implementations (relation permissions, secret ownership, grants, revisions, transactional
// commits) answer goops' calls, with no processes and no etcd. Tests use it where goopstest's fake cannot
// follow, chiefly secrets passed between two applications.
package hooktest

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/etcd-charm/etcd/localmodel/charmdir"
	"github.com/etcd-charm/etcd/localmodel/hooktools"
	"github.com/etcd-charm/etcd/localmodel/model"
	"github.com/gruyaume/goops"
)

// UUID is the model UUID every hook sees.
const UUID = "0c1b4f0e-7a55-4d7c-9a2e-3f6a2d1e9b10"

// Model is an in-process model; its methods must be called from the test goroutine.
type Model struct {
	t *testing.T
	M *model.Model
}

// New returns an empty model that goes away with the test.
func New(t *testing.T) *Model {
	root := t.TempDir()
	m := model.New(model.Options{
		Name: "hooktest", UUID: UUID, AddressPrefix: "127.9.8.",
		UnitLayout: func(unit string) model.UnitPaths {
			d := root + "/" + strings.ReplaceAll(unit, "/", "-")
			return model.UnitPaths{Dir: d, CharmDir: d + "/charm", Root: d + "/root", WorkloadLog: d + "/workload.log"}
		},
	})
	return &Model{t: t, M: m}
}

// Deploy adds an application with the given relation endpoints and no charm code: its hooks do whatever
// the handler given to Settle does.
func (m *Model) Deploy(app string, provides, requires map[string]string, units int) {
	m.t.Helper()
	specs := func(eps map[string]string) map[string]charmdir.RelationSpec {
		out := map[string]charmdir.RelationSpec{}
		for name, iface := range eps {
			out[name] = charmdir.RelationSpec{Interface: iface}
		}
		return out
	}
	ch := &charmdir.Charm{Dir: m.t.TempDir(), Meta: charmdir.Metadata{Name: app, Provides: specs(provides), Requires: specs(requires)}}
	if _, err := m.M.Deploy(app, ch, nil, nil, units); err != nil {
		m.t.Fatal(err)
	}
}

// Integrate relates two endpoints ("app:endpoint") and returns the relation's number.
func (m *Model) Integrate(a, b string) int {
	m.t.Helper()
	r, err := m.M.Integrate(a, b)
	if err != nil {
		m.t.Fatal(err)
	}
	return r.ID
}

// Hook is a handler for one hook run on one unit; a non-nil error fails the hook (its changes are dropped).
type Hook func(unit, hook string) error

// Settle runs every queued hook, round-robin over the units, through handler (nil: every hook succeeds
// doing nothing), until the model is idle. A handler error fails the test.
func (m *Model) Settle(handler Hook) {
	m.t.Helper()
	for range 10000 {
		ran := false
		for _, u := range m.M.Units() {
			run := m.M.NextRun(u.Name)
			if run == nil {
				continue
			}
			ran = true
			var err error
			if handler != nil {
				err = m.within(run, func() error { return handler(u.Name, run.Event.Hook) })
			}
			if err != nil {
				m.M.FinishRun(run, 1, err.Error())
				m.t.Fatalf("%s %s: %v", u.Name, run.Event.Hook, err)
			}
			m.M.FinishRun(run, 0, "")
		}
		if !ran {
			return
		}
	}
	m.t.Fatal("the model never went idle")
}

// Exec runs fn in a hook context of unit, as `juju exec` would, and commits what it did when fn returns nil.
func (m *Model) Exec(unit string, fn func() error) error {
	m.t.Helper()
	if _, err := m.M.EnqueueExec(unit, []string{"true"}); err != nil {
		m.t.Fatal(err)
	}
	run := m.M.NextRun(unit)
	if run == nil || run.Event.Exec == nil {
		m.t.Fatalf("no exec context on %s (a hook is pending: call Settle first)", unit)
	}
	err := m.within(run, fn)
	code := 0
	if err != nil {
		code = 1
	}
	m.M.FinishRun(run, code, "")
	return err
}

// within points goops at the run's hook tools and environment while fn runs.
func (m *Model) within(run *model.Run, fn func() error) error {
	prevRunner, prevEnv := goops.GetCommandRunner(), goops.GetEnvGetter()
	defer func() {
		goops.SetCommandRunner(prevRunner)
		goops.SetEnvGetter(prevEnv)
	}()
	env := envGetter{}
	for _, kv := range run.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	goops.SetCommandRunner(runner{ctx: run.Context})
	goops.SetEnvGetter(env)
	return fn()
}

// runner answers goops through the hook tools in process, failing as goops' own runner does.
type runner struct{ ctx *model.Context }

func (r runner) Run(name string, args ...string) ([]byte, error) {
	out, errOut, code := hooktools.Run(hooktools.Env{Ctx: r.ctx}, name, args, nil)
	if code != 0 {
		return nil, fmt.Errorf("command %s failed: %s: exit status %d", name, strings.TrimSpace(errOut), code)
	}
	return []byte(out), nil
}

type envGetter map[string]string

func (e envGetter) Get(name string) string { return e[name] }

func (e envGetter) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }
