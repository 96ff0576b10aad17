package pki

import "time"

const (
	// CALifetime is ten years. Rotating the CA needs a rolling restart of
	// every member (etcd builds its CA pool once at start), so it should be
	// rare; leaf certificates carry the security-relevant short lifetime.
	CALifetime = 10 * 365 * 24 * time.Hour

	// MemberLifetime is one year, matching etcdadm and etcd-operator. Leaf
	// certificates hot-reload on every handshake, so renewal is cheap, and
	// at the two-thirds threshold the charm has four months of update-status
	// hooks to notice and renew before anything expires.
	MemberLifetime = 365 * 24 * time.Hour

	// ClientLifetime is one year for the same reasons as MemberLifetime.
	ClientLifetime = 365 * 24 * time.Hour

	// backdate keeps freshly issued certificates valid on units whose clock
	// lags the leader's by a few minutes.
	backdate = 5 * time.Minute
)
