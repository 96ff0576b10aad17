package model

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Run is one event handed to the controller to execute.
type Run struct {
	Unit    *Unit
	Event   *Event
	Context *Context
	// Env is Juju's hook environment for the event, without PATH and the agent socket (the controller's).
	Env []string
	// Usage is what the run's process cost, and Signal the signal that ended it ("killed"; empty when it
	// exited), both filled in by whoever ran it.
	Usage  Usage
	Signal string
}

// NextRun takes the unit's next event: a queued task first (even in error, as Juju runs actions on a unit in
// error), else the next hook unless a failed hook blocks the queue. It returns nil when there is nothing to
// run now.
func (m *Model) NextRun(unit string) *Run {
	u, ok := m.units[unit]
	if !ok || u.running != nil || u.Life == Dead {
		return nil
	}
	var e *Event
	switch {
	case len(u.tasks) > 0 && u.installed:
		e = u.tasks[0]
		u.tasks = u.tasks[1:]
	case u.failed != nil || len(u.queue) == 0:
		return nil
	default:
		e = u.queue[0]
	}
	u.running = e
	ctx := m.newContext(u, e)
	m.aimFault(u, e, ctx)
	m.beginEffects(u, e)
	u.AgentStatus = Status{Current: "executing", Message: e.statusMessage(), Since: m.now}
	if e.Hook == "install" && u.Workload.Current == "waiting" {
		u.Workload = Status{Current: "maintenance", Message: "installing charm software", Since: m.now}
	}
	if e.Task != nil {
		e.Task.Started = m.now
	}
	return &Run{Unit: u, Event: e, Context: ctx, Env: m.hookEnv(u, e, ctx)}
}

// beginEffects updates what relation-list answers as a hook starts, as Juju's uniter does when it prepares
// the hook: the joining unit is a member during -joined, the departing one is not during -departed.
func (m *Model) beginEffects(u *Unit, e *Event) {
	if e.RelationID < 0 {
		return
	}
	id := e.RelationID
	switch e.Kind() {
	case "created":
		u.known[id] = true
	case "joined":
		if u.members[id] == nil {
			u.members[id] = map[string]bool{}
		}
		u.members[id][e.RemoteUnit] = true
	case "departed":
		delete(u.members[id], e.RemoteUnit)
	case "broken":
		delete(u.members, id)
	}
}

// FinishRun records the outcome of a run. Exit code 0 commits the hook's changes; anything else discards
// them and, for a hook, puts the unit in error with its queue blocked until Resolve.
func (m *Model) FinishRun(run *Run, code int, output string) {
	u, e, ctx := run.Unit, run.Event, run.Context
	delete(m.contexts, ctx.ID)
	u.running = nil
	u.AgentStatus = Status{Current: "idle", Since: m.now}
	rec := HookRecord{Hook: e.Hook, ExitCode: code, Signal: run.Signal, Output: output, Env: envMap(run.Env),
		Usage: run.Usage, ToolCalls: ctx.toolCalls, FaultKilled: ctx.killed}
	if e.Task != nil {
		rec.Action = e.Task.Name
	}
	u.History = append(u.History, rec)
	if u.Life == Dead {
		// A forced removal happened while this ran: nothing it did counts.
		if e.Task != nil {
			m.finishTask(e.Task, ctx, code, exitReason(run, code))
		}
		return
	}
	switch {
	case e.Task != nil:
		if code == 0 {
			m.commit(ctx)
		}
		m.finishTask(e.Task, ctx, code, exitReason(run, code))
	case e.Exec != nil:
		if code == 0 {
			m.commit(ctx)
		}
	case code == 0:
		m.commit(ctx)
		u.queue = u.queue[1:]
		u.failed = nil
		m.completeEffects(u, e)
	default:
		// A hook killed by a signal is a failed hook like any other: Juju discards its buffered changes too.
		u.failed = e
		u.Workload = Status{Current: "error", Message: fmt.Sprintf("hook failed: %q", e.Hook), Since: m.now}
		m.opts.Log("unit-"+unitTag(u.Name), "ERROR", "juju.worker.uniter.operation",
			fmt.Sprintf("hook %q (via hook dispatching script: dispatch) failed: %s", e.Hook, exitReason(run, code)))
	}
	m.opts.Wake(u.Name)
}

// exitReason is how Juju words a run's end: the text of Go's exec.ExitError.
func exitReason(run *Run, code int) string {
	if run.Signal != "" {
		return "signal: " + run.Signal
	}
	return fmt.Sprintf("exit status %d", code)
}

// completeEffects applies what finishing a hook means for the model beyond its own changes.
func (m *Model) completeEffects(u *Unit, e *Event) {
	if u.Workload.Current == "error" {
		u.Workload = ctxRestoredStatus(u)
	}
	switch e.Kind() {
	case "install":
		u.installed = true
		if u.Workload.Current == "maintenance" && u.Workload.Message == "installing charm software" {
			u.Workload = Status{Current: "unknown", Since: m.now}
		}
	case "start":
		u.started = true
		for _, r := range m.Relations() {
			m.enterScope(u, r)
		}
	case "broken":
		delete(u.known, e.RelationID)
		delete(u.seen, e.RelationID)
		m.reapRelations()
	case "remove":
		m.dropUnit(u, false)
	}
}

// ctxRestoredStatus is the workload status shown once a hook error is resolved: the last one the charm set.
func ctxRestoredStatus(u *Unit) Status {
	if u.lastCharmStatus != nil {
		return *u.lastCharmStatus
	}
	return Status{Current: "unknown", Since: u.Workload.Since}
}

// Resolve clears a unit's hook error. With retry the failed hook runs again; without, it is skipped as if
// it had succeeded (its changes are not committed), like `juju resolve --no-retry`.
func (m *Model) Resolve(unit string, retry bool) error {
	u, err := m.Unit(unit)
	if err != nil {
		return err
	}
	if u.failed == nil {
		return fmt.Errorf("unit %q is not in an error state", unit)
	}
	e := u.failed
	u.failed = nil
	u.Workload = ctxRestoredStatus(u)
	if !retry {
		u.queue = u.queue[1:]
		m.completeEffects(u, e)
	}
	m.opts.Wake(u.Name)
	return nil
}

// hookEnv is Juju's environment for the event (spec: HookVars), minus PATH and the agent socket.
func (m *Model) hookEnv(u *Unit, e *Event, ctx *Context) []string {
	charmDir := u.Paths.CharmDir
	env := map[string]string{
		"CHARM_DIR": charmDir, "JUJU_CHARM_DIR": charmDir, "JUJU_CONTEXT_ID": ctx.ID,
		"JUJU_UNIT_NAME": u.Name, "JUJU_MODEL_UUID": m.opts.UUID, "JUJU_MODEL_NAME": m.opts.Name,
		"JUJU_API_ADDRESSES": "127.0.0.1:17070", "JUJU_MACHINE_ID": u.Machine, "JUJU_PRINCIPAL_UNIT": "",
		"JUJU_AVAILABILITY_ZONE": "", "JUJU_VERSION": JujuVersion, "CLOUD_API_VERSION": "",
		"JUJU_CHARM_HTTP_PROXY": "", "JUJU_CHARM_HTTPS_PROXY": "", "JUJU_CHARM_FTP_PROXY": "",
		"JUJU_CHARM_NO_PROXY": "127.0.0.1,localhost,::1", "JUJU_HOOK_NAME": e.Hook,
		"LOCALJUJU_ROOT": u.Paths.Root,
	}
	switch {
	case e.Task != nil:
		env["JUJU_HOOK_NAME"] = ""
		env["JUJU_ACTION_NAME"] = e.Task.Name
		env["JUJU_ACTION_UUID"] = strconv.Itoa(e.Task.ID)
		env["JUJU_ACTION_TAG"] = "action-" + strconv.Itoa(e.Task.ID)
		env["JUJU_DISPATCH_PATH"] = "actions/" + e.Task.Name
	case e.Exec != nil:
		env["JUJU_HOOK_NAME"] = ""
	default:
		env["JUJU_DISPATCH_PATH"] = "hooks/" + e.Hook
	}
	if e.RelationID >= 0 {
		if r, ok := m.relations[e.RelationID]; ok {
			ep, _ := r.Endpoint(u.App.Name)
			env["JUJU_RELATION"] = ep.Name
			env["JUJU_RELATION_ID"] = r.RelationIDString(u.App.Name)
		}
		env["JUJU_REMOTE_UNIT"] = e.RemoteUnit
		env["JUJU_REMOTE_APP"] = e.RemoteApp
		if e.DepartingUnit != "" {
			env["JUJU_DEPARTING_UNIT"] = e.DepartingUnit
		}
	}
	if e.SecretID != "" {
		env["JUJU_SECRET_ID"] = secretURI(e.SecretID)
		env["JUJU_SECRET_LABEL"] = e.SecretLabel
		if e.SecretRev > 0 {
			env["JUJU_SECRET_REVISION"] = strconv.Itoa(e.SecretRev)
		}
	}
	if e.StorageID != "" {
		for _, s := range u.Storage {
			if s.ID == e.StorageID {
				env["JUJU_STORAGE_ID"] = s.ID
				env["JUJU_STORAGE_LOCATION"] = s.Location
				env["JUJU_STORAGE_KIND"] = s.Kind
			}
		}
	}
	if e.Hook == "upgrade-charm" {
		env["JUJU_TARGET_BASE"] = "ubuntu@24.04"
	}
	out := make([]string, 0, len(env))
	for _, k := range sortedKeys(env) {
		out = append(out, k+"="+env[k])
	}
	return out
}

func envMap(env []string) map[string]string {
	out := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "JUJU_") || k == "CHARM_DIR" {
			out[k] = v
		}
	}
	return out
}

// storageLocation is where an instance lives: inside the unit's root at the charm's declared location.
func storageLocation(u *Unit, name string, spec string, index int, multiple bool) string {
	loc := spec
	if loc == "" {
		loc = "/var/lib/juju/storage/" + name
	}
	p := filepath.Join(u.Paths.Root, loc)
	if multiple {
		p = filepath.Join(p, strconv.Itoa(index))
	}
	return p
}
