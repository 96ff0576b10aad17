package charm

import (
	"encoding/json"
	"fmt"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/etcd"
)

// The three client endpoints. db and proxy speak the classic interfaces, whose consumers expect the whole
// keyspace and a certificate handed to them; etcd-client speaks etcd_client, whose requirers bring their own
// certificate and ask for one prefix.
const (
	dbEndpoint     = plan.DBEndpoint
	proxyEndpoint  = "proxy"
	clientEndpoint = plan.ClientEndpoint
	// gatewayEndpoint is no relation: it marks the operator's gateway users (add-gateway-user).
	gatewayEndpoint = plan.GatewayEndpoint
)

// Peer databag keys for client relations.
const (
	keyClients     = "clients"      // app bag: JSON registry key → clientGrant, written by the leader
	keyClientTrust = "client-trust" // unit bag: digest of the client trust bundle this member's etcd started with
)

// Unit databag keys naming what this member's etcd started with (its start record), besides its trust.
const (
	keyRunningConfig  = "running-config"  // digest of the config file
	keyRunningVersion = "running-version" // etcd version
)

func (p *peerRelation) clientRegistry() clientRegistry {
	out := clientRegistry{}
	if raw := p.App[keyClients]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			return clientRegistry{} // the leader rewrites it from the relations on its next hook
		}
	}
	return out
}

func (p *peerRelation) setClientRegistry(r clientRegistry) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding the client registry: %w", err)
	}
	return p.setApp(map[string]string{keyClients: string(raw)})
}

// trustDigest names a bundle's content; members publish the one they run with, and the leader answers an
// etcd-client request only once every member trusts its certificate.
func trustDigest(bundle []byte) string { return etcd.Digest(bundle) }

func (c *unitContext) clientTrustBundle() []byte {
	return trustBundle(c.peers.App[keyCACert], c.peers.clientRegistry())
}
