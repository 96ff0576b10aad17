package charm_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// fragment writes mib MiB under its own keys, deletes them and compacts, as an application that churns
// through data and etcd's auto-compaction would: the freed pages stay in every member's database file.
func fragment(t *testing.T, cli *cluster.Client, mib int) {
	t.Helper()
	value := strings.Repeat("f", 1<<20)
	for i := range mib {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := cli.Raw().Put(ctx, fmt.Sprintf("fragment/%04d", i), value)
		cancel()
		if err != nil {
			t.Fatalf("writing fragment %d: %v", i, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	resp, err := cli.Raw().Delete(ctx, "fragment/", clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("deleting the fragments: %v", err)
	}
	if err := cli.Compact(ctx, resp.Header.Revision, true); err != nil {
		t.Fatalf("compacting: %v", err)
	}
}

// dbSizes is each unit's member's database file size.
func dbSizes(t *testing.T, m *client.Model) map[string]int64 {
	t.Helper()
	cli := adminClient(t, m)
	out := map[string]int64{}
	for _, u := range aliveUnits(t, m) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		st, err := cli.EndpointStatus(ctx, "https://"+unitInfo(t, m, u).Address+":2379")
		cancel()
		if err != nil {
			t.Fatalf("status of %s: %v", u, err)
		}
		out[u] = st.DBSize
	}
	return out
}

// defragmented lists the members the charm defragmented, in order, from the debug log.
func defragmented(t *testing.T, m *client.Model) []string {
	t.Helper()
	return loggedUnits(t, m, "defragmenting etcd-")
}

// loggedUnits lists, in order, the units named by the debug log's lines that say marker followed by a
// member number ("restarting etcd-" then "1: ..." names etcd/1).
func loggedUnits(t *testing.T, m *client.Model, marker string) []string {
	t.Helper()
	lines, err := m.DebugLog("")
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, l := range lines {
		if _, rest, ok := strings.Cut(l, marker); ok {
			n, _, _ := strings.Cut(rest, ":")
			order = append(order, "etcd/"+n)
		}
	}
	return order
}

func TestGivenFragmentedMembersWhenAHookRunsThenTheLeaderDefragmentsThemFollowersFirstAndTheRaftLeaderLast(t *testing.T) {
	m := deploy3(t)
	keys := map[string]string{}
	put(t, m, keys, "kept", "through every defrag")
	raftLeader := raftLeaderUnit(t, m)
	fragment(t, adminClient(t, m), 150)
	before := dbSizes(t, m)
	for u, size := range before {
		if size < 150<<20 {
			t.Fatalf("%s's database is %d MiB after 150 MiB written and deleted: nothing to test", u, size>>20)
		}
	}
	// update-status every 20 s: the rule runs in the leader's next hook, with no operator.
	waitFor(t, 2*time.Minute, "every member defragmented", func() bool {
		for _, size := range dbSizes(t, m) {
			if size > 60<<20 {
				return false
			}
		}
		return true
	})
	order := defragmented(t, m)
	t.Logf("database files before %v, after %v; defragmented in the order %v (raft leader %s)", before, dbSizes(t, m), order, raftLeader)
	if len(order) != 3 || order[2] != raftLeader {
		t.Fatalf("defragmented %v: want the three members once each, the raft leader %s last", order, raftLeader)
	}
	waitActive(t, m, time.Minute)
	assertCluster(t, m, keys)
}

func TestGivenDefragPolicyAutoWhenTheQuotaFillsThenTheCharmCompactsDefragmentsAndDisarmsWithoutAnOperator(t *testing.T) {
	m := newModel(t)
	ctx := context.Background()
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 1,
		Config: map[string]string{"quota_backend_bytes": "104857600"}}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 3*time.Minute)
	cli := adminClient(t, m)
	fillUntilNoSpace(t, cli)
	waitFor(t, 2*time.Minute, "writes accepted again", func() bool {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := cli.Raw().Put(pctx, "writable", "again")
		return err == nil
	})
	if alarms, err := cli.Alarms(ctx); err != nil || len(alarms) != 0 {
		t.Fatalf("alarms after the charm's recovery: %v %v", alarms, err)
	}
	waitActive(t, m, time.Minute)
	assertCluster(t, m, map[string]string{"writable": "again"})
}

// fillUntilNoSpace overwrites one key with 1 MiB values until etcd refuses a write for lack of space.
func fillUntilNoSpace(t *testing.T, cli *cluster.Client) {
	t.Helper()
	value := strings.Repeat("x", 1<<20)
	for i := 0; i < 400; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := cli.Raw().Put(ctx, "fill", value)
		cancel()
		switch {
		case err != nil && strings.Contains(err.Error(), "database space exceeded"):
			return
		case err != nil:
			t.Fatalf("put %d: %v", i, err)
		}
	}
	t.Fatal("400 MiB of overwrites never reached the 100 MiB quota")
}
