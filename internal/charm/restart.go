package charm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gruyaume/goops"
	"go.etcd.io/etcd/api/v3/version"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/internal/etcd"
)

// The restart turn serialises rolling restarts across units. It lives in etcd itself, on the holder's lease,
// so a unit that dies holding it gives it back when the lease expires. A member that finds it taken does not
// queue: it says so in its status and ends its hook, and the holder's next word in the peer relation (what it
// now runs with) wakes it to try again with the newest bags. So a member always restarts onto the newest
// configuration and trust at its turn, and a burst of changes costs one more round, not one round each.
const (
	restartTurnKey  = "/etcd-charm/turns/restart"
	restartLeaseTTL = 30
	// restartTimeout bounds one member's restart: leadership hand-off, the restart, and the wait until the
	// cluster is healthy again.
	restartTimeout = 3 * time.Minute
)

// restartInTurn restarts this member onto what it is to run with, when it is its turn and every other voter
// is healthy: leadership moved away first if it leads, and the cluster healthy again before the turn passes.
// When the restart moves to another etcd version, the raft leader goes last.
func (c *unitContext) restartInTurn(reason string, versionChange, trustOnly bool) error {
	ctx, cancel := context.WithTimeout(c.ctx, restartTimeout)
	defer cancel()
	cli, err := c.votersClient()
	if err != nil {
		return err
	}
	members, err := cli.Members(ctx)
	if err != nil {
		return heldBack("restart due (%s); cannot list members: %v", reason, plan.ShortErr(err))
	}
	me, ok := findByPeerURL(members, c.peerURL())
	if !ok {
		return heldBack("restart due (%s), but this unit is not a member of the cluster", reason)
	}
	// Look before taking the turn too: a member held back by another's health says so itself, rather than
	// waiting on a holder that is held back as well and will not restart (so would never wake it).
	// A member that is down is named before the raft leader's own wait for it: it is the cause of both.
	if ok, why := plan.ReadyToRestart(cli.HealthOf(ctx, members, memberEndpoints(members)), me.ID); !ok {
		return heldBack("restart due (%s), held back: %s", reason, why)
	}
	// The raft leader goes last. A trust-only restart has its own order (the Juju leader last, trustLeaderLast)
	// and is left out, so that the two orders never wait on each other.
	if !trustOnly {
		if leader, err := cli.Leader(ctx); err == nil && leader.ID == me.ID {
			if versionChange {
				if behind := c.membersBehind(ctx, cli, members, me.ID); len(behind) > 0 {
					return heldBack("raft leader upgrades last; waiting for %s", strings.Join(behind, ", "))
				}
			}
			if due, err := c.restartsDueElsewhere(); err != nil {
				return err
			} else if len(due) > 0 {
				return heldBack("restart due (%s); the raft leader restarts last, after %s", reason, strings.Join(due, ", "))
			}
		}
	}
	turn, err := c.takeRestartTurn(ctx, cli, members, reason)
	if err != nil || turn == nil {
		return err
	}
	defer giveBackTurn(ctx, turn)
	report := cli.HealthOf(ctx, members, memberEndpoints(members))
	if ok, why := plan.ReadyToRestart(report, me.ID); !ok {
		return heldBack("restart due (%s), held back: %s", reason, why)
	}
	goops.LogInfof("restarting %s: %s", c.memberName(), reason)
	_ = goops.SetUnitStatus(goops.StatusMaintenance, "restarting: "+reason)
	if err := c.handOffLeadership(ctx, cli); err != nil {
		return err
	}
	if err := c.systemctl("restart", serviceName); err != nil {
		return err
	}
	if err := c.waitServing(startTimeout); err != nil {
		return fmt.Errorf("after restart: %w", err)
	}
	return c.waitClusterHealthy(ctx, cli)
}

// giveBackTurn gives the restart turn back when the work it covered is done or abandoned; were the hook
// killed first, the turn's lease would expire anyway.
func giveBackTurn(ctx context.Context, turn *cluster.Turn) {
	releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := turn.Release(releaseCtx); err != nil {
		goops.LogWarningf("giving the restart turn back (its lease expires in %d s anyway): %v", restartLeaseTTL, err)
	}
}

// restartsDueElsewhere names the other voters' units that restart before the raft leader (plan.RestartsDue).
func (c *unitContext) restartsDueElsewhere() ([]string, error) {
	units, err := c.peers.Units()
	if err != nil {
		return nil, err
	}
	words := map[string]plan.RestartWord{}
	for u, bag := range units {
		if bag[keyMemberState] == stateVoter {
			words[u] = plan.RestartWord{Due: bag[keyRestartDue], Seen: bag[keyConfigSeen]}
		}
	}
	return plan.RestartsDue(words, c.configSeen()), nil
}

// configSeen digests what every unit judges a restart from alike: the application config and this charm's
// etcd version.
func (c *unitContext) configSeen() string {
	raw, _ := json.Marshal(c.cfg) //nolint:errcheck // plain fields
	return etcd.Digest(append(raw, version.Version...))[:12]
}

// takeRestartTurn takes the restart turn, breaking a stale holding first. It returns nil and a waiting error
// when a live member holds it.
func (c *unitContext) takeRestartTurn(ctx context.Context, cli *cluster.Client, members []cluster.Member, reason string) (*cluster.Turn, error) {
	names := make([]string, 0, len(members))
	for _, m := range members {
		names = append(names, m.Name)
	}
	for range 3 { // a broken holding may be retaken by someone else at once: then that one holds it
		turn, holder, err := cli.TakeTurn(ctx, restartTurnKey, c.memberName(), restartLeaseTTL)
		if err != nil {
			return nil, heldBack("restart due (%s); cannot take the restart turn: %v", reason, plan.ShortErr(err))
		}
		if turn != nil {
			return turn, nil
		}
		if holder.ModRevision == 0 {
			continue // given back between the check and the read
		}
		verdict, why := plan.DecideTurn(plan.TurnFacts{Self: c.memberName(), Holder: holder.Name, Lease: holder.Lease, Members: names})
		if verdict == plan.TurnWait {
			return nil, heldBack("restart due (%s); waiting for its turn: %s", reason, why)
		}
		goops.LogWarningf("breaking the restart turn: %s", why)
		if err := cli.BreakTurn(ctx, restartTurnKey, holder); err != nil {
			return nil, heldBack("restart due (%s); %s, and breaking it failed: %v", reason, why, plan.ShortErr(err))
		}
	}
	return nil, heldBack("restart due (%s); the restart turn keeps changing hands", reason)
}
