package model

import (
	"fmt"
	"strings"
	"time"

	"github.com/etcd-charm/etcd/localmodel/charmdir"
)

// Event is one scheduled run on a unit: a hook, an action or an exec.
type Event struct {
	Hook          string
	RelationID    int // -1 when not a relation hook
	RemoteUnit    string
	RemoteApp     string
	DepartingUnit string
	SecretID      string
	SecretLabel   string
	SecretRev     int
	StorageID     string
	// Charm is the charm an upgrade-charm event installs before it runs.
	Charm *charmdir.Charm
	Task  *Task
	Exec  *ExecTask
}

// Task is an action task.
type Task struct {
	ID       int
	Name     string
	Params   map[string]any
	Results  map[string]any
	Failed   bool
	Message  string
	Logs     []string
	Enqueued time.Time
	Started  time.Time
	Finished time.Time
	Code     int
	Stdout   string
	Stderr   string
	Done     chan struct{}
}

// ExecTask is a command run in a unit's hook environment (juju exec).
type ExecTask struct {
	Command []string
	Reply   chan ExecResult
}

// ExecResult is an exec's output.
type ExecResult struct {
	Stdout, Stderr string
	Code           int
}

func hookEvent(hook string) *Event { return &Event{Hook: hook, RelationID: -1} }

func relationEvent(r *Relation, app, kind string) *Event {
	ep, _ := r.Endpoint(app)
	// Juju names the remote application in every relation hook, including -created and -broken.
	return &Event{Hook: ep.Name + "-relation-" + kind, RelationID: r.ID, RemoteApp: r.RemoteApp(app)}
}

// Kind is the hook kind without its endpoint, storage or action prefix: "joined", "storage-attached", ...
func (e *Event) Kind() string {
	switch {
	case e.Task != nil:
		return "action"
	case e.Exec != nil:
		return "exec"
	case e.RelationID >= 0:
		return e.Hook[strings.LastIndex(e.Hook, "-relation-")+len("-relation-"):]
	case e.StorageID != "":
		return e.Hook[strings.Index(e.Hook, "-storage-")+1:]
	}
	return e.Hook
}

// Name is how the event appears in logs and the agent status: the hook name, or the action name.
func (e *Event) Name() string {
	switch {
	case e.Task != nil:
		return e.Task.Name
	case e.Exec != nil:
		return "juju-exec"
	}
	return e.Hook
}

// same reports whether two queued hooks are indistinguishable, so the second can be coalesced away.
func (e *Event) same(o *Event) bool {
	return e.Task == nil && o.Task == nil && e.Exec == nil && o.Exec == nil && e.Charm == nil && o.Charm == nil &&
		e.Hook == o.Hook && e.RelationID == o.RelationID && e.RemoteUnit == o.RemoteUnit &&
		e.RemoteApp == o.RemoteApp && e.DepartingUnit == o.DepartingUnit && e.SecretID == o.SecretID &&
		e.SecretRev == o.SecretRev && e.StorageID == o.StorageID
}

// coalescible lists the hook kinds Juju delivers as "something changed" notifications: a second identical
// one queued behind a pending one adds nothing, because the hook reads current state when it runs.
func (e *Event) coalescible() bool {
	switch e.Kind() {
	case "config-changed", "update-status", "leader-settings-changed", "changed", "secret-changed":
		return true
	}
	return false
}

// enqueue appends an event to the unit's hook queue, coalescing it with an identical pending one.
func (m *Model) enqueue(u *Unit, e *Event) {
	if u.Life == Dead {
		return
	}
	if e.coalescible() {
		for _, q := range u.queue {
			if q.same(e) && q != u.failed {
				return
			}
		}
	}
	u.queue = append(u.queue, e)
	m.opts.Wake(u.Name)
}

// statusMessage is what the unit agent says while the event runs, as `juju status` shows it.
func (e *Event) statusMessage() string {
	switch {
	case e.Task != nil:
		return fmt.Sprintf("running action %s", e.Task.Name)
	case e.Exec != nil:
		return "running juju-exec"
	case e.RemoteUnit != "":
		return fmt.Sprintf("running %s hook for %s", e.Hook, e.RemoteUnit)
	}
	return fmt.Sprintf("running %s hook", e.Hook)
}
