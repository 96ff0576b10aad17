package cluster

import (
	"testing"
)

// TestTurnOneHolderAtATime: a turn is held by one name at a time; a second taker learns who holds it; a
// released turn, and a stale holding broken by its revision, can be taken again.
func TestTurnOneHolderAtATime(t *testing.T) {
	tc := newTestCluster(t)
	m := tc.bootstrap(1)[0]
	cli := tc.rootClient(m)
	const key = "/charm/turn"

	first, _, err := cli.TakeTurn(opContext(t), key, "etcd-0", 30)
	if err != nil || first == nil {
		t.Fatalf("first take: %v, %v", first, err)
	}
	second, holder, err := cli.TakeTurn(opContext(t), key, "etcd-1", 30)
	if err != nil || second != nil {
		t.Fatalf("second take while held: %v, %v", second, err)
	}
	if holder.Name != "etcd-0" || holder.Lease == 0 {
		t.Fatalf("holder %+v, want etcd-0 on a lease", holder)
	}
	must(t, first.Release(opContext(t)))
	again, _, err := cli.TakeTurn(opContext(t), key, "etcd-1", 30)
	if err != nil || again == nil {
		t.Fatalf("take after release: %v, %v", again, err)
	}
	must(t, again.Release(opContext(t)))

	// A key written without a lease (by hand, or by a client that may write there) never expires.
	if _, err := cli.Raw().Put(opContext(t), key, "stray"); err != nil {
		t.Fatal(err)
	}
	_, stray, err := cli.TakeTurn(opContext(t), key, "etcd-0", 30)
	if err != nil || stray.Name != "stray" || stray.Lease != 0 {
		t.Fatalf("stray holder %+v, %v", stray, err)
	}
	// Breaking an older holding than the current one does nothing.
	if _, err := cli.Raw().Put(opContext(t), key, "newer"); err != nil {
		t.Fatal(err)
	}
	must(t, cli.BreakTurn(opContext(t), key, stray))
	if _, h, _ := cli.TakeTurn(opContext(t), key, "etcd-0", 30); h.Name != "newer" {
		t.Fatalf("breaking an old holding removed the newer one: holder %+v", h)
	}
	_, newer, _ := cli.TakeTurn(opContext(t), key, "etcd-0", 30)
	must(t, cli.BreakTurn(opContext(t), key, newer))
	taken, _, err := cli.TakeTurn(opContext(t), key, "etcd-0", 30)
	if err != nil || taken == nil {
		t.Fatalf("take after breaking the stale holding: %v, %v", taken, err)
	}
}
