// Package etcd holds what the charm writes for its workload: etcd's YAML
// configuration file, the systemd unit that runs it, the etcdctl/etcdutl
// wrapper scripts, the unit's file layout under a filesystem root, and a
// read-only look at an existing data dir's identity.
//
// Everything here renders deterministically so the charm can compare the
// bytes it would write with what is on disk and restart etcd only when
// something actually changed.
package etcd
