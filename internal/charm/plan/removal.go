package plan

import "github.com/etcd-charm/etcd/internal/cluster"

// SafeToRemove reports whether the healthy voters left after removing m still form a quorum of the smaller
// cluster.
func SafeToRemove(r cluster.HealthReport, m cluster.Member) bool {
	voters, healthy := r.Voters, r.HealthyVoters
	if !m.IsLearner {
		voters--
		if memberServing(r, m.ID) {
			healthy--
		}
	}
	if voters == 0 {
		return false
	}
	return healthy >= voters/2+1
}

// StopBeforeRemoval reports whether the others still form a quorum of today's voters without this member, so
// they can commit its removal alone. A voter of a 2-member cluster must stay up to vote for its own removal.
func StopBeforeRemoval(r cluster.HealthReport, me cluster.Member) bool {
	if me.IsLearner {
		return true
	}
	others := r.HealthyVoters
	if memberServing(r, me.ID) {
		others--
	}
	return others >= r.Quorum
}

// MemberServing reports whether member id answered the health check.
func MemberServing(r cluster.HealthReport, id uint64) bool { return memberServing(r, id) }
