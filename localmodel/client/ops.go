package client

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
)

// DeployOptions are deploy's optional arguments.
type DeployOptions struct {
	App       string
	NumUnits  int
	Config    map[string]string
	Resources map[string]string
	// Storage asks for this many instances of each named storage per unit (juju deploy --storage name=count).
	Storage map[string]int
}

// Deploy deploys a .charm file or charm directory; it returns the new unit names.
func (m *Model) Deploy(ctx context.Context, charmPath string, opts DeployOptions) ([]string, error) {
	abs, err := filepath.Abs(charmPath)
	if err != nil {
		return nil, err
	}
	res := map[string]string{}
	for k, v := range opts.Resources {
		if res[k], err = filepath.Abs(v); err != nil {
			return nil, err
		}
	}
	var reply api.UnitsReply
	err = m.c.call(ctx, "/api/deploy", api.DeployRequest{CharmPath: abs, App: opts.App, NumUnits: opts.NumUnits, Config: opts.Config, Resources: res, Storage: opts.Storage}, &reply)
	if err != nil {
		return nil, fmt.Errorf("deploy %s: %w", charmPath, err)
	}
	return reply.Units, nil
}

// Refresh replaces an application's charm and runs the upgrade sequence.
func (m *Model) Refresh(ctx context.Context, app, charmPath string) error {
	abs, err := filepath.Abs(charmPath)
	if err != nil {
		return err
	}
	if err := m.c.call(ctx, "/api/refresh", api.RefreshRequest{App: app, CharmPath: abs}, nil); err != nil {
		return fmt.Errorf("refresh %s: %w", app, err)
	}
	return nil
}

// AddUnit adds n units to an application.
func (m *Model) AddUnit(ctx context.Context, app string, n int) ([]string, error) {
	var reply api.UnitsReply
	if err := m.c.call(ctx, "/api/add-unit", api.AddUnitRequest{App: app, NumUnits: n}, &reply); err != nil {
		return nil, fmt.Errorf("add-unit %s: %w", app, err)
	}
	return reply.Units, nil
}

// RemoveUnit removes units cooperatively: they run their departure hooks.
func (m *Model) RemoveUnit(ctx context.Context, units ...string) error {
	if err := m.c.call(ctx, "/api/remove-unit", api.RemoveUnitRequest{Units: units}, nil); err != nil {
		return fmt.Errorf("remove-unit: %w", err)
	}
	return nil
}

// ForceRemoveUnit removes a unit as if its machine died: its workloads are SIGKILLed, its hooks never run
// again, the other units see it depart, and if it led, leadership moves after the lease duration.
func (m *Model) ForceRemoveUnit(ctx context.Context, unit string) error {
	if err := m.c.call(ctx, "/api/remove-unit", api.RemoveUnitRequest{Units: []string{unit}, Force: true}, nil); err != nil {
		return fmt.Errorf("remove-unit --force %s: %w", unit, err)
	}
	return nil
}

// RemoveApplication removes an application, its units and relations.
func (m *Model) RemoveApplication(ctx context.Context, app string) error {
	if err := m.c.call(ctx, "/api/remove-application", api.NameRequest{Name: app}, nil); err != nil {
		return fmt.Errorf("remove-application %s: %w", app, err)
	}
	return nil
}

// Integrate relates two endpoints ("app" or "app:endpoint") and returns the relation id.
func (m *Model) Integrate(ctx context.Context, a, b string) (int, error) {
	var reply api.IntegrateReply
	if err := m.c.call(ctx, "/api/integrate", api.IntegrateRequest{A: a, B: b}, &reply); err != nil {
		return 0, fmt.Errorf("integrate %s %s: %w", a, b, err)
	}
	return reply.ID, nil
}

// Expose exposes an application on the given endpoints ("" for all; nil: all endpoints, to everyone).
func (m *Model) Expose(ctx context.Context, app string, endpoints map[string]api.ExposedEndpoint) error {
	if err := m.c.call(ctx, "/api/expose", api.ExposeRequest{App: app, Endpoints: endpoints}, nil); err != nil {
		return fmt.Errorf("expose %s: %w", app, err)
	}
	return nil
}

// Unexpose removes the expose settings of the given endpoints, or all of them.
func (m *Model) Unexpose(ctx context.Context, app string, endpoints ...string) error {
	if err := m.c.call(ctx, "/api/unexpose", api.UnexposeRequest{App: app, Endpoints: endpoints}, nil); err != nil {
		return fmt.Errorf("unexpose %s: %w", app, err)
	}
	return nil
}

// RemoveRelation removes the relation between two endpoints (or, with b empty, the relation id in a).
func (m *Model) RemoveRelation(ctx context.Context, a, b string) error {
	if err := m.c.call(ctx, "/api/remove-relation", api.IntegrateRequest{A: a, B: b}, nil); err != nil {
		return fmt.Errorf("remove-relation: %w", err)
	}
	return nil
}

// Config returns an application's config description.
func (m *Model) Config(ctx context.Context, app string) (api.ConfigReply, error) {
	var reply api.ConfigReply
	err := m.c.call(ctx, "/api/config", api.ConfigRequest{App: app}, &reply)
	return reply, err
}

// SetConfig sets options from CLI-style strings (parsed per option type) and resets others to defaults.
func (m *Model) SetConfig(ctx context.Context, app string, set map[string]string, reset ...string) error {
	if err := m.c.call(ctx, "/api/config", api.ConfigRequest{App: app, Set: set, Reset: reset}, nil); err != nil {
		return fmt.Errorf("config %s: %w", app, err)
	}
	return nil
}

// Run runs an action on a unit (or "app/leader") and waits for its result. A failed action is not an
// error here: check Status; errors are for invalid requests.
func (m *Model) Run(ctx context.Context, unit, action string, params map[string]any) (api.ActionResult, error) {
	var reply api.ActionResult
	if err := m.c.call(ctx, "/api/run", api.RunRequest{Unit: unit, Action: action, Params: params}, &reply); err != nil {
		return reply, fmt.Errorf("run %s %s: %w", unit, action, err)
	}
	return reply, nil
}

// Exec runs a shell command in the unit's hook environment (hook tools and systemctl on PATH).
func (m *Model) Exec(ctx context.Context, unit string, command ...string) (api.ExecReply, error) {
	var reply api.ExecReply
	if err := m.c.call(ctx, "/api/exec", api.ExecRequest{Unit: unit, Command: command}, &reply); err != nil {
		return reply, fmt.Errorf("exec on %s: %w", unit, err)
	}
	return reply, nil
}

// Resolve clears a unit's hook error, retrying the hook unless noRetry.
func (m *Model) Resolve(ctx context.Context, unit string, noRetry bool) error {
	if err := m.c.call(ctx, "/api/resolve", api.ResolveRequest{Unit: unit, NoRetry: noRetry}, nil); err != nil {
		return fmt.Errorf("resolve %s: %w", unit, err)
	}
	return nil
}

// Status returns the model status, shaped like `juju status --format=json`.
func (m *Model) Status(ctx context.Context) (api.Status, error) {
	var st api.Status
	err := m.c.call(ctx, "/api/status", struct{}{}, &st)
	return st, err
}

// WaitOptions configure WaitForIdle.
type WaitOptions struct {
	Apps       []string
	Status     string
	Timeout    time.Duration
	IdlePeriod time.Duration
}

// WaitForIdle waits until no hook runs or is queued (for the idle period), failing fast if a unit is in
// error and, with Status, until every unit shows that workload status.
func (m *Model) WaitForIdle(ctx context.Context, opts WaitOptions) error {
	if opts.Timeout == 0 {
		opts.Timeout = 5 * time.Minute
	}
	err := m.c.call(ctx, "/api/wait-for-idle", api.WaitRequest{Apps: opts.Apps, Status: opts.Status, Timeout: opts.Timeout, IdlePeriod: opts.IdlePeriod}, nil)
	if err != nil {
		return fmt.Errorf("wait-for-idle: %w", err)
	}
	return nil
}

// SignalWorkload sends a signal to the main process of a unit's service (SIGKILL, SIGSTOP, SIGCONT, ...).
func (m *Model) SignalWorkload(ctx context.Context, unit, service string, sig syscall.Signal) error {
	if err := m.c.call(ctx, "/api/signal", api.SignalRequest{Unit: unit, Service: service, Signal: int(sig)}, nil); err != nil {
		return fmt.Errorf("signal %s on %s: %w", service, unit, err)
	}
	return nil
}

// Service reports a unit's service state and main pid.
func (m *Model) Service(ctx context.Context, unit, service string) (api.ServiceReply, error) {
	var reply api.ServiceReply
	err := m.c.call(ctx, "/api/service", api.SignalRequest{Unit: unit, Service: service}, &reply)
	return reply, err
}
