package charm

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/internal/pki"
)

// unitContext is one hook's facts about this unit and the model.
type unitContext struct {
	// ctx bounds the whole hook or action: every wait in it is derived from this one deadline.
	ctx     context.Context
	env     goops.Environment
	unit    string
	hook    string
	leader  bool
	now     time.Time
	root    string
	cfg     Config
	peers   *peerRelation
	address string
	network *goops.Network // the peer binding; nil where network-get is unavailable
	paths   paths
	ca      pki.KeyPair // the cluster CA, on the leader only
	// external is what the certificates relation says in this hook (read once, after the certificates).
	external     externalCert
	externalWait time.Duration // how long until this unit may serve its external certificate, when it waits

	relations map[string][]string // relation IDs by endpoint, listed once per hook
	voters    *cluster.Client     // the hook's connection through the voters, once dialed (votersClient)
}

func (c *unitContext) peerURL() string {
	return "https://" + net.JoinHostPort(c.address, strconv.Itoa(c.cfg.ManagementPort))
}

func (c *unitContext) clientURL() string {
	return "https://" + net.JoinHostPort(c.address, strconv.Itoa(c.cfg.Port))
}

func (c *unitContext) memberName() string { return memberName(c.unit) }
