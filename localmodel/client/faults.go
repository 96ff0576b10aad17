package client

import (
	"context"
	"fmt"

	"github.com/etcd-charm/etcd/localmodel/api"
)

// HookFaultOptions say which runs of a unit a hook fault kills, and where. Exactly one of AfterToolCalls
// and Random is set.
type HookFaultOptions struct {
	// Hook is a hook name (config-changed, db-relation-joined, ...) or an action name; empty means every
	// hook, never an action.
	Hook string
	// AfterToolCalls kills the run once its Nth hook tool call (systemctl included) has been answered.
	AfterToolCalls int
	// Random draws the kill point of each targeted run from Seed (0: pick a seed, reported in the reply)
	// within the tool calls of the last successful run of the same hook.
	Random bool
	Seed   int64
	// Times is how many runs to kill before the fault disarms itself (default 1).
	Times int
}

// InjectHookFault arms (replacing any) the unit's hook fault: a targeted run is SIGKILLed with its process
// group, as a failing hook it leaves the unit in error, and the kill is listed by HookKills. Juju has no
// such command; it is test tooling. It returns the fault as armed, with the seed a random fault uses.
func (m *Model) InjectHookFault(ctx context.Context, unit string, opts HookFaultOptions) (api.HookFault, error) {
	var reply api.HookFault
	req := api.HookFaultRequest{HookFault: api.HookFault{Unit: unit, Hook: opts.Hook, AfterToolCalls: opts.AfterToolCalls,
		Random: opts.Random, Seed: opts.Seed, Times: opts.Times}}
	if err := m.c.call(ctx, "/api/hook-fault", req, &reply); err != nil {
		return reply, fmt.Errorf("inject-hook-fault %s: %w", unit, err)
	}
	return reply, nil
}

// ClearHookFault disarms the unit's hook fault.
func (m *Model) ClearHookFault(ctx context.Context, unit string) error {
	req := api.HookFaultRequest{HookFault: api.HookFault{Unit: unit}, Clear: true}
	if err := m.c.call(ctx, "/api/hook-fault", req, nil); err != nil {
		return fmt.Errorf("inject-hook-fault %s --clear: %w", unit, err)
	}
	return nil
}

// HookFaults lists the armed faults (with the kills each has left) and every kill performed.
func (m *Model) HookFaults(ctx context.Context) (api.HookFaultsReply, error) {
	var reply api.HookFaultsReply
	err := m.c.call(ctx, "/api/hook-faults", struct{}{}, &reply)
	return reply, err
}

// HookKills lists every kill hook faults performed, oldest first, so a test can check its fault fired.
func (m *Model) HookKills(ctx context.Context) ([]api.HookKill, error) {
	reply, err := m.HookFaults(ctx)
	return reply.Kills, err
}

// LastToolCalls is how many hook tool calls the unit's last successful run of a hook (or action) made: the
// kill points a crash-safety sweep runs through with AfterToolCalls 1..n.
func (m *Model) LastToolCalls(ctx context.Context, unit, hook string) (int, error) {
	runs, err := m.HookHistory(ctx, unit)
	if err != nil {
		return 0, err
	}
	for i := len(runs) - 1; i >= 0; i-- {
		if r := runs[i]; hook != "" && (r.Hook == hook || r.Action == hook) && r.ExitCode == 0 {
			return r.ToolCalls, nil
		}
	}
	return 0, fmt.Errorf("unit %s has no successful run of %q", unit, hook)
}
