package cluster

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// DowngradeEnable checks that every member can run targetVersion ("3.6") and then enables etcd's downgrade to
// it: the cluster version moves down at once, the storage version follows, and members may then restart on
// the older binary one at a time. It returns the cluster version etcd reports, as it was before the change.
func (c *Client) DowngradeEnable(ctx context.Context, targetVersion string) (string, error) {
	if _, err := c.cli.Downgrade(ctx, clientv3.DowngradeValidate, targetVersion); err != nil {
		return "", wrap("validate the downgrade to "+targetVersion, err)
	}
	resp, err := c.cli.Downgrade(ctx, clientv3.DowngradeEnable, targetVersion)
	if err != nil {
		return "", wrap("enable the downgrade to "+targetVersion, err)
	}
	return resp.Version, nil
}

// DowngradeCancel cancels an enabled downgrade; the cluster version moves back up once every member runs the
// newer binary.
func (c *Client) DowngradeCancel(ctx context.Context) (string, error) {
	resp, err := c.cli.Downgrade(ctx, clientv3.DowngradeCancel, "")
	if err != nil {
		return "", wrap("cancel the downgrade", err)
	}
	return resp.Version, nil
}
