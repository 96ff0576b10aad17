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
	return goops.SetAppStatus(goops.StatusName(st), msg)
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
