package charm

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/cluster"
)

const maintenanceTimeout = 5 * time.Minute

// adminAction dials the cluster as root for an action, with the action's deadline.
func (c *unitContext) adminAction(fn func(ctx context.Context, cli *cluster.Client) error) error {
	if c.peers == nil {
		return fmt.Errorf("no peer relation yet; wait for the unit to become active")
	}
	ctx, cancel := context.WithTimeout(c.ctx, maintenanceTimeout)
	defer cancel()
	cli, err := c.dialVoters(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	return fn(ctx, cli)
}

type compactParams struct {
	// Revision is an integer in the schema: Juju reads `revision=123` on the command line as YAML, so the
	// number an operator types arrives as a number.
	Revision int64 `json:"revision"`
	Physical bool  `json:"physical"`
}

// compactRevision validates the operator's revision against what the cluster has: 0 means the latest, a
// revision in the future or at or below the compacted one fails with what to pass instead.
func compactRevision(rev, current, compacted int64) (int64, error) {
	switch {
	case rev == 0:
		return current, nil
	case rev < 0:
		return 0, fmt.Errorf("revision %d is not a positive integer; pass 0 (the default) to compact to the latest (%d)", rev, current)
	case rev > current:
		return 0, fmt.Errorf("revision %d is in the future: the cluster is at %d; pass a revision up to %d, or 0 for the latest",
			rev, current, current)
	case rev <= compacted:
		return 0, fmt.Errorf("revision %d is already compacted (compacted up to %d); pass a revision between %d and %d",
			rev, compacted, compacted+1, current)
	}
	return rev, nil
}

func (c *unitContext) compactAction() error {
	var p compactParams
	if err := goops.GetActionParams(&p); err != nil {
		return err
	}
	return c.adminAction(func(ctx context.Context, cli *cluster.Client) error {
		current, err := cli.Revision(ctx)
		if err != nil {
			return fmt.Errorf("failed to determine latest revision for compaction: %w", err)
		}
		hash, err := cli.HashKV(ctx, c.clientURL(), 0)
		if err != nil {
			return fmt.Errorf("reading the compacted revision: %w", err)
		}
		rev, err := compactRevision(p.Revision, current, hash.CompactRevision)
		if err != nil {
			return err
		}
		if rev == hash.CompactRevision {
			return goops.SetActionResults(map[string]string{"output": fmt.Sprintf("already compacted to revision %d", rev),
				"revision": strconv.FormatInt(rev, 10)})
		}
		if err := cli.Compact(ctx, rev, p.Physical); err != nil {
			return err
		}
		return goops.SetActionResults(map[string]string{
			"output":   fmt.Sprintf("compacted revision %d", rev),
			"revision": strconv.FormatInt(rev, 10),
			"physical": strconv.FormatBool(p.Physical),
		})
	})
}

type defragParams struct {
	Local bool `json:"local"`
}

// defragOrder puts followers first and the raft leader last: defragmenting blocks a member, and blocking the
// leader stalls every write, so it goes once the others are done.
func defragOrder(members []cluster.Member, leader uint64) []cluster.Member {
	var out []cluster.Member
	var last *cluster.Member
	for i, m := range members {
		if len(m.ClientURLs) == 0 {
			continue
		}
		if m.ID == leader {
			last = &members[i]
			continue
		}
		out = append(out, m)
	}
	if last != nil {
		out = append(out, *last)
	}
	return out
}

func (c *unitContext) defragAction() error {
	var p defragParams
	if err := goops.GetActionParams(&p); err != nil {
		return err
	}
	return c.adminAction(func(ctx context.Context, cli *cluster.Client) error {
		members, err := cli.Members(ctx)
		if err != nil {
			return fmt.Errorf("cluster is unavailable: %w", err)
		}
		if p.Local {
			me, ok := findByPeerURL(members, c.peerURL())
			if !ok {
				return fmt.Errorf("this unit is not an etcd member")
			}
			members = []cluster.Member{me}
		}
		var leaderID uint64
		if leader, err := cli.Leader(ctx); err == nil {
			leaderID = leader.ID
		}
		var out strings.Builder
		var order []string
		for _, m := range defragOrder(members, leaderID) {
			ep := m.ClientURLs[0]
			if err := cli.Defrag(ctx, ep); err != nil {
				return fmt.Errorf("%sdefragmenting %s stopped the run: %w", out.String(), plan.MemberLabel(m), err)
			}
			if err := c.waitMemberServing(ctx, cli, ep); err != nil {
				return fmt.Errorf("%s%s is not healthy after defragmenting, so the rest were left: %w", out.String(), plan.MemberLabel(m), err)
			}
			fmt.Fprintf(&out, "Finished defragmenting etcd member[%s]\n", ep)
			order = append(order, plan.UnitOfMember(m))
		}
		return goops.SetActionResults(map[string]string{"output": out.String(), "order": strings.Join(order, ",")})
	})
}

// waitMemberServing gates the next member's defrag on this one answering again. Alarms are left aside: a
// NOSPACE alarm is what defrag is often run to clear.
func (c *unitContext) waitMemberServing(ctx context.Context, cli *cluster.Client, endpoint string) error {
	for {
		report, err := cli.Health(ctx, []string{endpoint})
		if err == nil && len(report.Endpoints) == 1 && report.Endpoints[0].Serving {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s does not answer: %v", endpoint, err)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// alarmLines prints alarms as etcdctl alarm list does.
func alarmLines(alarms []cluster.Alarm) string {
	var b strings.Builder
	for _, a := range alarms {
		fmt.Fprintf(&b, "memberID:%d alarm:%s\n", a.MemberID, a.Type)
	}
	return b.String()
}

func (c *unitContext) alarmListAction() error {
	return c.adminAction(func(ctx context.Context, cli *cluster.Client) error {
		alarms, err := cli.Alarms(ctx)
		if err != nil {
			return err
		}
		return goops.SetActionResults(map[string]string{"output": alarmLines(alarms), "count": strconv.Itoa(len(alarms))})
	})
}

// alarmDisarmAction disarms the raised alarms once disarming can hold: a NOSPACE alarm disarmed while a
// member's database file is still at its quota comes back on the next write, so that is refused with what
// to do first.
func (c *unitContext) alarmDisarmAction() error {
	return c.adminAction(func(ctx context.Context, cli *cluster.Client) error {
		alarms, err := cli.Alarms(ctx)
		if err != nil {
			return err
		}
		if len(alarms) == 0 {
			return goops.SetActionResults(map[string]string{"output": "", "disarmed": "0"})
		}
		members, err := cli.Members(ctx)
		if err != nil {
			return fmt.Errorf("cluster is unavailable: %w", err)
		}
		spaces := spaceMembers(cli.HealthOf(ctx, members, memberEndpoints(members)))
		if blockers := plan.DisarmBlockers(alarms, spaces); len(blockers) > 0 {
			return fmt.Errorf("not disarming %s: the alarm would come back on the next write. %s; then run alarm-disarm "+
				"again (nothing was changed)", plan.AlarmNames(alarms), strings.Join(blockers, "; "))
		}
		for _, a := range alarms {
			if err := cli.DisarmAlarm(ctx, a); err != nil {
				return err
			}
		}
		left, err := cli.Alarms(ctx)
		if err != nil {
			return err
		}
		if len(left) > 0 {
			return fmt.Errorf("alarms came back after disarming:\n%sfree space first: compact, then defrag every member", alarmLines(left))
		}
		results := map[string]string{"output": alarmLines(alarms), "disarmed": strconv.Itoa(len(alarms))}
		if warnings := plan.LiveDataWarnings(spaces); len(warnings) > 0 {
			results["warning"] = strings.Join(warnings, "; ")
		}
		return goops.SetActionResults(results)
	})
}
