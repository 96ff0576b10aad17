package charm

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/cluster"
)

// unitStatus is one line a person understands at a glance. "Healthy with N known peers" is the classic
// charm's wording, kept because operators grep for it.
func unitStatus(peerURL string, r cluster.HealthReport) (goops.StatusName, string) {
	var self *cluster.EndpointHealth
	for i := range r.Endpoints {
		if slices.Contains(r.Endpoints[i].Member.PeerURLs, peerURL) {
			self = &r.Endpoints[i]
		}
	}
	peers := fmt.Sprintf("%d known peer%s", len(r.Members), plural(len(r.Members)))
	switch {
	case !r.HasQuorum():
		return goops.StatusBlocked, fmt.Sprintf("cluster has lost quorum: %d of %d voting members healthy",
			r.HealthyVoters, r.Voters)
	case self == nil:
		return goops.StatusWaiting, "member not yet in the health report"
	case self.Member.IsLearner:
		return goops.StatusMaintenance, "learner catching up with the raft leader"
	case len(r.Alarms) > 0:
		return goops.StatusBlocked, alarmMessage(r.Alarms)
	case !self.Healthy:
		return goops.StatusWaiting, "member unhealthy: " + shortErr(self.Err)
	}
	msg := "Healthy with " + peers
	if r.Leader != 0 && r.Leader == self.Member.ID {
		msg += ", raft leader"
	}
	return goops.StatusActive, msg
}

func alarmMessage(alarms []cluster.Alarm) string {
	names := make([]string, len(alarms))
	for i, a := range alarms {
		names[i] = a.String()
	}
	msg := "etcd alarm raised: " + strings.Join(names, ", ")
	for _, a := range alarms {
		if a.Type == cluster.AlarmNoSpace {
			return msg + "; writes refused: run the compact, defrag and alarm-disarm actions, or raise quota_backend_bytes"
		}
	}
	return msg + "; free space (compact, then defrag), then run the alarm-disarm action"
}

// appStatus summarises the cluster for `juju status`'s application line.
func appStatus(r cluster.HealthReport) (goops.StatusName, string) {
	leader := "no raft leader"
	for _, m := range r.Members {
		if m.ID == r.Leader {
			leader = "raft leader " + unitOfMember(m)
		}
	}
	verdict := "cluster healthy"
	st := goops.StatusActive
	switch {
	case !r.HasQuorum():
		st, verdict = goops.StatusBlocked, "quorum lost"
	case len(r.Alarms) > 0:
		st, verdict = goops.StatusBlocked, alarmMessage(r.Alarms)
	case !r.Healthy() || r.HealthyVoters < r.Voters:
		st, verdict = goops.StatusActive, fmt.Sprintf("degraded: %d of %d voters healthy", r.HealthyVoters, r.Voters)
	}
	return st, fmt.Sprintf("%d member%s, %s, %s", len(r.Members), plural(len(r.Members)), leader, verdict)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// unitOfMember names the unit behind a member: member names are unit names with the slash replaced.
func unitOfMember(m cluster.Member) string {
	if i := strings.LastIndex(m.Name, "-"); i > 0 {
		return m.Name[:i] + "/" + m.Name[i+1:]
	}
	return memberLabel(m)
}
