package charm

import (
	"fmt"
	"os"
	"path/filepath"
)

// paths are the workload's files on this machine, joined under the unit's filesystem root.
type paths struct {
	configDir, configFile, tlsDir      string
	caCert, memberCert, memberKey      string
	clientCert, clientKey              string
	dataDir, unitFile, binary, etcdctl string
	credentialsDir                     string
}

const serviceName = "etcd"

func workloadPaths(root string) (paths, error) {
	j := func(p string) string { return filepath.Join(root, p) }
	p := paths{
		configDir:      j("/etc/etcd"),
		configFile:     j("/etc/etcd/etcd.conf.yml"),
		tlsDir:         j("/etc/etcd/tls"),
		dataDir:        j("/var/lib/etcd"),
		unitFile:       j("/etc/systemd/system/" + serviceName + ".service"),
		binary:         j("/usr/local/bin/etcd"),
		etcdctl:        j("/usr/local/bin/etcdctl"),
		credentialsDir: j("/home/ubuntu"),
	}
	p.caCert = filepath.Join(p.tlsDir, "ca.crt")
	p.memberCert = filepath.Join(p.tlsDir, "member.crt")
	p.memberKey = filepath.Join(p.tlsDir, "member.key")
	p.clientCert = filepath.Join(p.tlsDir, "client.crt")
	p.clientKey = filepath.Join(p.tlsDir, "client.key")
	if err := os.MkdirAll(p.tlsDir, 0o700); err != nil {
		return p, fmt.Errorf("creating %s: %w", p.tlsDir, err)
	}
	return p, nil
}
