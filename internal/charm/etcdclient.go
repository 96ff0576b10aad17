package charm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"

	"github.com/etcd-charm/etcd/internal/cluster"
)

// dial connects as the charm's own admin identity: the unit's client certificate with CN root.
func (c *unitContext) dial(ctx context.Context, endpoints []string) (*cluster.Client, error) {
	cert, err1 := os.ReadFile(c.paths.RootClientCert)
	key, err2 := os.ReadFile(c.paths.RootClientKey)
	ca, err3 := os.ReadFile(c.paths.ServerCA)
	if errors.Is(err3, fs.ErrNotExist) {
		ca, err3 = os.ReadFile(c.paths.CACert) // written by this charm's first hook after a refresh
	}
	if err := firstErr(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("reading the charm's client credentials: %w", err)
	}
	return cluster.Dial(ctx, cluster.Options{Endpoints: endpoints, CertPEM: cert, KeyPEM: key, CAPEM: ca})
}

// voterEndpoints are the client URLs of units that say they are voting members, this unit included when it is.
func (c *unitContext) voterEndpoints(includeSelf bool) ([]string, error) {
	units, err := c.peers.Units()
	if err != nil {
		return nil, err
	}
	var eps []string
	if includeSelf && c.peers.Self[keyMemberState] == stateVoter {
		eps = append(eps, c.clientURL())
	}
	for _, u := range slices.Sorted(maps.Keys(units)) {
		bag := units[u]
		if bag[keyMemberState] == stateVoter && bag[keyClientURL] != "" {
			eps = append(eps, bag[keyClientURL])
		}
	}
	return eps, nil
}

// dialVoters connects through every voting member's client URL and this unit's own: the client balances
// over whichever of them answer.
func (c *unitContext) dialVoters(ctx context.Context) (*cluster.Client, error) {
	eps, err := c.voterEndpoints(false)
	if err != nil {
		return nil, err
	}
	return c.dial(ctx, append(eps, c.clientURL()))
}

// memberEndpoints are the client URLs of every started member, from etcd's own membership list.
func memberEndpoints(members []cluster.Member) []string {
	var eps []string
	for _, m := range members {
		eps = append(eps, m.ClientURLs...)
	}
	slices.Sort(eps)
	return slices.Compact(eps)
}

func findByPeerURL(members []cluster.Member, peerURL string) (cluster.Member, bool) {
	for _, m := range members {
		if slices.Contains(m.PeerURLs, peerURL) {
			return m, true
		}
	}
	return cluster.Member{}, false
}

// votersClient is the hook's one connection to the cluster through every voter and this unit's own member,
// dialed on first use and closed when the hook ends.
func (c *unitContext) votersClient() (*cluster.Client, error) {
	if c.voters != nil {
		return c.voters, nil
	}
	cli, err := c.dialVoters(c.ctx)
	if err != nil {
		return nil, err
	}
	c.voters = cli
	return cli, nil
}

// closeClients closes the hook's connections.
func (c *unitContext) closeClients() {
	if c.voters != nil {
		c.voters.Close()
		c.voters = nil
	}
}
