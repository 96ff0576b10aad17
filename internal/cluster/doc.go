// Package cluster is the charm's thin layer for talking to a running etcd
// cluster over clientv3: membership (learner add, promote, remove, leader
// transfer), endpoint health and status, RBAC users and roles, and
// maintenance (snapshot, compaction, defragmentation, alarms, hashes).
//
// Every call takes a context and is bounded by it. Calls that etcd refuses
// only transiently (a member add inside the 5 s window after a membership
// change, a promotion before the learner has caught up) retry with backoff
// until the context ends, so a hook can give each step a deadline and move on.
//
// Errors keep etcd's own error in their chain and, where the charm has to
// decide on it, also one of this package's sentinel errors (ErrUnhealthyCluster,
// ErrLearnerNotReady, ...), so callers use errors.Is instead of matching text.
package cluster
