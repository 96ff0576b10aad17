// Package etcdclient speaks the `etcd_client` relation interface (contract v0 and v1) on both sides.
//
// The requirer's leader asks for a key prefix and hands over its client certificate in an application
// secret; the provider's leader creates an etcd user named after the certificate's CN with read/write on
// exactly that prefix, and answers with endpoints, version and two secrets: user {username, uris} and tls
// {tls-ca}. The client then authenticates to etcd with its own certificate; there is no password.
//
// Provider (the etcd charm's leader, on relation-changed and secret-changed):
//
//	reqs, problems, err := etcdclient.ReadRequests(relationID)
//	// decide: validate each req.Certificate() and req.Prefix, create users and trust...
//	responses := map[string]etcdclient.Response{}
//	for _, r := range reqs {
//		responses[r.Key()] = etcdclient.Response{Endpoints: hostPorts, URIs: urls, Version: "3.6.16",
//			Username: cert.Subject.CommonName, TLSCA: caPEM}
//	}
//	err = etcdclient.Publish(relationID, reqs, responses)
//	// on relation-broken:
//	err = etcdclient.Withdraw(relationID, nil)
//
// Requirer (a Go charm with `requires: etcd-client: {interface: etcd_client}`):
//
//	client := etcdclient.Requirer{Endpoint: "etcd-client"} // Version: etcdclient.V1 for the v1 contract
//	if leader {
//		err = client.Request(relationID, "/my-app/", myCertPEM) // again with a new cert to renew it
//	}
//	grant, err := client.Grant(relationID)
//	if grant.Ready() {
//		// dial grant.URIs with myCert/myKey and grant.TLSCA as the root CA; the etcd user is grant.Username.
//	}
package etcdclient
