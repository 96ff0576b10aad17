// Package robustness records what concurrent clients saw of an etcd cluster while faults were injected and
// checks that record the way etcd's own robustness tests do: linearizability with porcupine against a
// key-value model in which a request that failed or timed out may or may not have taken effect, plus the
// invariants a deployment must keep (acknowledged writes survive, per-client revisions never go back,
// members agree on their data, membership matches the deployment, no alarm, a leader).
//
// It knows nothing of Juju or of the charm: a test deploys, injects the fault, and hands this package
// clients and, at the end, the membership it expects.
package robustness
