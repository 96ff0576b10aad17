package controller

import (
	"net/http"
	"sort"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/model"
)

// hookFault arms or clears a unit's hook fault (test tooling: Juju has no such thing).
func (c *Controller) hookFault(_ *http.Request, req api.HookFaultRequest) (api.HookFault, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.SetNow(time.Now())
	if req.Clear {
		return api.HookFault{}, c.m.ClearHookFault(req.Unit)
	}
	u, err := c.m.Unit(req.Unit)
	if err != nil {
		return api.HookFault{}, err
	}
	f, err := c.m.ArmHookFault(u.Name, model.HookFault{Hook: req.Hook, AfterToolCalls: req.AfterToolCalls,
		Random: req.Random, Seed: req.Seed, Times: req.Times})
	if err != nil {
		return api.HookFault{}, err
	}
	return faultInfo(u.Name, f), nil
}

func (c *Controller) hookFaults(_ *http.Request, _ empty) (api.HookFaultsReply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	reply := api.HookFaultsReply{Armed: []api.HookFault{}, Kills: []api.HookKill{}}
	faults := c.m.HookFaults()
	units := make([]string, 0, len(faults))
	for u := range faults {
		units = append(units, u)
	}
	sort.Strings(units)
	for _, u := range units {
		reply.Armed = append(reply.Armed, faultInfo(u, faults[u]))
	}
	for _, k := range c.m.HookKills() {
		reply.Kills = append(reply.Kills, api.HookKill{Unit: k.Unit, Hook: k.Hook, Action: k.Action,
			ToolCalls: k.ToolCalls, Random: k.Random, Seed: k.Seed, Time: k.Time})
	}
	return reply, nil
}

func faultInfo(unit string, f model.HookFault) api.HookFault {
	return api.HookFault{Unit: unit, Hook: f.Hook, AfterToolCalls: f.AfterToolCalls, Random: f.Random,
		Seed: f.Seed, Times: f.Times}
}

// toolAnswered counts an answered tool call (under c.mu) and, when the unit's fault says so, SIGKILLs the
// run's process group before the reply leaves: the call has taken effect as Juju's agent would apply it
// (at once or into the hook's pending changes), but the charm runs nothing after it, so each kill point
// is exact and reproducible.
func (c *Controller) toolAnswered(ctx *model.Context) {
	if !c.m.ToolAnswered(ctx) {
		return
	}
	if r := c.runners[ctx.Unit.Name]; r != nil && r.kill() {
		c.m.HookKilled(ctx)
	}
}
