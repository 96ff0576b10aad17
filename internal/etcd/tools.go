package etcd

import (
	"fmt"
	"strings"
)

// EtcdctlScript renders the /usr/local/bin/etcdctl wrapper: it runs the
// multi-call binary in its etcdctl mode as the charm's root client, so an
// operator on the machine (as root; the key is 0600) can run
// `etcdctl member list` without flags. Flags given on the command line
// still override the ETCDCTL_* environment.
func EtcdctlScript(p Paths, endpoints []string) ([]byte, error) {
	if len(endpoints) == 0 {
		return nil, fmt.Errorf("etcdctl wrapper needs at least one endpoint")
	}
	for _, e := range endpoints {
		if err := checkURL(e, false, "https", "http"); err != nil {
			return nil, fmt.Errorf("etcdctl wrapper endpoint: %w", err)
		}
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n# Written by the etcd charm; local changes are overwritten.\n")
	env := [][2]string{
		{"ETCDCTL_ENDPOINTS", strings.Join(endpoints, ",")},
		{"ETCDCTL_CACERT", p.ServerCA},
		{"ETCDCTL_CERT", p.RootClientCert},
		{"ETCDCTL_KEY", p.RootClientKey},
	}
	for _, kv := range env {
		fmt.Fprintf(&b, "%s=%s\nexport %s\n", kv[0], shellQuote(kv[1]), kv[0])
	}
	fmt.Fprintf(&b, "exec %s etcdctl \"$@\"\n", shellQuote(p.Binary))
	return []byte(b.String()), nil
}

// EtcdutlScript renders the /usr/local/bin/etcdutl wrapper. etcdutl works
// on files offline, so it needs no credentials.
func EtcdutlScript(p Paths) []byte {
	return []byte("#!/bin/sh\n# Written by the etcd charm; local changes are overwritten.\n" +
		fmt.Sprintf("exec %s etcdutl \"$@\"\n", shellQuote(p.Binary)))
}

// shellQuote single-quotes s for POSIX sh, so roots with spaces (a local
// model under a temp dir) stay one word.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
