package model

import (
	cryptorand "crypto/rand"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"time"
)

// HookFault arms the SIGKILL of a unit's hook runs, to prove a charm survives dying at any point of a hook.
// Juju has no such thing: it is test tooling. The kill point is counted in hook tool calls (every call
// through the tool shim, systemctl included) because those are the only points the model can see, and a
// count makes the kill reproducible where a delay would not be.
type HookFault struct {
	// Hook is the hook or action name the fault targets; empty targets every hook (never an action).
	Hook string
	// AfterToolCalls kills the run as soon as its Nth tool call has been answered (N >= 1): the call has
	// taken effect, but the charm never reads the reply, so nothing it would do after the call happens.
	AfterToolCalls int
	// Random draws the kill point afresh for every targeted run from Seed (see aimFault).
	Random bool
	// Seed seeds Random's draws; 0 asks for a random seed, which is then recorded here so a failing
	// sweep can be replayed.
	Seed int64
	// Times is how many runs are still to be killed; the fault disarms itself when it reaches 0.
	Times int

	rng *rand.Rand
}

// HookKill is one kill a fault performed.
type HookKill struct {
	Unit string
	// Hook is the hook killed, empty for an action; Action is the action killed.
	Hook   string
	Action string
	// ToolCalls is how many tool calls the run had made when it was killed: the kill point.
	ToolCalls int
	Random    bool
	Seed      int64
	Time      time.Time
}

// defaultRandomCalls bounds the random kill point of a hook the model has never seen complete: with no
// count to draw from, the first call is the one point every hook that calls a tool reaches.
const defaultRandomCalls = 1

// ArmHookFault arms (or replaces) the fault of a unit. The unit may be given as APP/leader; the fault stays
// with the unit that leads now.
func (m *Model) ArmHookFault(unit string, f HookFault) (HookFault, error) {
	u, err := m.Unit(unit)
	if err != nil {
		return HookFault{}, err
	}
	switch {
	case f.Random && f.AfterToolCalls != 0:
		return HookFault{}, fmt.Errorf("a hook fault is either after a number of tool calls or random, not both")
	case !f.Random && f.AfterToolCalls < 1:
		return HookFault{}, fmt.Errorf("a hook fault needs a tool call count of at least 1, or random")
	case f.Times < 0:
		return HookFault{}, fmt.Errorf("invalid times %d", f.Times)
	}
	if f.Hook != "" && !runsName(u, f.Hook) {
		// A misspelt name would arm a fault that never fires, and a test relying on it would pass silently.
		return HookFault{}, fmt.Errorf("charm %q has no hook or action %q", u.App.Charm.Meta.Name, f.Hook)
	}
	if f.Times == 0 {
		f.Times = 1
	}
	if f.Random {
		if f.Seed == 0 {
			var b [8]byte
			_, _ = cryptorand.Read(b[:])
			f.Seed = int64(binary.LittleEndian.Uint64(b[:]) >> 1)
		}
		f.rng = rand.New(rand.NewPCG(uint64(f.Seed), 0))
	}
	m.faults[u.Name] = &f
	return f, nil
}

// ClearHookFault disarms a unit's fault; a run already aimed at is spared too.
func (m *Model) ClearHookFault(unit string) error {
	u, err := m.Unit(unit)
	if err != nil {
		return err
	}
	delete(m.faults, u.Name)
	return nil
}

// HookFaults lists the armed faults by unit name.
func (m *Model) HookFaults() map[string]HookFault {
	out := map[string]HookFault{}
	for name, f := range m.faults {
		out[name] = *f
	}
	return out
}

// HookKills lists every kill performed, oldest first.
func (m *Model) HookKills() []HookKill { return append([]HookKill(nil), m.kills...) }

// runsName reports whether the unit's charm can ever run a hook or action of that name, so that
// arming a fault on a name that cannot occur fails at once.
func runsName(u *Unit, name string) bool {
	meta := u.App.Charm.Meta
	if _, ok := u.App.Charm.Actions[name]; ok {
		return true
	}
	switch name {
	case "install", "start", "stop", "remove", "config-changed", "upgrade-charm", "update-status",
		"leader-elected", "leader-settings-changed", "secret-changed", "secret-expired", "secret-remove",
		"secret-rotate", "pre-series-upgrade", "post-series-upgrade", "collect-metrics", "meter-status-changed":
		return true
	}
	for _, ep := range meta.Endpoints() {
		for _, kind := range []string{"created", "joined", "changed", "departed", "broken"} {
			if name == ep.Name+"-relation-"+kind {
				return true
			}
		}
	}
	for _, s := range meta.StorageNames() {
		if name == s+"-storage-attached" || name == s+"-storage-detaching" {
			return true
		}
	}
	return false
}

// aimFault sets the kill point of a run that starts now, if the unit's fault targets it. Execs are never
// targeted: they are the operator's commands, not the charm's code.
func (m *Model) aimFault(u *Unit, e *Event, ctx *Context) {
	f := m.faults[u.Name]
	if f == nil || e.Exec != nil {
		return
	}
	if (f.Hook == "" && e.Task != nil) || (f.Hook != "" && f.Hook != e.Name()) {
		return
	}
	ctx.fault = f
	ctx.killAt = f.AfterToolCalls
	if f.Random {
		ctx.killAt = f.rng.IntN(m.completeToolCalls(u, e)) + 1
	}
}

// completeToolCalls is how many tool calls the last successful run of the same hook or action made on the
// unit, else on any unit of its application (same charm, so much the same code path), else
// defaultRandomCalls. A random kill point is drawn within it so that it falls inside the hook.
func (m *Model) completeToolCalls(u *Unit, e *Event) int {
	last := func(v *Unit) int {
		for i := len(v.History) - 1; i >= 0; i-- {
			h := v.History[i]
			same := (e.Task == nil && h.Hook == e.Hook) || (e.Task != nil && h.Action == e.Task.Name)
			if same && h.ExitCode == 0 && h.ToolCalls > 0 {
				return h.ToolCalls
			}
		}
		return 0
	}
	if n := last(u); n > 0 {
		return n
	}
	for _, v := range u.App.Units() {
		if n := last(v); n > 0 {
			return n
		}
	}
	return defaultRandomCalls
}

// ToolAnswered counts one answered tool call of a live context and reports whether its run is to be killed
// now. The controller then kills the run's process group and reports the kill with HookKilled.
func (m *Model) ToolAnswered(c *Context) bool {
	if m.contexts[c.ID] != c || c.killed {
		return false
	}
	c.toolCalls++
	return c.killAt > 0 && c.toolCalls == c.killAt && m.faults[c.Unit.Name] == c.fault
}

// HookKilled records that the controller SIGKILLed the context's run for its fault: the fault uses up one
// of its times, and the kill is logged and listed so a test can tell that its fault really fired.
func (m *Model) HookKilled(c *Context) {
	c.killed = true
	f := c.fault
	k := HookKill{Unit: c.Unit.Name, ToolCalls: c.toolCalls, Random: f.Random, Time: m.now}
	if f.Random {
		k.Seed = f.Seed
	}
	what := "hook " + c.Event.Hook
	if t := c.Event.Task; t != nil {
		k.Action, what = t.Name, "action "+t.Name
	} else {
		k.Hook = c.Event.Hook
	}
	m.kills = append(m.kills, k)
	if f.Times--; f.Times <= 0 && m.faults[c.Unit.Name] == f {
		delete(m.faults, c.Unit.Name)
	}
	calls := "calls"
	if c.toolCalls == 1 {
		calls = "call"
	}
	m.opts.Log("unit-"+unitTag(c.Unit.Name), "WARNING", "localjuju.fault",
		fmt.Sprintf("fault injection: killed %s after %d hook tool %s", what, c.toolCalls, calls))
}
