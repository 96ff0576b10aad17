package charm

import (
	"context"
	"fmt"
	"strings"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/internal/pki"
)

// Gateway users are for clients that speak only etcd's HTTP/JSON gateway (Patroni): the gateway refuses a
// client certificate with a CN, so they log in with a password and present a CN-less certificate for the
// TLS handshake. The operator makes and removes them; the registry holds them beside the relations' grants
// (plan.GatewayEndpoint) so no requirer takes their name or keys, and they take no requirer's.

type gatewayUserParams struct {
	Username string `json:"username"`
	Prefix   string `json:"prefix"`
}

// addGatewayUserAction makes (or remakes, with a new password) a gateway user with read-write on one prefix.
// The registry is written first: a run killed after it leaves a grant whose user the leader will not make
// without a password, and running the action again finishes it.
func (c *unitContext) addGatewayUserAction() error {
	var p gatewayUserParams
	if err := goops.GetActionParams(&p); err != nil {
		return err
	}
	if !c.leader {
		return fmt.Errorf("gateway users are the leader's to make; run this on the leader unit (%s/leader)", appName(c.unit))
	}
	return c.adminAction(func(ctx context.Context, cli *cluster.Client) error {
		users, err := cli.Users(ctx)
		if err != nil {
			return fmt.Errorf("listing etcd users: %w", err)
		}
		current := c.peers.clientRegistry()
		g, reason := plan.GatewayUser(current, p.Username, p.Prefix, c.clientPolicy(users))
		if reason != "" {
			return fmt.Errorf("%s (nothing was changed)", reason)
		}
		ca, err := c.ensureCA()
		if err != nil {
			return err
		}
		current[plan.GatewayKey(g.User)] = g
		if err := c.peers.setClientRegistry(current); err != nil {
			return err
		}
		password, err := randomToken(32)
		if err != nil {
			return err
		}
		if err := cli.EnsureUser(ctx, g.User, password); err != nil {
			return err
		}
		if err := c.grantUser(ctx, cli, g); err != nil {
			return err
		}
		kp, err := pki.IssueAnonymousClient(ca, pki.ClientLifetime)
		if err != nil {
			return err
		}
		endpoints, err := c.voterEndpoints(true)
		if err != nil {
			return err
		}
		_ = goops.ActionLogf("gateway user %s may read and write %s", g.User, g.Prefix)
		return goops.SetActionResults(map[string]string{
			"username":    g.User,
			"password":    password,
			"prefix":      g.Prefix,
			"endpoints":   strings.Join(endpoints, ","),
			"ca":          c.serverCABundle(),
			"certificate": string(kp.CertPEM),
			"key":         string(kp.KeyPEM),
		})
	})
}

// removeGatewayUserAction deletes a gateway user from etcd, then from the registry: a run killed between the
// two leaves a registry entry whose user is gone, which the leader does not make again, and running the
// action again finishes it.
func (c *unitContext) removeGatewayUserAction() error {
	var p gatewayUserParams
	if err := goops.GetActionParams(&p); err != nil {
		return err
	}
	if !c.leader {
		return fmt.Errorf("gateway users are the leader's to remove; run this on the leader unit (%s/leader)", appName(c.unit))
	}
	current := c.peers.clientRegistry()
	key := plan.GatewayKey(p.Username)
	g, ok := current[key]
	if !ok || g.Endpoint != plan.GatewayEndpoint {
		return fmt.Errorf("%q is no gateway user (nothing was changed)", p.Username)
	}
	return c.adminAction(func(ctx context.Context, cli *cluster.Client) error {
		if err := c.revokeClient(ctx, cli, g, nil); err != nil {
			return err
		}
		delete(current, key)
		if err := c.peers.setClientRegistry(current); err != nil {
			return err
		}
		return goops.SetActionResults(map[string]string{"output": fmt.Sprintf("gateway user %s removed", g.User)})
	})
}
