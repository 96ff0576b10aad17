package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/etcd-charm/etcd/internal/cluster"
)

// Status is a Juju workload status name.
type Status string

// The workload statuses the charm sets.
const (
	Active      Status = "active"
	Blocked     Status = "blocked"
	Waiting     Status = "waiting"
	Maintenance Status = "maintenance"
)

// UnitStatus is one line a person understands at a glance. "Healthy with N known peers" is the classic
// charm's wording, kept because operators grep for it.
func UnitStatus(peerURL string, r cluster.HealthReport) (Status, string) {
	var self *cluster.EndpointHealth
	for i := range r.Endpoints {
		if slices.Contains(r.Endpoints[i].Member.PeerURLs, peerURL) {
			self = &r.Endpoints[i]
		}
	}
	peers := fmt.Sprintf("%d known peer%s", len(r.Members), plural(len(r.Members), "", "s"))
	switch {
	case !r.HasQuorum():
		return Blocked, fmt.Sprintf("cluster has lost quorum: %d of %d voting members healthy",
			r.HealthyVoters, r.Voters)
	case self == nil:
		return Waiting, "member not yet in the health report"
	case self.Member.IsLearner:
		return Maintenance, "learner catching up with the raft leader"
	case len(r.Alarms) > 0:
		return Blocked, AlarmMessage(r.Alarms)
	case !self.Healthy:
		return Waiting, "member unhealthy: " + ShortErr(self.Err)
	}
	msg := "Healthy with " + peers
	if r.Leader != 0 && r.Leader == self.Member.ID {
		msg += ", raft leader"
	}
	return Active, msg
}

// AlarmPrefix starts every status message that names raised alarms.
const AlarmPrefix = "etcd alarm raised: "

// AlarmNames lists the alarms as a person reads them: "NOSPACE on member 8e9e05c52164694d, ...".
func AlarmNames(alarms []cluster.Alarm) string {
	names := make([]string, len(alarms))
	for i, a := range alarms {
		names[i] = a.String()
	}
	return strings.Join(names, ", ")
}

// AlarmMessage names the raised alarms and the way out of them.
func AlarmMessage(alarms []cluster.Alarm) string {
	msg := AlarmPrefix + AlarmNames(alarms)
	for _, a := range alarms {
		if a.Type == cluster.AlarmNoSpace {
			return msg + "; writes refused: run the compact, defrag and alarm-disarm actions (delete keys first if the live data fills the quota), or raise quota_backend_bytes"
		}
	}
	for _, a := range alarms {
		if a.Type == cluster.AlarmCorrupt {
			return msg + "; writes refused: that member's data differs from the others'; with replacement_policy=auto " +
				"its unit replaces it, otherwise remove that unit and add another, then run the alarm-disarm action"
		}
	}
	return msg + "; run the alarm-disarm action once its cause is gone"
}

// AppStatus summarises the cluster for `juju status`'s application line.
func AppStatus(r cluster.HealthReport) (Status, string) {
	leader := "no raft leader"
	for _, m := range r.Members {
		if m.ID == r.Leader {
			leader = "raft leader " + UnitOfMember(m)
		}
	}
	verdict := "cluster healthy"
	st := Active
	switch {
	case !r.HasQuorum():
		st, verdict = Blocked, "quorum lost"
	case len(r.Alarms) > 0:
		st, verdict = Blocked, AlarmMessage(r.Alarms)
	case !r.Healthy() || r.HealthyVoters < r.Voters:
		st, verdict = Active, fmt.Sprintf("degraded: %d of %d voters healthy", r.HealthyVoters, r.Voters)
	}
	return st, fmt.Sprintf("%d member%s, %s, %s", len(r.Members), plural(len(r.Members), "", "s"), leader, verdict)
}

// HealthSeen is what a unit that does not lead publishes so that the leader sets the application status
// again: the revision of the status the leader published with this unit's own verdict, when the two differ;
// "" when they agree or nothing was published yet (the leader's first hook sets it anyway). The revision
// makes the same disagreement about the same published status one bag change, whatever the hook count, and
// a later status the unit disagrees with again a new one.
func HealthSeen(publishedRevision, published, seen string) string {
	if publishedRevision == "" || published == seen {
		return ""
	}
	return publishedRevision + ": " + seen
}

// UnitOfMember names the unit behind a member: member names are unit names with the slash replaced.
func UnitOfMember(m cluster.Member) string {
	if i := strings.LastIndex(m.Name, "-"); i > 0 {
		return m.Name[:i] + "/" + m.Name[i+1:]
	}
	return MemberLabel(m)
}

// ShortErr bounds an error for a status line.
func ShortErr(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

// HealthOutput is the health action's text, in the classic charm's wording (etcdctl endpoint health), and
// its results.
func HealthOutput(r cluster.HealthReport) (string, map[string]string) {
	var b strings.Builder
	results := map[string]string{}
	for _, e := range r.Endpoints {
		id := e.Member.IDString()
		key := "members." + MemberLabel(e.Member)
		if e.Healthy {
			fmt.Fprintf(&b, "member %s is healthy: got healthy result from %s\n", id, e.Endpoint)
			results[key] = "healthy"
		} else {
			fmt.Fprintf(&b, "member %s is unhealthy: got unhealthy result from %s: %v\n", id, e.Endpoint, e.Err)
			results[key] = "unhealthy"
		}
	}
	verdict := "healthy"
	switch {
	case !r.HasQuorum():
		verdict = "unavailable"
	case !r.Healthy() || r.HealthyVoters < r.Voters:
		verdict = "degraded"
	}
	fmt.Fprintf(&b, "cluster is %s\n", verdict)
	if len(r.Alarms) > 0 {
		// Raised alarms make every member unhealthy; the way out is what the reader needs.
		fmt.Fprintln(&b, AlarmMessage(r.Alarms))
		results["alarms"] = AlarmNames(r.Alarms)
	}
	results["cluster"] = verdict
	results["healthy-voters"] = fmt.Sprint(r.HealthyVoters)
	results["voters"] = fmt.Sprint(r.Voters)
	return b.String(), results
}
