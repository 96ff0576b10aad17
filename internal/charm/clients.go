package charm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/etcd-charm/etcd/internal/cluster"
)

// The three client endpoints. db and proxy speak the classic interfaces, whose consumers expect the whole
// keyspace and a certificate handed to them; etcd-client speaks etcd_client, whose requirers bring their own
// certificate and ask for one prefix.
const (
	dbEndpoint     = "db"
	proxyEndpoint  = "proxy"
	clientEndpoint = "etcd-client"
)

// Peer databag keys for client relations.
const (
	keyClients     = "clients"      // app bag: JSON registry key → clientGrant, written by the leader
	keyClientTrust = "client-trust" // unit bag: digest of the client trust bundle this member runs with
)

// clientGrant is one client identity the cluster serves: an etcd user (and role) named after the
// certificate's CN. For db and proxy the charm issued the certificate and keeps it in an application
// secret; for etcd-client the requirer's own leaf certificate is trusted by every member.
type clientGrant struct {
	Endpoint    string `json:"endpoint"`
	RelationID  string `json:"relation"`
	App         string `json:"app"`
	User        string `json:"user"`
	Prefix      string `json:"prefix,omitempty"`      // etcd-client only; db and proxy get the whole keyspace
	Certificate string `json:"certificate,omitempty"` // etcd-client: the requirer's leaf, pinned in the trust bundle
	SecretID    string `json:"secret,omitempty"`      // db, proxy: the issued certificate and key
}

// permissions are what the grant's role allows: one prefix, or every key for the classic consumers.
func (g clientGrant) permissions() []cluster.Permission {
	if g.Endpoint == clientEndpoint {
		return []cluster.Permission{cluster.PrefixPermission(g.Prefix, cluster.ReadWrite)}
	}
	return []cluster.Permission{wholeKeyspace}
}

// wholeKeyspace is etcd's encoding of "every key": from "\x00" with an open range end.
var wholeKeyspace = cluster.Permission{Key: "\x00", RangeEnd: "\x00", Type: cluster.ReadWrite}

// clientRegistry is the leader's record of every client grant, in the peer application bag so that a new
// leader knows what to revoke when a relation goes.
type clientRegistry map[string]clientGrant

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

// trustBundle is the CA file of the client listener: the cluster CA, then every etcd-client leaf in
// registry order. A leaf in the root pool is accepted as itself, which pins exactly that certificate.
func trustBundle(caPEM string, r clientRegistry) []byte {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(caPEM))
	b.WriteByte('\n')
	for _, key := range slices.Sorted(maps.Keys(r)) {
		if cert := strings.TrimSpace(r[key].Certificate); cert != "" {
			b.WriteString(cert)
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

// trustDigest names a bundle's content; members publish the one they run with, and the leader answers an
// etcd-client request only once every member trusts its certificate.
func trustDigest(bundle []byte) string {
	sum := sha256.Sum256(bundle)
	return hex.EncodeToString(sum[:8])
}

func (c *unitContext) clientTrustBundle() []byte {
	return trustBundle(c.peers.App[keyCACert], c.peers.clientRegistry())
}
