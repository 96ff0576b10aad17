package charm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/internal/etcd"
)

const leaveTimeout = 60 * time.Second

// handOffLeadership moves raft leadership to a healthy voter if this member leads, so that stopping it costs
// clients no election (a few heartbeats instead of an election timeout).
func (c *unitContext) handOffLeadership(ctx context.Context, cli *cluster.Client) error {
	members, err := cli.Members(ctx)
	if err != nil {
		return fmt.Errorf("listing members before handing off leadership: %w", err)
	}
	me, ok := findByPeerURL(members, c.peerURL())
	if !ok {
		return nil
	}
	leader, err := cli.Leader(ctx)
	if err != nil || leader.ID != me.ID {
		return nil //nolint:nilerr // no leader or not us: nothing to hand off
	}
	report, err := cli.Health(ctx, memberEndpoints(members))
	if err != nil {
		return fmt.Errorf("checking health before handing off leadership: %w", err)
	}
	for _, e := range report.Endpoints {
		if e.Healthy && e.Member.ID != me.ID && !e.Member.IsLearner && e.Member.ID != 0 {
			goops.LogInfof("moving raft leadership from %s to %s", c.memberName(), plan.MemberLabel(e.Member))
			if err := cli.MoveLeader(ctx, e.Member.ID); err != nil {
				return fmt.Errorf("moving raft leadership to %s: %w", plan.MemberLabel(e.Member), err)
			}
			return nil
		}
	}
	return nil // no healthy voter to take over: stopping will trigger an election, which is all we can do
}

func (c *unitContext) waitClusterHealthy(ctx context.Context, cli *cluster.Client) error {
	for {
		members, err := cli.Members(ctx)
		if err == nil {
			report, herr := cli.Health(ctx, memberEndpoints(members))
			// Every voter serving, alarms aside: a restart may be how an alarm's cause is fixed.
			if herr == nil && report.HasQuorum() && report.Leader != 0 && report.HealthyVoters == report.Voters {
				return nil
			}
			err = herr
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not healthy again after restarting %s: %v", c.memberName(), err)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// leave takes this member out of the cluster when its unit goes away: leadership moved first, then removed
// from the member list (never at the cost of quorum), then stopped, then its data wiped so it can never
// come back stale.
func (c *unitContext) leave() error {
	if c.peers == nil || c.peers.Self[keyMemberState] == stateRemoved {
		return nil
	}
	_ = goops.SetUnitStatus(goops.StatusMaintenance, "leaving the etcd cluster")
	if err := c.removeSelf(); err != nil {
		return err
	}
	if err := c.stopAndWipe(); err != nil {
		return err
	}
	if err := c.peers.setUnit(map[string]string{keyMemberState: stateRemoved}); err != nil {
		return err
	}
	return goops.SetUnitStatus(goops.StatusMaintenance, "removed from the etcd cluster")
}

func (c *unitContext) removeSelf() error {
	if c.peers.Self[keyMemberState] == "" {
		return nil // never joined
	}
	ctx, cancel := context.WithTimeout(c.ctx, leaveTimeout)
	defer cancel()
	// Ask the other members, not this one: a member that applies its own removal shuts down, and a request it
	// was serving can hang until the deadline instead of answering (seen scaling 2 -> 1).
	endpoints, err := c.voterEndpoints(false)
	if err != nil {
		return err
	}
	if len(endpoints) == 0 {
		endpoints = []string{c.clientURL()}
	}
	cli, err := c.dial(ctx, endpoints)
	if err != nil {
		return err
	}
	defer cli.Close()
	members, err := cli.Members(ctx)
	if err != nil {
		return fmt.Errorf("listing members before leaving: %w", err)
	}
	me, ok := findByPeerURL(members, c.peerURL())
	if !ok {
		return nil // already removed, by the leader or an earlier try
	}
	if len(members) == 1 {
		return nil // the last member: the application is going away with it
	}
	if err := c.handOffLeadership(ctx, cli); err != nil {
		return err
	}
	report, err := cli.Health(ctx, memberEndpoints(members))
	if err != nil {
		return fmt.Errorf("checking health before leaving: %w", err)
	}
	if !plan.SafeToRemove(report, me) && !c.applicationDying() {
		return fmt.Errorf("removing %s would leave %d of %d remaining voters healthy, below quorum; "+
			"restore the unhealthy members, then run `juju resolve %s`", c.memberName(),
			report.HealthyVoters-1, report.Voters-1, c.unit)
	}
	if plan.StopBeforeRemoval(report, me) {
		// A stopped member closes its client connections at once, so clients go to the other members right
		// away instead of waiting on requests this member stops answering once it applies its own removal.
		if err := c.systemctl("stop", serviceName); err != nil {
			return err
		}
	}
	goops.LogInfof("removing member %s from the cluster", c.memberName())
	if err := cli.Remove(ctx, me.ID); err != nil && !errors.Is(err, cluster.ErrMemberNotFound) {
		return fmt.Errorf("removing member %s: %w", c.memberName(), err)
	}
	return nil
}

// applicationDying: when every unit is going away, quorum no longer protects anything.
func (c *unitContext) applicationDying() bool {
	gs, err := goops.GetGoalState()
	if err != nil {
		return false
	}
	for _, u := range gs.Units {
		if u.Status != "dying" {
			return false
		}
	}
	return true
}

func (c *unitContext) stopAndWipe() error {
	if _, err := os.Stat(c.paths.UnitFile); err == nil {
		if err := c.systemctl("disable", "--now", serviceName); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(c.paths.DataDir); err != nil {
		return fmt.Errorf("wiping the data dir: %w", err)
	}
	if err := etcd.RemoveStartRecord(c.paths.ConfigFile); err != nil {
		return fmt.Errorf("forgetting what the wiped member started with: %w", err)
	}
	return deleteState(bootstrapStateKey)
}

// stop runs when the unit is removed: leave if the departed hook did not get to it.
func (c *unitContext) stop() error {
	if c.peers != nil && !slices.Contains([]string{"", stateRemoved}, c.peers.Self[keyMemberState]) {
		return c.leave()
	}
	if _, err := os.Stat(c.paths.UnitFile); err == nil {
		return c.systemctl("disable", "--now", serviceName)
	}
	return nil
}
