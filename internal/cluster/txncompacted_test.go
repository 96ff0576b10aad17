package cluster

import (
	"fmt"
	"slices"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// etcd #18667: a transaction that writes and also reads at a compacted revision. Any etcd_client tenant may
// send one inside its own prefix. Given a compacted three-member cluster, when such a transaction is sent
// through each member in turn, then every member holds the same keys at the same revision afterwards, and
// exactly the writes the clients were told succeeded. etcd 3.6.16 fails this (each member lacks only the
// write it refused itself: the others applied it); the etcd this charm embeds (3.7) passes.
func TestGivenACompactedRevisionWhenATxnWritesAndReadsAtItThroughEachMemberThenTheMembersAgree(t *testing.T) {
	tc := newTestCluster(t)
	ms := tc.bootstrap(3)
	c := tc.rootClient(ms...)
	ctx := opContext(t)
	var rev int64
	for i := range 5 {
		resp, err := c.Raw().Put(ctx, fmt.Sprintf("/tenant/k%d", i), "v")
		if err != nil {
			t.Fatal(err)
		}
		rev = resp.Header.Revision
	}
	if _, err := c.Raw().Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}

	pinned := map[string]*Client{}
	for _, m := range ms {
		pinned[m.name] = tc.rootClient(m)
	}
	want := []string{"/tenant/k0", "/tenant/k1", "/tenant/k2", "/tenant/k3", "/tenant/k4"}
	for _, m := range ms {
		_, err := pinned[m.name].Raw().Txn(ctx).Then(
			clientv3.OpPut("/tenant/via-"+m.name, "written"),
			clientv3.OpGet("/tenant/k0", clientv3.WithRev(rev-2)),
		).Commit()
		t.Logf("txn through %s: %v", m.name, err)
		if err == nil {
			want = append(want, "/tenant/via-"+m.name)
		}
	}

	waitFor(t, "every member holding the same keys at the same revision", func() (bool, error) {
		var first []string
		var firstRev int64
		for i, m := range ms {
			resp, err := pinned[m.name].Raw().Get(ctx, "/tenant/", clientv3.WithPrefix(), clientv3.WithSerializable(), clientv3.WithKeysOnly())
			if err != nil {
				return false, err
			}
			var keys []string
			for _, kv := range resp.Kvs {
				keys = append(keys, string(kv.Key))
			}
			if i == 0 {
				first, firstRev = keys, resp.Header.Revision
				continue
			}
			if !slices.Equal(keys, first) || resp.Header.Revision != firstRev {
				return false, fmt.Errorf("%s holds %v at revision %d, %s holds %v at revision %d",
					ms[0].name, first, firstRev, m.name, keys, resp.Header.Revision)
			}
		}
		if !slices.Equal(first, want) {
			return false, fmt.Errorf("the members agree on %v, but the clients were told of %v", first, want)
		}
		return true, nil
	})
}
