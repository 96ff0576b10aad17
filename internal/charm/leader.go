package charm

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/cluster"
)

// leaderChores: publish the cluster ID (so a foreign data dir is recognised), drop members whose units are
// gone without leaving (a machine that died), and summarise the cluster for the application status.
func (c *unitContext) leaderChores(ctx context.Context, cli *cluster.Client, r cluster.HealthReport) error {
	if c.peers.App[keyClusterID] == "" {
		resp, err := cli.Raw().MemberList(ctx)
		if err != nil {
			return fmt.Errorf("reading the cluster ID: %w", err)
		}
		if err := c.peers.setApp(map[string]string{
			keyClusterID: strconv.FormatUint(resp.Header.ClusterId, 16),
			keyPeerPort:  strconv.Itoa(c.cfg.ManagementPort),
		}); err != nil {
			return err
		}
	}
	if err := c.removeVanishedMembers(ctx, cli, r); err != nil {
		goops.LogWarningf("removing members of vanished units: %v", err)
	}
	st, msg := plan.AppStatus(r)
	if err := goops.SetAppStatus(goops.StatusName(st), msg); err != nil {
		return err
	}
	if err := publishAppHealth(ctx, cli, msg); err != nil {
		goops.LogWarningf("publishing the application status for the other units: %v", err)
	}
	return nil
}

// appStatusKey holds the application status the leader last set. It lives in etcd, not in the peer
// application bag: a bag change is a relation-changed hook on every other unit, and the status changes twice
// for each member a rolling restart takes down. Its mod revision tells one published status from the next.
const appStatusKey = "/etcd-charm/status/application"

// publishAppHealth writes the application status where the other units can compare it with what they see.
// It reads first and writes only a change: a transaction holding a put goes through raft (a WAL fsync) even
// when its compare takes the branch without it, and the leader runs this in every hook.
func publishAppHealth(ctx context.Context, cli *cluster.Client, msg string) error {
	resp, err := cli.Raw().Get(ctx, appStatusKey)
	if err != nil {
		return err
	}
	if len(resp.Kvs) == 1 && string(resp.Kvs[0].Value) == msg {
		return nil
	}
	_, err = cli.Raw().Put(ctx, appStatusKey, msg)
	return err
}

// tellLeaderWhatIsSeen wakes the Juju leader (a change to this unit's peer bag is a relation-changed there)
// when the application status it last set is not what this unit now sees, e.g. a member back after the
// leader's last hook. Said once per published status, so a lasting disagreement (a partition) is no hook
// loop.
func (c *unitContext) tellLeaderWhatIsSeen(ctx context.Context, cli *cluster.Client, r cluster.HealthReport) error {
	resp, err := cli.Raw().Get(ctx, appStatusKey)
	if err != nil || len(resp.Kvs) == 0 {
		return err
	}
	_, msg := plan.AppStatus(r)
	kv := resp.Kvs[0]
	seen := plan.HealthSeen(strconv.FormatInt(kv.ModRevision, 10), string(kv.Value), msg)
	if seen == "" {
		return nil
	}
	return c.peers.setUnit(map[string]string{keyHealthSeen: seen})
}

// removeVanishedMembers removes members that belong to no unit and do not answer: their machine is gone and
// their hooks will never run. A member that still answers may be a unit leaving gracefully; it removes
// itself after moving leadership away, so it is left alone. Removal never costs quorum.
func (c *unitContext) removeVanishedMembers(ctx context.Context, cli *cluster.Client, r cluster.HealthReport) error {
	units, err := c.peers.Units()
	if err != nil {
		return err
	}
	known := []string{c.peerURL()}
	for _, bag := range units {
		known = append(known, bag[keyPeerURL])
	}
	for _, m := range r.Members {
		if slices.ContainsFunc(m.PeerURLs, func(u string) bool { return slices.Contains(known, u) }) {
			continue
		}
		if plan.MemberServing(r, m.ID) {
			continue
		}
		if !plan.SafeToRemove(r, m) {
			goops.LogWarningf("member %s has no unit but removing it now would cost quorum; keeping it", plan.MemberLabel(m))
			continue
		}
		goops.LogInfof("removing member %s: its unit is gone", plan.MemberLabel(m))
		if err := cli.Remove(ctx, m.ID); err != nil {
			return fmt.Errorf("removing member %s: %w", plan.MemberLabel(m), err)
		}
	}
	return nil
}
