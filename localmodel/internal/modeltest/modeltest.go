// Package modeltest builds in-memory models for the unit tests of the model and hook-tool packages: a
// charm shaped like the test charm, and helpers to run every queued hook to completion without processes.
package modeltest

import (
	"testing"

	"github.com/etcd-charm/etcd/localmodel/charmdir"
	"github.com/etcd-charm/etcd/localmodel/model"
)

// Charm returns a charm with the test charm's endpoints, storage, config and one typed action.
func Charm(t testing.TB) *charmdir.Charm {
	f := false
	return &charmdir.Charm{
		Dir: t.TempDir(),
		Meta: charmdir.Metadata{
			Name:          "tc",
			Peers:         map[string]charmdir.RelationSpec{"peers": {Interface: "tc-peers"}},
			Provides:      map[string]charmdir.RelationSpec{"db": {Interface: "testdb"}},
			Requires:      map[string]charmdir.RelationSpec{"backend": {Interface: "testdb"}},
			ExtraBindings: map[string]any{"admin": nil},
			Storage:       map[string]charmdir.StorageSpec{"data": {Type: "filesystem", Location: "/srv/data"}},
			Resources:     map[string]charmdir.ResourceSpec{"blob": {Type: "file", Filename: "blob.txt"}},
		},
		Config: charmdir.ConfigSchema{Options: map[string]charmdir.ConfigOption{
			"greeting": {Type: "string", Default: "hello"},
			"count":    {Type: "int", Default: 1},
			"nickname": {Type: "string"},
		}},
		Actions: map[string]charmdir.ActionSpec{"echo": {
			Params: map[string]any{
				"text":  map[string]any{"type": "string", "default": "hi"},
				"times": map[string]any{"type": "integer", "default": 2},
			},
			AdditionalProperties: &f,
		}},
	}
}

// SubordinateCharm returns a subordinate charm (in the manner of grafana-agent or nrpe) that relates to any
// principal over juju-info and to the test charm's db over a container-scoped endpoint of its own.
func SubordinateCharm(t testing.TB) *charmdir.Charm {
	return &charmdir.Charm{
		Dir: t.TempDir(),
		Meta: charmdir.Metadata{
			Name:        "sub",
			Subordinate: true,
			Peers:       map[string]charmdir.RelationSpec{"sub-peers": {Interface: "sub-peers"}},
			Requires: map[string]charmdir.RelationSpec{
				"juju-info": {Interface: "juju-info", Scope: "container"},
				"watched":   {Interface: "testdb", Scope: "container"},
			},
			Provides: map[string]charmdir.RelationSpec{"metrics": {Interface: "metrics"}},
		},
		Config: charmdir.ConfigSchema{Options: map[string]charmdir.ConfigOption{}},
	}
}

// New returns an empty model whose units live under a temporary directory.
func New(t testing.TB) *model.Model { return NewLogged(t, nil) }

// NewLogged is New with the model's debug-log lines ("entity LEVEL module message") appended to *log.
func NewLogged(t testing.TB, log *[]string) *model.Model {
	root := t.TempDir()
	opts := model.Options{
		UUID: "5f2a0c3e-1111-4222-8333-444455556666", AddressPrefix: "127.9.9.", LeaseDuration: 0,
		UnitLayout: func(unit string) model.UnitPaths {
			d := root + "/" + unit
			return model.UnitPaths{Dir: d, CharmDir: d + "/charm", Root: d + "/root", WorkloadLog: d + "/workload.log"}
		},
	}
	if log != nil {
		opts.Log = func(entity, level, module, msg string) {
			*log = append(*log, entity+" "+level+" "+module+" "+msg)
		}
	}
	return model.New(opts)
}

// Drain runs every queued event of every unit, succeeding each, round-robin in unit order, until none is
// left, and returns the hooks each unit ran.
func Drain(t testing.TB, m *model.Model) map[string][]string {
	t.Helper()
	return drain(t, m, func(e *model.Event) string { return e.Hook })
}

// DrainWithRemotes is Drain naming the remote unit of each relation hook: "hook(remote)".
func DrainWithRemotes(t testing.TB, m *model.Model) map[string][]string {
	t.Helper()
	return drain(t, m, func(e *model.Event) string {
		if e.RemoteUnit != "" {
			return e.Hook + "(" + e.RemoteUnit + ")"
		}
		return e.Hook
	})
}

func drain(t testing.TB, m *model.Model, name func(*model.Event) string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for i := 0; i < 10000; i++ {
		ran := false
		for _, u := range m.Units() {
			if run := m.NextRun(u.Name); run != nil {
				m.FinishRun(run, 0, "")
				out[u.Name] = append(out[u.Name], name(run.Event))
				ran = true
			}
		}
		if !ran {
			return out
		}
	}
	t.Fatal("model never went idle")
	return nil
}

// Context opens a hook context on unit (as `juju exec` does) and returns it with a function that ends it
// with the given exit code.
func Context(t testing.TB, m *model.Model, unit string) (*model.Context, func(code int)) {
	t.Helper()
	if _, err := m.EnqueueExec(unit, []string{"true"}); err != nil {
		t.Fatal(err)
	}
	run := m.NextRun(unit)
	if run == nil || run.Event.Exec == nil {
		t.Fatalf("no exec context on %s (is a hook pending?)", unit)
	}
	return run.Context, func(code int) { m.FinishRun(run, code, "") }
}
