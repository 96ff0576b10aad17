package cluster

import (
	"context"
	"fmt"
	"testing"

	"go.etcd.io/etcd/api/v3/version"
)

// TestHealthWithStoppedMember: a stopped follower is reported unhealthy
// while the cluster verdict stays healthy on the remaining quorum.
func TestHealthWithStoppedMember(t *testing.T) {
	tc := newTestCluster(t)
	ms := tc.bootstrap(3)
	c := tc.rootClient(ms...)

	var r HealthReport
	waitFor(t, "all three members healthy", func() (bool, error) {
		var err error
		r, err = c.Health(opContext(t), nil)
		return err == nil && len(r.Unhealthy()) == 0 && r.Leader != 0, err
	})
	if len(r.Endpoints) != 3 || r.Voters != 3 || r.HealthyVoters != 3 || r.Quorum != 2 || !r.Healthy() || r.FailureTolerance() != 1 {
		t.Fatalf("healthy cluster report: %+v", r)
	}
	for _, e := range r.Endpoints {
		if e.Status == nil || e.Member.ID != e.Status.MemberID || e.Status.Version != version.Version || e.Status.DBSize <= 0 {
			t.Fatalf("endpoint %s: member %+v status %+v", e.Endpoint, e.Member, e.Status)
		}
	}

	leader, err := c.Leader(opContext(t))
	if err != nil {
		t.Fatalf("leader: %v", err)
	}
	var stopped *testMember
	for _, m := range ms {
		if m.name != leader.Name {
			stopped = m
			break
		}
	}
	stopped.stop()

	r, err = c.Health(opContext(t), nil)
	if err != nil {
		t.Fatalf("health with %s stopped: %v", stopped.name, err)
	}
	bad := r.Unhealthy()
	if len(bad) != 1 || bad[0].Endpoint != stopped.clientURL || bad[0].Err == nil || bad[0].Member.Name != stopped.name {
		t.Fatalf("unhealthy endpoints with %s stopped: %+v", stopped.name, bad)
	}
	if !r.Healthy() || r.HealthyVoters != 2 || r.Quorum != 2 || r.FailureTolerance() != 0 || r.Leader != leader.ID {
		t.Fatalf("cluster verdict with one follower down: %+v", r)
	}

	// An explicit endpoint list checks just those endpoints.
	r, err = c.Health(opContext(t), []string{ms[0].clientURL})
	if err != nil || len(r.Endpoints) != 1 || r.Endpoints[0].Endpoint != ms[0].clientURL {
		t.Fatalf("health of one endpoint: %+v, %v", r, err)
	}
}

// TestHashKVAgreesAcrossMembers: members that applied the same writes hash
// equal at the same revision.
func TestHashKVAgreesAcrossMembers(t *testing.T) {
	tc := newTestCluster(t)
	ms := tc.bootstrap(3)
	c := tc.rootClient(ms...)
	for i := range 20 {
		if _, err := c.Raw().Put(opContext(t), fmt.Sprintf("/hash/%02d", i), "v"); err != nil {
			t.Fatalf("put: %v", err)
		}
	}
	rev, err := c.Revision(opContext(t))
	if err != nil {
		t.Fatalf("revision: %v", err)
	}
	var first HashKV
	for i, m := range ms {
		var h HashKV
		// A follower may not have applied rev yet; HashKV then refuses with
		// a future-revision error, so wait for it.
		waitFor(t, "hash on "+m.name, func() (bool, error) {
			h, err = c.HashKV(opContext(t), m.clientURL, rev)
			return err == nil, err
		})
		if h.HashRevision != rev || h.Hash == 0 || h.MemberID == 0 {
			t.Fatalf("hash on %s: %+v", m.name, h)
		}
		if i == 0 {
			first = h
		} else if h.Hash != first.Hash {
			t.Fatalf("hash on %s = %x, on %s = %x at revision %d", m.name, h.Hash, ms[0].name, first.Hash, rev)
		}
	}
}

func BenchmarkHealth(b *testing.B) {
	tc := newTestCluster(b)
	ms := tc.bootstrap(3)
	c := tc.rootClient(ms...)
	ctx := context.Background()
	for b.Loop() {
		r, err := c.Health(ctx, nil)
		if err != nil || !r.Healthy() {
			b.Fatalf("health: %+v, %v", r, err)
		}
	}
}
