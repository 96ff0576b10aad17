// Package etcd speaks the `etcd` relation interface, the classic etcd charm's `db` endpoint, on both sides.
//
// Everything travels as raw strings in unit databags: each etcd unit writes connection_string (sorted
// https://host:port list), version, client_cert, client_key and client_ca into its own bag, and
// consumers merge the units' bags key by key.
//
// Provider (the etcd charm, on every started member, in any hook):
//
//	for _, id := range dbRelationIDs {
//		err := etcd.Publish(id, etcd.ProviderData{
//			ConnectionString: etcd.ConnectionString(memberClientURLs),
//			Version:          "3.6.16",
//			Credentials:      etcd.Credentials{ClientCert: cert, ClientKey: key, ClientCA: ca},
//		})
//		...
//	}
//
// Requirer (a Go charm with `requires: etcd: {interface: etcd}`):
//
//	db := etcd.Requirer{Endpoint: "etcd"}
//	ids, err := db.RelationIDs()
//	conn, err := db.Connection(ids[0])
//	if conn.Available() && conn.TLSAvailable() {
//		err = conn.Save("/etc/myapp/etcd/client.key", "/etc/myapp/etcd/client.crt", "/etc/myapp/etcd/ca.crt")
//		// conn.Endpoints() are the https:// client URLs; conn.Version the etcd version.
//	}
package etcd
