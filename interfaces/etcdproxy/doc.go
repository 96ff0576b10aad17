// Package etcdproxy speaks the `etcd-proxy` relation interface (the classic etcd charm's `proxy` endpoint).
//
// Each etcd unit writes, as raw strings into its own unit databag, `cluster` (name=peerURL,... of the
// members, the form of etcd's --initial-cluster) and the same client_cert, client_key and client_ca as on
// the `etcd` interface.
//
// Provider:
//
//	cluster := etcdproxy.ClusterString([]etcdproxy.Member{{Name: "etcd0", PeerURL: "https://10.0.0.1:2380"}})
//	err := etcdproxy.Publish(relationID, etcdproxy.ProviderData{Cluster: cluster, Credentials: creds})
//
// Requirer (a charm with `requires: proxy: {interface: etcd-proxy}`):
//
//	info, err := etcdproxy.Requirer{Endpoint: "proxy"}.ClusterInfo(relationID)
//	if info.Available() && info.Complete() {
//		members, err := info.Members() // run `etcd --proxy on --initial-cluster <info.Cluster>` ...
//		err = info.Save(keyPath, certPath, caPath)
//	}
package etcdproxy
