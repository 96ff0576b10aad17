package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// TestGrowByLearnersThenShrink walks the charm's scale-out and scale-in
// path: single seed, learner add, promote, three voters; then leadership
// moves off a member before it is removed.
func TestGrowByLearnersThenShrink(t *testing.T) {
	tc := newTestCluster(t)
	seed := tc.bootstrap(1)[0]
	c := tc.rootClient(seed)

	joined := []*testMember{seed}
	for _, name := range []string{"m2", "m3"} {
		m := tc.newMember(name)
		learner, members, err := c.AddLearner(opContext(t), []string{m.peerURL})
		if err != nil {
			t.Fatalf("add learner %s: %v", name, err)
		}
		if !learner.IsLearner || learner.Started() || len(members) != len(joined)+1 {
			t.Fatalf("add learner %s: got %+v with %d members, want an unstarted learner among %d", name, learner, len(members), len(joined)+1)
		}

		// A re-run hook asks again: same member back, no second add.
		again, _, err := c.AddLearner(opContext(t), []string{m.peerURL})
		if err != nil || again.ID != learner.ID {
			t.Fatalf("repeat add learner %s: got %x, %v; want %x", name, again.ID, err, learner.ID)
		}
		// etcd allows one learner at a time; the charm must see that as such.
		other := tc.newMember(name + "-extra")
		if _, _, err := c.AddLearner(opContext(t), []string{other.peerURL}); !errors.Is(err, ErrTooManyLearners) {
			t.Fatalf("second learner while %s waits: got %v, want ErrTooManyLearners", name, err)
		}

		// The joiner's initial-cluster is the membership AddLearner returned.
		tc.start(m, embed.ClusterStateFlagExisting, initialCluster(append(slices.Clone(joined), m)...))
		m.waitReady(t)
		// A learner cannot serve linearizable reads; health checks it with a
		// serializable one and leaves it out of the quorum arithmetic.
		waitFor(t, "learner "+name+" serving", func() (bool, error) {
			r, err := c.Health(opContext(t), []string{m.clientURL})
			if err != nil {
				return false, err
			}
			e := r.Endpoints[0]
			return e.Healthy && e.Status != nil && e.Status.IsLearner && e.Member.ID == learner.ID &&
				r.Voters == len(joined), e.Err
		})
		if err := c.Promote(opContext(t), learner.ID); err != nil {
			t.Fatalf("promote %s: %v", name, err)
		}
		if got, err := c.Member(opContext(t), learner.ID); err != nil || got.IsLearner || got.Name != name {
			t.Fatalf("member %s after promote: %+v, %v", name, got, err)
		}
		// Promoting a voter again is a no-op, as a re-run hook needs.
		if err := c.Promote(opContext(t), learner.ID); err != nil {
			t.Fatalf("repeat promote %s: %v", name, err)
		}
		joined = append(joined, m)
	}

	members, err := c.Members(opContext(t))
	if err != nil {
		t.Fatalf("members: %v", err)
	}
	if len(members) != 3 {
		t.Fatalf("got %d members, want 3: %+v", len(members), members)
	}
	for _, m := range members {
		if m.IsLearner || !m.Started() || len(m.ClientURLs) != 1 {
			t.Fatalf("member %+v: want a started voter with one client URL", m)
		}
	}

	// Reach every member from now on: the seed may be the one removed.
	c = tc.rootClient(joined...)
	leader, err := c.Leader(opContext(t))
	if err != nil {
		t.Fatalf("leader: %v", err)
	}
	i := slices.IndexFunc(members, func(m Member) bool { return m.ID != leader.ID })
	target := members[i]
	if err := c.MoveLeader(opContext(t), target.ID); err != nil {
		t.Fatalf("move leader %s -> %s: %v", leader.IDString(), target.IDString(), err)
	}
	waitFor(t, "leadership on "+target.Name, func() (bool, error) {
		l, err := c.Leader(opContext(t))
		return err == nil && l.ID == target.ID, err
	})
	// Asking for the current leader is a no-op.
	if err := c.MoveLeader(opContext(t), target.ID); err != nil {
		t.Fatalf("move leader to itself: %v", err)
	}

	if err := c.Remove(opContext(t), leader.ID); err != nil {
		t.Fatalf("remove former leader %s: %v", leader.Name, err)
	}
	if err := c.Remove(opContext(t), leader.ID); err != nil {
		t.Fatalf("repeat remove: %v", err)
	}
	if _, err := c.Member(opContext(t), leader.ID); !errors.Is(err, ErrMemberNotFound) {
		t.Fatalf("removed member lookup: got %v, want ErrMemberNotFound", err)
	}
	if err := c.Promote(opContext(t), leader.ID); !errors.Is(err, ErrMemberNotFound) {
		t.Fatalf("promote removed member: got %v, want ErrMemberNotFound", err)
	}

	waitFor(t, "two healthy voters", func() (bool, error) {
		r, err := c.Health(opContext(t), nil)
		return err == nil && r.Healthy() && r.Voters == 2 && r.HealthyVoters == 2 && r.Leader == target.ID, err
	})
}

// TestTwoUnitsAddingLearnersAtOnceGetAnAnswerPromptly: raft takes one membership change at a time and drops
// a second proposed before the first is applied, without telling the proposer. Two units joining together
// (as after a restore, when every other unit rejoins at once) must each get an answer, the member added or
// too many learners, in a few seconds, not wait out their deadline.
func TestTwoUnitsAddingLearnersAtOnceGetAnAnswerPromptly(t *testing.T) {
	tc := newTestCluster(t)
	seed := tc.bootstrap(1)[0]
	c := tc.rootClient(seed)
	for round := range 5 {
		a, b := tc.newMember(fmt.Sprintf("a%d", round)), tc.newMember(fmt.Sprintf("b%d", round))
		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		errs := make(chan error, 2)
		started := time.Now()
		for _, m := range []*testMember{a, b} {
			go func() {
				_, _, err := c.AddLearner(ctx, []string{m.peerURL})
				errs <- err
			}()
		}
		var added int
		for range 2 {
			switch err := <-errs; {
			case err == nil:
				added++
			case errors.Is(err, ErrTooManyLearners):
			default:
				t.Fatalf("round %d: %v after %s", round, err, time.Since(started))
			}
		}
		cancel()
		if took := time.Since(started); added != 1 || took > 20*time.Second {
			t.Fatalf("round %d: %d learners added in %s; want exactly one, answered well before the 40s deadline", round, added, took)
		}
		// Take the learner out again for the next round.
		members, err := c.Members(opContext(t))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range members {
			if m.IsLearner {
				if err := c.Remove(opContext(t), m.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// Given a cluster with authentication on and a client that reaches only a follower, when a caught-up learner is
// promoted, then the promotion lands within a request timeout: a follower forwards MemberPromote to the raft
// leader without the identity of a certificate-authenticated client, and the leader refuses it as "user name
// is empty" until the follower gives up (etcd#20757, still so in 3.7 for client certificates).
func TestGivenAuthOnWhenALearnerIsPromotedThroughAFollowerThenThePromotionLands(t *testing.T) {
	tc := newTestCluster(t)
	voters := tc.bootstrap(2)
	root := tc.rootClient(voters...)
	if err := root.EnableAuth(opContext(t), "root-secret"); err != nil {
		t.Fatalf("enable auth: %v", err)
	}
	leader, err := root.Leader(opContext(t))
	if err != nil {
		t.Fatal(err)
	}
	follower := voters[0]
	if follower.name == leader.Name {
		follower = voters[1]
	}
	m := tc.newMember("m3")
	learner, _, err := root.AddLearner(opContext(t), []string{m.peerURL})
	if err != nil {
		t.Fatalf("add learner: %v", err)
	}
	tc.start(m, embed.ClusterStateFlagExisting, initialCluster(voters[0], voters[1], m))
	m.waitReady(t)

	viaFollower := tc.rootClient(follower)
	// Well inside the 5 s the follower spends retrying the refused forward.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := viaFollower.Promote(ctx, learner.ID); err != nil {
		t.Fatalf("promote through follower %s: %v", follower.name, err)
	}
	if got, err := root.Member(opContext(t), learner.ID); err != nil || got.IsLearner {
		t.Fatalf("member after promote: %+v, %v", got, err)
	}
}
