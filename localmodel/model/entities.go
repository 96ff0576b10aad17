package model

import (
	"time"

	"github.com/etcd-charm/etcd/localmodel/charmdir"
)

// Life is Juju's lifecycle of an entity.
type Life string

const (
	Alive Life = "alive"
	Dying Life = "dying"
	Dead  Life = "dead"
)

// Status is a status value with its message and when it was set.
type Status struct {
	Current string
	Message string
	Since   time.Time
}

// Application is a deployed charm.
type Application struct {
	Name      string
	Charm     *charmdir.Charm
	CharmRev  int
	Config    map[string]any // user-set values only; defaults come from the charm
	Resources map[string]string
	// Storage is the instance count per storage name each new unit gets, where the operator asked for more
	// than the charm's minimum (deploy --storage).
	Storage map[string]int
	Life    Life
	Leader  string
	// leaderlessSince is when the last leader went away; a new one is elected a lease duration later.
	leaderlessSince time.Time
	LeaderSettings  map[string]string
	// Exposed is the expose settings per endpoint ("" for all); nil when the application is not exposed.
	Exposed  map[string]ExposedEndpoint
	Status   *Status // set by the leader with status-set --application; nil means derived from units
	Version  string
	nextUnit int
	units    map[string]*Unit
}

// Units lists the application's units sorted by number.
func (a *Application) Units() []*Unit {
	out := make([]*Unit, 0, len(a.units))
	for _, u := range a.units {
		out = append(out, u)
	}
	sortUnits(out)
	return out
}

// EffectiveConfig is every option with the user's value or the default (nil when neither).
func (a *Application) EffectiveConfig() map[string]any {
	out := a.Charm.Config.Defaults()
	for k, v := range a.Config {
		if _, ok := out[k]; ok {
			out[k] = v
		}
	}
	return out
}

// Unit is one unit of an application with its queue of pending hooks.
type Unit struct {
	Name    string
	App     *Application
	Number  int
	Machine string
	Address string
	// Principal is the unit a subordinate unit sits on (its machine, address and filesystem root); empty
	// for a principal unit.
	Principal string
	Paths     UnitPaths
	Life      Life

	Workload Status
	// lastCharmStatus is the workload status the charm last set, restored when a hook error is resolved.
	lastCharmStatus *Status
	// AgentStatus is the unit agent's status: allocating, executing, idle.
	AgentStatus Status
	// failed is the hook whose failure blocks the queue, nil when the unit is not in error.
	failed    *Event
	installed bool
	started   bool

	queue   []*Event // hooks, in order
	tasks   []*Event // actions and execs: they run before queued hooks and even when the unit is in error
	running *Event

	State   map[string]string
	Ports   map[string]bool
	Storage []*StorageInstance

	// known are relations the unit's charm has seen (relation-created ran); broken ones are dropped.
	known map[int]bool
	// related are relations the unit has been scheduled into (created queued) and not yet broken.
	related map[int]bool
	// seen is, per relation, the remote units this unit has been scheduled a -joined for and no -departed.
	seen map[int]map[string]bool
	// members is the runtime view relation-list answers: remote units whose -joined hook has started.
	members map[int]map[string]bool

	// tracked is the secret revision this unit (as a consumer) reads; consumerLabels its labels for them.
	tracked        map[string]int
	consumerLabels map[string]string

	// nextUpdateStatus is when the unit is next due update-status; each unit keeps its own so that units
	// do not all fire together.
	nextUpdateStatus time.Time
	History          []HookRecord
}

// HookRecord is one completed run on a unit.
type HookRecord struct {
	Hook     string
	Action   string
	Env      map[string]string
	ExitCode int
	// Signal names the signal that killed the process ("killed"), empty when it exited.
	Signal string
	Output string
	Usage  Usage
	// ToolCalls is how many hook tool calls (systemctl included) the run made; FaultKilled says a hook
	// fault killed it after that many.
	ToolCalls   int
	FaultKilled bool
}

// Usage is the cost of one run's process, kept so the charm's per-hook cost can be measured.
type Usage struct {
	Started time.Time
	Wall    time.Duration
	// MaxRSSKiB is the peak resident set of the process and of the hook tools it waited for (wait4's rusage).
	MaxRSSKiB int64
	// CPU is the user plus system time of the process and of the hook tools it waited for: what the run
	// cost the machine, whatever else shared its cores.
	CPU time.Duration
}

// Running is the event the unit is running now, if any.
func (u *Unit) Running() *Event { return u.running }

// Failed is the hook blocking the unit's queue, if the unit is in error.
func (u *Unit) Failed() *Event { return u.failed }

// IsLeader reports whether the unit holds its application's leadership.
func (u *Unit) IsLeader() bool { return u.App.Leader == u.Name }

// QueueLen is the number of queued hooks and tasks.
func (u *Unit) QueueLen() int { return len(u.queue) + len(u.tasks) }

// StorageInstance is one attached storage instance.
type StorageInstance struct {
	ID       string // e.g. data/0
	Name     string
	Kind     string
	Location string
}
