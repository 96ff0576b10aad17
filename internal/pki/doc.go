// Package pki is the charm's certificate authority toolkit: the CA kept in a
// Juju secret, per-unit keys and CSRs (the key never leaves its unit), signing
// by the leader, and the checks the charm needs to decide when to renew and
// whether a certificate supplied by a relation can be trusted.
//
// All keys are ECDSA P-256: small, fast to generate on every unit, and
// accepted by every etcd and Go TLS client we support.
package pki
