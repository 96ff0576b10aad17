// Package charm is the etcd charm: it reads the model through goops, decides what this member and the
// cluster should look like, and acts. Every hook runs the same reconcile; only the hooks whose meaning Juju
// defines differently (a unit leaving, stop, remove, actions) take their own path.
package charm

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/gruyaume/goops"
)

// Main runs one hook or action and returns the process exit code: non-zero tells Juju the hook failed.
func Main() int {
	if err := Dispatch(); err != nil {
		goops.LogErrorf("%v", err)
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// Budgets for one hook and one action. Juju gives hooks no deadline, but a hook holds the unit's queue (and,
// on a machine, the machine lock), so every wait in one is derived from this single bound instead of adding
// up; what a hook did not finish, the next one finds and finishes.
const (
	hookBudget   = 10 * time.Minute
	actionBudget = time.Hour
)

// Dispatch runs the hook or action named by the environment.
func Dispatch() error {
	env := goops.ReadEnv()
	resetUnitState()
	budget := hookBudget
	if env.ActionName != "" {
		budget = actionBudget
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	c, err := load(ctx, env)
	if err != nil {
		return err
	}
	defer c.closeClients()
	if env.ActionName != "" {
		return c.runAction(env.ActionName)
	}
	switch {
	case env.HookName == peerEndpoint+"-relation-departed" && c.getenv("JUJU_DEPARTING_UNIT") == c.unit:
		return c.leave()
	case env.HookName == "stop":
		return c.stop()
	case env.HookName == "remove":
		return nil
	}
	return c.reconcile()
}

// load gathers the facts every path needs: who we are, the configuration, the peer relation, our address
// and where the workload's files live.
func load(ctx context.Context, env goops.Environment) (*unitContext, error) {
	c := &unitContext{
		ctx:  ctx,
		env:  env,
		unit: env.UnitName,
		hook: env.HookName,
		now:  time.Now(),
		root: rootDir(),
	}
	var err error
	if c.leader, err = goops.IsLeader(); err != nil {
		return nil, fmt.Errorf("checking leadership: %w", err)
	}
	if c.cfg, err = readConfig(); err != nil {
		return nil, err
	}
	if c.peers, err = readPeers(c.unit, c.hook); err != nil {
		return nil, err
	}
	if c.address, c.network, err = unitAddress(); err != nil {
		return nil, err
	}
	c.paths, err = workloadPaths(c.root, c.hook)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// rootDir is where the workload's files live: "/" under Juju. The local model gives each unit its own root
// so that several units share one machine; that changes paths, never decisions.
func rootDir() string {
	if r := goops.GetEnvGetter().Get("LOCALJUJU_ROOT"); r != "" {
		return r
	}
	return "/"
}

func (c *unitContext) getenv(name string) string { return goops.GetEnvGetter().Get(name) }

// unitAddress is the peer binding's ingress address (the unit's private address when the binding has none),
// and the binding itself, whose bind addresses the member certificate must also cover.
func unitAddress() (string, *goops.Network, error) {
	nw, err := goops.GetNetwork(peerEndpoint)
	if err == nil && len(nw.IngressAddresses) > 0 {
		return nw.IngressAddresses[0], nw, nil
	}
	addr, aerr := goops.GetUnitPrivateAddress()
	if aerr != nil {
		return "", nil, fmt.Errorf("finding this unit's address: %w", aerr)
	}
	return addr, nw, nil
}
