package etcdproxy

import "github.com/etcd-charm/etcd/interfaces/etcd"

// Requirer reads what etcd units publish on one of this charm's endpoints of interface `etcd-proxy`.
type Requirer struct {
	Endpoint string // e.g. "proxy"
}

// ClusterInfo is what an etcd proxy needs: the member list and client credentials.
type ClusterInfo struct {
	Cluster string
	etcd.Credentials
}

// Members parses the cluster string.
func (i ClusterInfo) Members() ([]Member, error) { return ParseClusterString(i.Cluster) }

// Available reports whether a cluster string was published.
func (i ClusterInfo) Available() bool { return i.Cluster != "" }

// RelationIDs lists the relations on the endpoint.
func (r Requirer) RelationIDs() ([]string, error) {
	return etcd.Requirer{Endpoint: r.Endpoint}.RelationIDs()
}

// ClusterInfo reads the remote units' databags, per key the first non-empty value in relation-list order.
func (r Requirer) ClusterInfo(relationID string) (ClusterInfo, error) {
	m, err := etcd.MergedUnitData(relationID, KeyCluster, etcd.KeyClientCert, etcd.KeyClientKey, etcd.KeyClientCA)
	if err != nil {
		return ClusterInfo{}, err
	}
	return ClusterInfo{
		Cluster:     m[KeyCluster],
		Credentials: etcd.Credentials{ClientCert: m[etcd.KeyClientCert], ClientKey: m[etcd.KeyClientKey], ClientCA: m[etcd.KeyClientCA]},
	}, nil
}
