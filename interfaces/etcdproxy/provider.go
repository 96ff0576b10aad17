package etcdproxy

import (
	"fmt"
	"strings"

	"github.com/etcd-charm/etcd/interfaces/etcd"
)

// Databag keys of the `etcd-proxy` interface. The credential keys are the `etcd` interface's.
const KeyCluster = "cluster"

// KeyConnectionString is our addition to the interface: the members' client URLs, as the `etcd` interface
// gives them. The classic interface carries only peer URLs, and its proxies asked a member's peer listener
// for the client URLs (GET /members); our peer listeners admit members only, so a proxy is told them here.
// Classic readers ignore the key.
const KeyConnectionString = etcd.KeyConnectionString

// Member is one etcd member as a proxy needs it: its name and first peer URL.
type Member struct {
	Name    string
	PeerURL string
}

// ClusterString renders members as an initial-cluster value, name=peerURL joined by commas, in the given
// order (the classic charm listed them by member ID, as etcd does). Members without a name or peer URL are
// left out: a proxy cannot use them, and the classic charm crashed on them.
func ClusterString(members []Member) string {
	var parts []string
	for _, m := range members {
		if m.Name == "" || m.PeerURL == "" {
			continue
		}
		parts = append(parts, m.Name+"="+m.PeerURL)
	}
	return strings.Join(parts, ",")
}

// ParseClusterString is the inverse of ClusterString.
func ParseClusterString(s string) ([]Member, error) {
	var members []Member
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, url, ok := strings.Cut(part, "=")
		if !ok || name == "" || url == "" {
			return nil, fmt.Errorf("cluster string entry %q is not name=peerURL", part)
		}
		members = append(members, Member{Name: name, PeerURL: url})
	}
	return members, nil
}

// ProviderData is what every etcd unit publishes on each `proxy` relation.
type ProviderData struct {
	Cluster          string // see ClusterString
	ConnectionString string // the members' client URLs (etcd.ConnectionString); left out when empty
	etcd.Credentials
}

// Databag is the unit databag content for d.
func (d ProviderData) Databag() map[string]string {
	bag := map[string]string{
		KeyCluster:         d.Cluster,
		etcd.KeyClientCert: d.ClientCert,
		etcd.KeyClientKey:  d.ClientKey,
		etcd.KeyClientCA:   d.ClientCA,
	}
	if d.ConnectionString != "" {
		bag[KeyConnectionString] = d.ConnectionString
	}
	return bag
}

// Publish writes d into this unit's own databag on the relation, skipping unchanged values.
func Publish(relationID string, d ProviderData) error {
	return etcd.PublishUnitData(relationID, d.Databag())
}
