package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gruyaume/goops"
)

// recordedEnv are the variables a test needs to check that a hook ran with Juju's environment for its kind.
var recordedEnv = []string{
	"JUJU_HOOK_NAME", "JUJU_ACTION_NAME", "JUJU_ACTION_UUID", "JUJU_DISPATCH_PATH", "JUJU_UNIT_NAME",
	"JUJU_RELATION", "JUJU_RELATION_ID", "JUJU_REMOTE_UNIT", "JUJU_REMOTE_APP", "JUJU_DEPARTING_UNIT",
	"JUJU_SECRET_ID", "JUJU_SECRET_LABEL", "JUJU_SECRET_REVISION",
	"JUJU_STORAGE_ID", "JUJU_STORAGE_LOCATION", "JUJU_STORAGE_KIND", "JUJU_TARGET_BASE",
	"JUJU_MODEL_NAME", "JUJU_MODEL_UUID", "JUJU_MACHINE_ID", "JUJU_VERSION", "JUJU_CHARM_DIR", "CHARM_DIR",
}

// record is one line of hooks.jsonl.
type record struct {
	Hook   string            `json:"hook,omitempty"`
	Action string            `json:"action,omitempty"`
	Unit   string            `json:"unit"`
	Leader bool              `json:"leader"`
	Env    map[string]string `json:"env"`
	Calls  []callRecord      `json:"calls,omitempty"`
}

type callRecord struct {
	Fn     string   `json:"fn"`
	Args   []string `json:"args"`
	Result any      `json:"result,omitempty"`
	Error  string   `json:"error,omitempty"`
}

func newRecord(env goops.Environment) *record {
	getter := goops.GetEnvGetter()
	rec := &record{Hook: env.HookName, Action: env.ActionName, Unit: env.UnitName, Env: map[string]string{}}
	for _, name := range recordedEnv {
		if v := getter.Get(name); v != "" {
			rec.Env[name] = v
		}
	}
	rec.Leader, _ = goops.IsLeader()
	return rec
}

func (r *record) add(c call, result any, err error) {
	cr := callRecord{Fn: c.Fn, Args: c.Args, Result: result}
	if err != nil {
		cr.Error = err.Error()
	}
	r.Calls = append(r.Calls, cr)
}

// write appends the record to $LOCALJUJU_ROOT/var/log/testcharm/hooks.jsonl. It is the workload's own file, so
// it is written even when the hook then fails: tests see every run, committed or not.
func (r *record) write() error {
	path := filepath.Join(root(), "var/log/testcharm/hooks.jsonl")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating hook log dir: %w", err)
	}
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding hook record: %w", err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("opening hook log: %w", err)
	}
	defer f.Close()
	_, err = f.Write(append(line, '\n'))
	return err
}

// root is the unit's filesystem root: "/" under Juju, the unit's own directory in the local model.
func root() string {
	if r := goops.GetEnvGetter().Get("LOCALJUJU_ROOT"); r != "" {
		return r
	}
	return "/"
}
