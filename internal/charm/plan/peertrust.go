package plan

// MemberCommonName is the CN of every member certificate. The peer listener admits only it (etcd's
// peer-transport-security allowed-cn), so no other certificate the cluster's CA signs (a db or proxy
// relation's identity, an admin credential, a gateway user's) can speak raft or read the member list there.
// It is the same for every member, so a new member changes no other member's configuration.
const MemberCommonName = "etcd-member"

// PeerCNReady says whether the peer listeners may start demanding MemberCommonName: every unit (memberCNs:
// unit → the CN of the member certificate it has installed, "" when it has not said) presents it. Demanding it
// earlier would cut off a member that still presents a certificate from before (a cluster deployed by an
// older charm, whose member certificates carry the member name): etcd reads certificates at each handshake,
// so the new ones are in use without a restart, and only then does each member restart, in turn, to demand
// it. Once ready it stays so: units that join later ask for the CN from the start.
func PeerCNReady(memberCNs map[string]string) bool {
	for _, cn := range memberCNs {
		if cn != MemberCommonName {
			return false
		}
	}
	return len(memberCNs) > 0
}
