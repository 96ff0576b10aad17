package charm

import (
	"context"
	"fmt"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/cluster"
)

// spaceTimeout bounds one hook's database maintenance: a compaction and a defrag of each member, each of
// which takes seconds per few hundred MiB.
const spaceTimeout = 3 * time.Minute

// spaceMembers reads the database of every member in the health report.
func spaceMembers(r cluster.HealthReport) []plan.SpaceMember {
	var out []plan.SpaceMember
	for _, e := range r.Endpoints {
		m := plan.SpaceMember{ID: e.Member.ID, Endpoint: e.Endpoint, Learner: e.Member.IsLearner,
			RaftLeader: e.Member.ID != 0 && e.Member.ID == r.Leader}
		m.Member = plan.MemberLabel(e.Member)
		if st := e.Status; st != nil && e.Serving {
			m.DBSize, m.InUse, m.Quota, m.Answered = st.DBSize, st.DBSizeInUse, st.DBSizeQuota, true
		}
		out = append(out, m)
	}
	return out
}

// tendSpace is the leader's database maintenance by rule (defrag_policy=auto; plan.PlanSpace decides):
// under NOSPACE it compacts the history first; it defragments the members that are due one at a time,
// followers first and the raft leader last, after moving leadership away from it; and it disarms NOSPACE
// once every member's file has room under its quota. Outside NOSPACE it holds the restart turn meanwhile,
// so no member restarts while another is blocked by a defrag; under NOSPACE nobody can take the turn (etcd
// refuses the lease), so none is needed. It reports whether it changed anything, so the hook reads the
// cluster again before setting status.
func (c *unitContext) tendSpace(cli *cluster.Client, r cluster.HealthReport, members []cluster.Member) bool {
	if c.cfg.DefragPolicy != defragAuto {
		return false
	}
	p := plan.PlanSpace(r.Alarms, spaceMembers(r))
	if p.Held != "" && !p.Settling {
		goops.LogInfof("%s", p.Held)
		return false
	}
	if !p.CompactFirst && len(p.Defrag) == 0 && !p.Settling {
		return false
	}
	ctx, cancel := context.WithTimeout(c.ctx, spaceTimeout)
	defer cancel()
	noSpace := p.CompactFirst
	if noSpace {
		if err := c.compactToLatest(ctx, cli); err != nil {
			goops.LogWarningf("NOSPACE: compacting the history: %v", err)
			return false
		}
	} else {
		turn, err := c.takeRestartTurn(ctx, cli, members, "database maintenance")
		if err != nil || turn == nil {
			goops.LogInfof("database maintenance waits: %v", err)
			return false
		}
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			_ = turn.Release(rctx)
		}()
	}
	// The compaction, or taking the turn (a write every member commits), changed the figures: plan again.
	if r, p = c.freshSpacePlan(ctx, cli, members); p.Held != "" {
		goops.LogInfof("%s", p.Held)
		return true
	}
	for _, m := range p.Defrag {
		if err := c.defragMember(ctx, cli, m, r); err != nil {
			goops.LogWarningf("database maintenance stopped: %v", err)
			return true
		}
	}
	if noSpace {
		c.disarmNoSpace(ctx, cli, members)
	}
	return true
}

// freshSpacePlan reads the members again, until their figures agree when they can (a member commits a write
// within its batch interval, 100 ms; under NOSPACE nothing commits, and the plan never waits), and plans from
// them.
func (c *unitContext) freshSpacePlan(ctx context.Context, cli *cluster.Client, members []cluster.Member) (cluster.HealthReport, plan.SpacePlan) {
	for attempt := 0; ; attempt++ {
		r := cli.HealthOf(ctx, members, memberEndpoints(members))
		p := plan.PlanSpace(r.Alarms, spaceMembers(r))
		if !p.Settling || attempt == 4 {
			return r, p
		}
		select {
		case <-ctx.Done():
			return r, p
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// defragMember defragments one member, moving raft leadership off it first when it leads and another voter
// answers: a defragmenting leader would stall every write for as long as it takes.
func (c *unitContext) defragMember(ctx context.Context, cli *cluster.Client, m plan.SpaceMember, r cluster.HealthReport) error {
	if m.RaftLeader {
		if to, ok := transferee(r, m.ID); ok {
			goops.LogInfof("moving raft leadership from %s to %s before defragmenting it", m.Member, plan.MemberLabel(to))
			if err := cli.MoveLeader(ctx, to.ID); err != nil {
				return fmt.Errorf("moving raft leadership off %s: %w", m.Member, err)
			}
		}
	}
	goops.LogInfof("defragmenting %s: %d MiB of its %d MiB database file are free", m.Member, (m.DBSize-m.InUse)>>20, m.DBSize>>20)
	if err := cli.Defrag(ctx, m.Endpoint); err != nil {
		return fmt.Errorf("defragmenting %s: %w", m.Member, err)
	}
	if err := c.waitMemberServing(ctx, cli, m.Endpoint); err != nil {
		return fmt.Errorf("%s after defragmenting: %w", m.Member, err)
	}
	return nil
}

// transferee is a voter other than from that answers, to take raft leadership.
func transferee(r cluster.HealthReport, from uint64) (cluster.Member, bool) {
	for _, e := range r.Endpoints {
		if e.Serving && e.Member.ID != 0 && e.Member.ID != from && !e.Member.IsLearner {
			return e.Member, true
		}
	}
	return cluster.Member{}, false
}

// compactToLatest compacts the history up to the current revision, as an operator would under NOSPACE.
func (c *unitContext) compactToLatest(ctx context.Context, cli *cluster.Client) error {
	current, err := cli.Revision(ctx)
	if err != nil {
		return err
	}
	hash, err := cli.HashKV(ctx, c.clientURL(), 0)
	if err != nil {
		return err
	}
	if hash.CompactRevision >= current {
		return nil
	}
	goops.LogInfof("NOSPACE: compacting the history up to revision %d", current)
	return cli.Compact(ctx, current, true)
}

// disarmNoSpace disarms NOSPACE when every member's file has room under its quota again; otherwise the
// alarm stays and status names it (the live data itself fills the quota: keys must go, or the quota up).
func (c *unitContext) disarmNoSpace(ctx context.Context, cli *cluster.Client, members []cluster.Member) {
	alarms, err := cli.Alarms(ctx)
	if err != nil {
		goops.LogWarningf("NOSPACE: reading the alarms: %v", err)
		return
	}
	if blockers := plan.DisarmBlockers(alarms, spaceMembers(cli.HealthOf(ctx, members, memberEndpoints(members)))); len(blockers) > 0 {
		goops.LogWarningf("NOSPACE stays raised: %v", blockers)
		return
	}
	for _, a := range alarms {
		if a.Type != cluster.AlarmNoSpace {
			continue
		}
		if err := cli.DisarmAlarm(ctx, a); err != nil {
			goops.LogWarningf("NOSPACE: disarming: %v", err)
			return
		}
	}
	goops.LogInfof("NOSPACE disarmed: every member's database file has room under its quota again")
}
