package etcdproxy

import "github.com/etcd-charm/etcd/interfaces/etcd"

// Requirer reads what etcd units publish on one of this charm's endpoints of interface `etcd-proxy`.
type Requirer struct {
	Endpoint string // e.g. "proxy"
}

// ClusterInfo is what an etcd proxy needs: the member list and client credentials.
type ClusterInfo struct {
	Cluster          string
	ConnectionString string // the client URLs, from providers that publish them (ours); empty from the classic charm
	etcd.Credentials
}

// ClientURLs are the members' client URLs when the provider published them, else nil.
func (i ClusterInfo) ClientURLs() []string {
	return etcd.Connection{ConnectionString: i.ConnectionString}.Endpoints()
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
	m, err := etcd.MergedUnitData(relationID, KeyCluster, KeyConnectionString, etcd.KeyClientCert, etcd.KeyClientKey, etcd.KeyClientCA)
	if err != nil {
		return ClusterInfo{}, err
	}
	return ClusterInfo{
		Cluster:          m[KeyCluster],
		ConnectionString: m[KeyConnectionString],
		Credentials:      etcd.Credentials{ClientCert: m[etcd.KeyClientCert], ClientKey: m[etcd.KeyClientKey], ClientCA: m[etcd.KeyClientCA]},
	}, nil
}
