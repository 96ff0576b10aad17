package etcd

import "testing"

func TestNewPaths(t *testing.T) {
	tests := []struct {
		name, root, storage                      string
		config, data, ca, key, bin, ctl, unitDir string
	}{
		{"juju", "/", "", "/etc/etcd/etcd.conf.yml", "/var/lib/etcd", "/etc/etcd/tls/ca.crt", "/etc/etcd/tls/member.key", "/usr/local/bin/etcd", "/usr/local/bin/etcdctl", "/etc/systemd/system/etcd.service"},
		{"unset root means /", "", "", "/etc/etcd/etcd.conf.yml", "/var/lib/etcd", "/etc/etcd/tls/ca.crt", "/etc/etcd/tls/member.key", "/usr/local/bin/etcd", "/usr/local/bin/etcdctl", "/etc/systemd/system/etcd.service"},
		{"local model", "/tmp/lj/u0", "", "/tmp/lj/u0/etc/etcd/etcd.conf.yml", "/tmp/lj/u0/var/lib/etcd", "/tmp/lj/u0/etc/etcd/tls/ca.crt", "/tmp/lj/u0/etc/etcd/tls/member.key", "/tmp/lj/u0/usr/local/bin/etcd", "/tmp/lj/u0/usr/local/bin/etcdctl", "/tmp/lj/u0/etc/systemd/system/etcd.service"},
		{"data storage", "/", "/srv/data/0", "/etc/etcd/etcd.conf.yml", "/srv/data/0/etcd", "/etc/etcd/tls/ca.crt", "/etc/etcd/tls/member.key", "/usr/local/bin/etcd", "/usr/local/bin/etcdctl", "/etc/systemd/system/etcd.service"},
	}
	for _, tc := range tests {
		p := NewPaths(tc.root, tc.storage)
		got := []string{p.ConfigFile, p.DataDir, p.CACert, p.MemberKey, p.Binary, p.Etcdctl, p.UnitFile}
		want := []string{tc.config, tc.data, tc.ca, tc.key, tc.bin, tc.ctl, tc.unitDir}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: got %q, want %q", tc.name, got[i], want[i])
			}
		}
		if tls := p.MemberTLS(); tls.CertFile != p.MemberCert || tls.KeyFile != p.MemberKey || tls.TrustedCAFile != p.CACert {
			t.Errorf("%s: MemberTLS = %+v", tc.name, tls)
		}
	}
}
