package charm

import (
	"errors"
	"strings"
	"testing"

	"github.com/etcd-charm/etcd/internal/cluster"
)

func member(id uint64, name string, learner bool) cluster.Member {
	return cluster.Member{ID: id, Name: name, IsLearner: learner,
		PeerURLs: []string{"https://" + name + ":2380"}, ClientURLs: []string{"https://" + name + ":2379"}}
}

func report(leader uint64, members []cluster.Member, healthy map[uint64]bool) cluster.HealthReport {
	r := cluster.HealthReport{Members: members, Leader: leader}
	for _, m := range members {
		e := cluster.EndpointHealth{Endpoint: m.ClientURLs[0], Member: m, Serving: healthy[m.ID], Healthy: healthy[m.ID]}
		if !healthy[m.ID] {
			e.Err = errors.New("connection refused")
		}
		r.Endpoints = append(r.Endpoints, e)
		if !m.IsLearner {
			r.Voters++
			if healthy[m.ID] {
				r.HealthyVoters++
			}
		}
	}
	r.Quorum = r.Voters/2 + 1
	return r
}

func threeMembers() []cluster.Member {
	return []cluster.Member{member(1, "a", false), member(2, "b", false), member(3, "c", false)}
}

func TestGivenHealthReportWhenTheHealthActionFormatsItThenClassicWordingIsKept(t *testing.T) {
	out, results := healthOutput(report(1, threeMembers(), map[uint64]bool{1: true, 2: true, 3: true}))
	if !strings.HasSuffix(out, "cluster is healthy\n") || strings.Count(out, "is healthy: got healthy result from") != 3 {
		t.Fatalf("output:\n%s", out)
	}
	if results["cluster"] != "healthy" || results["members.b"] != "healthy" {
		t.Fatalf("results: %v", results)
	}
	out, results = healthOutput(report(1, threeMembers(), map[uint64]bool{1: true, 2: true}))
	if !strings.HasSuffix(out, "cluster is degraded\n") || results["members.c"] != "unhealthy" {
		t.Fatalf("degraded output:\n%s %v", out, results)
	}
}
