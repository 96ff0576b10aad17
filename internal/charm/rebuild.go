package charm

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gruyaume/goops"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/internal/etcd"
)

// memberProbe is one member as this unit's etcd knows it, and whether it answered.
type memberProbe struct {
	Member    cluster.Member
	Status    cluster.EndpointStatus
	Reachable bool
}

// quorumAssessment says whether a majority of voters is gone and which reachable member has the most recent
// data: the one to rebuild from.
type quorumAssessment struct {
	Voters, ReachableVoters int
	Survivor                *memberProbe
}

func (a quorumAssessment) Lost() bool { return a.Voters > 0 && a.ReachableVoters < a.Voters/2+1 }

func (a quorumAssessment) message() string {
	msg := fmt.Sprintf("quorum lost: %d of %d members unreachable", a.Voters-a.ReachableVoters, a.Voters)
	if a.Survivor == nil {
		return msg + "; no member answers: restore the machines or restore from a snapshot"
	}
	return msg + "; run the rebuild-cluster action on " + plan.UnitOfMember(a.Survivor.Member) +
		" (it shows what a rebuild keeps and loses; confirm=true rebuilds)"
}

// assessQuorum picks the survivor by the highest raft index (the most log applied), then revision, then
// name, so that every unit names the same one.
func assessQuorum(probes []memberProbe) quorumAssessment {
	var a quorumAssessment
	for i := range probes {
		p := &probes[i]
		if !p.Member.IsLearner {
			a.Voters++
			if p.Reachable {
				a.ReachableVoters++
			}
		}
		if !p.Reachable || p.Member.IsLearner {
			continue
		}
		if s := a.Survivor; s == nil || p.Status.RaftIndex > s.Status.RaftIndex ||
			p.Status.RaftIndex == s.Status.RaftIndex && (p.Status.Revision > s.Status.Revision ||
				p.Status.Revision == s.Status.Revision && p.Member.Name < s.Member.Name) {
			a.Survivor = p
		}
	}
	return a
}

// probeMembers reads the membership from this unit's own etcd (a serializable read, which needs no quorum)
// and asks every member for its status.
func (c *unitContext) probeMembers(ctx context.Context) ([]memberProbe, error) {
	cli, err := c.dial(ctx, []string{c.clientURL()})
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	resp, err := cli.Raw().MemberList(ctx, clientv3.WithSerializable())
	if err != nil {
		return nil, fmt.Errorf("reading the member list from %s: %w", c.clientURL(), err)
	}
	probes := make([]memberProbe, len(resp.Members))
	done := make(chan struct{}, len(probes))
	for i, m := range resp.Members {
		probes[i].Member = cluster.Member{ID: m.ID, Name: m.Name, PeerURLs: m.PeerURLs, ClientURLs: m.ClientURLs,
			IsLearner: m.IsLearner}
		go func() {
			defer func() { done <- struct{}{} }()
			for _, ep := range m.ClientURLs {
				pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				st, err := cli.EndpointStatus(pctx, ep)
				cancel()
				if err == nil {
					probes[i].Status, probes[i].Reachable = st, true
					return
				}
			}
		}()
	}
	for range probes {
		<-done
	}
	return probes, nil
}

// reportQuorumLoss sets blocked status naming rebuild-cluster when a majority of members is gone. It
// reports false when that is not the case (or cannot be told), leaving status to the caller.
func (c *unitContext) reportQuorumLoss() (bool, error) {
	ctx, cancel := context.WithTimeout(c.ctx, 15*time.Second)
	defer cancel()
	probes, err := c.probeMembers(ctx)
	if err != nil {
		return false, nil //nolint:nilerr // our own member does not answer: not a verdict on quorum
	}
	a := assessQuorum(probes)
	if !a.Lost() {
		return false, nil
	}
	msg := a.message()
	if c.leader {
		_ = goops.SetAppStatus(goops.StatusBlocked, msg)
	}
	return true, goops.SetUnitStatus(goops.StatusBlocked, msg)
}

type rebuildParams struct {
	Force   bool `json:"force"`
	Confirm bool `json:"confirm"`
}

// rebuildAction starts a one-member cluster from this unit's data after a majority of members is lost
// (etcd --force-new-cluster, for one start); the other live units then wipe and rejoin as learners. Without
// confirm=true it changes nothing and answers what a rebuild would keep and lose (plan.CostOfRebuild).
func (c *unitContext) rebuildAction() error {
	var p rebuildParams
	if err := goops.GetActionParams(&p); err != nil {
		return err
	}
	if c.peers == nil {
		return fmt.Errorf("no peer relation yet; nothing to rebuild")
	}
	b, err := c.loadBootstrap()
	if err != nil {
		return err
	}
	if b == nil || !c.serviceActive() {
		return fmt.Errorf("this unit runs no etcd member; run rebuild-cluster on the unit its status names")
	}
	ctx, cancel := context.WithTimeout(c.ctx, restoreTimeout)
	defer cancel()
	probes, err := c.probeMembers(ctx)
	if err != nil {
		return err
	}
	a := assessQuorum(probes)
	var self *memberProbe
	for i := range probes {
		if slices.Contains(probes[i].Member.PeerURLs, c.peerURL()) {
			self = &probes[i]
		}
	}
	switch {
	case !a.Lost() && !p.Force:
		return fmt.Errorf("the cluster has quorum (%d of %d voting members answer), so there is nothing to rebuild; "+
			"rebuild-cluster throws the other members away: pass force=true only if that is what you want (nothing was changed)",
			a.ReachableVoters, a.Voters)
	case self == nil || !self.Reachable:
		return fmt.Errorf("this unit's member does not answer; run rebuild-cluster on a unit whose member does")
	case a.Survivor != nil && a.Survivor != self && !p.Force:
		return fmt.Errorf("%s has more recent data (raft index %d, this unit %d); run rebuild-cluster there, or pass "+
			"force=true to keep this unit's data instead (nothing was changed)",
			plan.UnitOfMember(a.Survivor.Member), a.Survivor.Status.RaftIndex, self.Status.RaftIndex)
	}
	if !p.Confirm {
		return c.reportRebuildCost(ctx, *self, probes)
	}
	_ = goops.ActionLogf("rebuilding a one-member cluster from %s (revision %d)", c.unit, self.Status.Revision)
	if err := c.forceNewCluster(*b); err != nil {
		return err
	}
	epoch, err := newEpoch(c.now, c.peers.App[keyEpoch])
	if err != nil {
		return err
	}
	clusterID, err := c.publishNewIdentity(ctx, "", epoch)
	if err != nil {
		return err
	}
	var dropped []string
	for _, pr := range probes {
		if pr.Member.ID != self.Member.ID {
			dropped = append(dropped, plan.MemberLabel(pr.Member))
		}
	}
	return goops.SetActionResults(map[string]string{
		"result":          "cluster rebuilt from " + c.unit + "; the other live units rejoin as learners",
		"cluster-id":      clusterID,
		"revision":        fmt.Sprint(self.Status.Revision),
		"dropped-members": strings.Join(dropped, ","),
	})
}

// forceNewCluster starts the member once with force-new-cluster (etcd rewrites the membership to this
// member alone, keeping the data), then again with the normal configuration: the flag must not stay, or
// every restart would cut the cluster back to one member.
func (c *unitContext) forceNewCluster(b bootstrapState) error {
	rendered, err := c.etcdConfig(b).Render()
	if err != nil {
		return fmt.Errorf("rendering etcd configuration: %w", err)
	}
	if err := c.systemctl("stop", serviceName); err != nil {
		return err
	}
	forced := append(append([]byte{}, rendered...), []byte("force-new-cluster: true\n")...)
	if _, err := etcd.WriteFile(c.paths.ConfigFile, forced, etcd.ModeConfig); err != nil {
		return err
	}
	if err := c.startService(); err != nil {
		return fmt.Errorf("starting with force-new-cluster: %w", err)
	}
	if _, err := c.writeWorkloadFiles(b); err != nil {
		return err
	}
	if err := c.systemctl("restart", serviceName); err != nil {
		return err
	}
	return c.waitServing(startTimeout)
}

// reportRebuildCost is the dry run: every copy of the data against this unit's, the newest backup in S3
// included when the bucket is related and answers.
func (c *unitContext) reportRebuildCost(ctx context.Context, self memberProbe, probes []memberProbe) error {
	copyOf := func(p memberProbe) plan.DataCopy {
		return plan.DataCopy{Name: plan.UnitOfMember(p.Member), Revision: p.Status.Revision, RaftIndex: p.Status.RaftIndex,
			Reachable: p.Reachable}
	}
	var members []plan.DataCopy
	for _, p := range probes {
		members = append(members, copyOf(p))
	}
	cost := plan.CostOfRebuild(copyOf(self), members, c.newestBackup(ctx), c.now)
	results := cost.Results
	results["plan"] = strings.Join(cost.Lines, "\n")
	results["result"] = "nothing was changed; to rebuild the cluster from " + c.unit + " as above, run rebuild-cluster again with confirm=true"
	return goops.SetActionResults(results)
}

// newestBackup is this application's newest backup in the related bucket (others may share it), nil when
// there is none or the bucket cannot be read: the dry run then says nothing of backups.
func (c *unitContext) newestBackup(ctx context.Context) *plan.DataCopy {
	store, err := c.s3Store()
	if err != nil {
		return nil
	}
	lctx, cancel := context.WithTimeout(ctx, s3ListTimeout)
	defer cancel()
	ms, _, err := store.List(lctx)
	if err != nil {
		goops.LogWarningf("listing backups for the rebuild dry run: %v", err)
		return nil
	}
	for _, m := range ms { // newest first
		if m.Application == appName(c.unit) && m.Model == c.getenv("JUJU_MODEL_UUID") {
			return &plan.DataCopy{Name: m.ID, Revision: m.Revision, Taken: m.Taken}
		}
	}
	return nil
}
