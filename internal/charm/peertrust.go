package charm

import (
	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/charm/plan"
)

// Only members speak raft. The peer listener trusts the cluster CA, which also signs the db and proxy
// relations' identities, the admin credentials and the gateway users' certificates; so it also demands the
// CN that only member certificates carry (plan.MemberCommonName). A cluster deployed by this charm demands
// it from its first start. One deployed by an older charm, whose member certificates carry the member
// names, moves over without losing a member: each unit asks for a certificate with the new CN and uses it at
// once (etcd reads certificates at each handshake), and only when every unit presents it does the leader
// say so in the application bag, and each member restart in its turn to demand it.

// enforcePeerCN is the leader's: it records that every unit presents the member CN.
func (c *unitContext) enforcePeerCN() error {
	if c.peers.App[keyPeerCN] != "" {
		return nil
	}
	units, err := c.peers.Units()
	if err != nil {
		return err
	}
	cns := map[string]string{c.unit: c.peers.Self[keyMemberCN]}
	for u, bag := range units {
		if bag[keyMemberState] != stateRemoved {
			cns[u] = bag[keyMemberCN]
		}
	}
	if !plan.PeerCNReady(cns) {
		return nil
	}
	goops.LogInfof("every unit presents the member CN %q: peer listeners now demand it", plan.MemberCommonName)
	return c.peers.setApp(map[string]string{keyPeerCN: plan.MemberCommonName})
}

// peerAllowedCNs are the CNs this member's peer listener admits: the member CN once the cluster demands it
// and this unit presents it itself, otherwise any certificate of the CA (an older cluster, half way).
func (c *unitContext) peerAllowedCNs() []string {
	if c.peers.App[keyPeerCN] != plan.MemberCommonName || c.peers.Self[keyMemberCN] != plan.MemberCommonName {
		return nil
	}
	return []string{plan.MemberCommonName}
}
