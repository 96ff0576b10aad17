package etcd

import "path/filepath"

// Paths is where one unit's workload files live. Under Juju Root is "/";
// in the local model it is $LOCALJUJU_ROOT, so several units can share a
// machine without sharing files.
type Paths struct {
	Root string

	ConfigDir  string // /etc/etcd
	ConfigFile string // /etc/etcd/etcd.conf.yml
	DataDir    string // /var/lib/etcd, or <data storage>/etcd

	TLSDir      string // /etc/etcd/tls
	CACert      string // the cluster CA: what the peer listener trusts
	ServerCA    string // what clients verify the client listener with: the cluster CA plus any external CA offered
	ClientTrust string // the client listener's trust bundle: the cluster CA plus pinned client certificates
	MemberCert  string // serverAuth+clientAuth, SANs = unit addresses
	MemberKey   string
	// ServerPair is what the client listener serves, certificate chain and key in one file (etcd's cert-file
	// and key-file both name it), so a switch between the member certificate and an external CA's is one
	// rename: never a certificate beside another certificate's key.
	ServerPair     string
	ExternalKey    string // the key of this unit's requests to an external CA (tls-certificates v4); it stays here
	OperatorCert   string // the client listener's certificate signed with the operator's CA (config ca_certificate)
	RootClientCert string // CN=root, the charm's own etcd credential
	RootClientKey  string
	GatewayCert    string // no CN: what etcd's gRPC gateway presents on its own connection (no user)
	GatewayKey     string

	Binary  string // /usr/local/bin/etcd, the multi-call charm binary
	Etcdctl string // /usr/local/bin/etcdctl wrapper script
	Etcdutl string // /usr/local/bin/etcdutl wrapper script

	UnitFile string // /etc/systemd/system/etcd.service
}

// ServiceName is the systemd unit name the charm manages.
const ServiceName = "etcd.service"

// NewPaths lays out the unit's files under root. dataStorage is the
// location of the charm's `data` storage as storage-get reports it (already
// a real path on this host, so it is not joined under root), or "" for the
// default /var/lib/etcd under root. etcd gets a subdirectory of the storage
// mount rather than the mount point itself: etcd wants its data dir at mode
// 0700 and free of foreign entries such as lost+found, neither of which the
// charm controls for a mount point.
func NewPaths(root, dataStorage string) Paths {
	if root == "" {
		root = "/"
	}
	under := func(p string) string { return filepath.Join(root, p) }
	dataDir := under("/var/lib/etcd")
	if dataStorage != "" {
		dataDir = filepath.Join(dataStorage, "etcd")
	}
	configDir := under("/etc/etcd")
	tlsDir := filepath.Join(configDir, "tls")
	return Paths{
		Root:           root,
		ConfigDir:      configDir,
		ConfigFile:     filepath.Join(configDir, "etcd.conf.yml"),
		DataDir:        dataDir,
		TLSDir:         tlsDir,
		CACert:         filepath.Join(tlsDir, "ca.crt"),
		ServerCA:       filepath.Join(tlsDir, "server-ca.crt"),
		ClientTrust:    filepath.Join(tlsDir, "client-ca.crt"),
		MemberCert:     filepath.Join(tlsDir, "member.crt"),
		MemberKey:      filepath.Join(tlsDir, "member.key"),
		ServerPair:     filepath.Join(tlsDir, "server.pem"),
		ExternalKey:    filepath.Join(tlsDir, "external.key"),
		OperatorCert:   filepath.Join(tlsDir, "operator.crt"),
		RootClientCert: filepath.Join(tlsDir, "root.crt"),
		RootClientKey:  filepath.Join(tlsDir, "root.key"),
		GatewayCert:    filepath.Join(tlsDir, "gateway.crt"),
		GatewayKey:     filepath.Join(tlsDir, "gateway.key"),
		Binary:         under("/usr/local/bin/etcd"),
		Etcdctl:        under("/usr/local/bin/etcdctl"),
		Etcdutl:        under("/usr/local/bin/etcdutl"),
		UnitFile:       filepath.Join(under("/etc/systemd/system"), ServiceName),
	}
}

// MemberTLS is the TLSFiles for both of etcd's listeners.
func (p Paths) MemberTLS() TLSFiles {
	return TLSFiles{TrustedCAFile: p.CACert, CertFile: p.MemberCert, KeyFile: p.MemberKey}
}
