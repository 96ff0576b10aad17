package charm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// aliveUnits are the model's etcd units that are not going away.
func aliveUnits(t *testing.T, m *client.Model) []string {
	t.Helper()
	infos, err := m.Units(context.Background())
	if err != nil {
		t.Fatalf("listing units: %v", err)
	}
	var names []string
	for _, u := range infos {
		if strings.HasPrefix(u.Name, "etcd/") && (u.Life == "" || u.Life == "alive") {
			names = append(names, u.Name)
		}
	}
	sort.Strings(names)
	return names
}

// serverCA is what the charm's own clients verify members with (server-ca.crt: the cluster CA and any
// external CA offered), or the cluster CA on a unit of an older charm that has no such file.
func serverCA(tlsDir string, read func(string) []byte) []byte {
	if data, err := os.ReadFile(filepath.Join(tlsDir, "server-ca.crt")); err == nil {
		return data
	}
	return read("ca.crt")
}

// adminClient dials every unit with the root client certificate the charm keeps on one unit's disk.
func adminClient(t *testing.T, m *client.Model) *cluster.Client {
	t.Helper()
	ctx := context.Background()
	infos, err := m.Units(ctx)
	if err != nil {
		t.Fatalf("listing units: %v", err)
	}
	var endpoints []string
	var tlsDir string
	for _, u := range infos {
		if !strings.HasPrefix(u.Name, "etcd/") {
			continue
		}
		endpoints = append(endpoints, "https://"+u.Address+":2379")
		if tlsDir == "" {
			tlsDir = filepath.Join(u.Root, "etc/etcd/tls")
		}
	}
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(tlsDir, name))
		if err != nil {
			t.Fatalf("reading %s: %v", name, err)
		}
		return data
	}
	cli, err := cluster.Dial(ctx, cluster.Options{Endpoints: endpoints,
		CertPEM: read("root.crt"), KeyPEM: read("root.key"), CAPEM: serverCA(tlsDir, read)})
	if err != nil {
		t.Fatalf("dialling the cluster: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// assertCluster: the member list equals the unit set, every member is a healthy voter, and every key written
// so far reads back.
func assertCluster(t *testing.T, m *client.Model, keys map[string]string) {
	t.Helper()
	units := aliveUnits(t, m)
	cli := adminClient(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	members, err := cli.Members(ctx)
	if err != nil {
		t.Fatalf("member list: %v", err)
	}
	var names []string
	var endpoints []string
	for _, mem := range members {
		if mem.IsLearner {
			t.Errorf("member %s is still a learner", mem.Name)
		}
		names = append(names, strings.Replace(mem.Name, "-", "/", 1))
		endpoints = append(endpoints, mem.ClientURLs...)
	}
	sort.Strings(names)
	if !slices.Equal(names, units) {
		t.Fatalf("members %v, units %v", names, units)
	}
	report, err := cli.Health(ctx, endpoints)
	if err != nil {
		t.Fatalf("health: %v", err)
	}
	if !report.Healthy() || report.HealthyVoters != len(units) {
		t.Fatalf("cluster not fully healthy: %d of %d voters, alarms %v", report.HealthyVoters, report.Voters, report.Alarms)
	}
	for k, v := range keys {
		resp, err := cli.Raw().Get(ctx, k)
		if err != nil {
			t.Fatalf("get %s: %v", k, err)
		}
		if len(resp.Kvs) != 1 || string(resp.Kvs[0].Value) != v {
			t.Fatalf("key %s: got %v, want %q", k, resp.Kvs, v)
		}
	}
}

func put(t *testing.T, m *client.Model, keys map[string]string, k, v string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := adminClient(t, m).Raw().Put(ctx, k, v); err != nil {
		t.Fatalf("put %s: %v", k, err)
	}
	keys[k] = v
}

// raftLeaderUnit names the unit whose member leads raft.
func raftLeaderUnit(t *testing.T, m *client.Model) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	leader, err := adminClient(t, m).Leader(ctx)
	if err != nil {
		t.Fatalf("finding the raft leader: %v", err)
	}
	return strings.Replace(leader.Name, "-", "/", 1)
}

func TestGivenOneUnitWhenScaledUpTo5AndDownTo1ThenMembershipFollowsAndNoKeyIsLost(t *testing.T) {
	m := newModel(t)
	ctx := context.Background()
	keys := map[string]string{}
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 1}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 3*time.Minute)
	assertCluster(t, m, keys)
	put(t, m, keys, "step/1", "one unit")

	for _, target := range []int{3, 5} {
		if _, err := m.AddUnit(ctx, "etcd", target-len(aliveUnits(t, m))); err != nil {
			t.Fatal(err)
		}
		waitActive(t, m, 5*time.Minute)
		assertCluster(t, m, keys)
		put(t, m, keys, fmt.Sprintf("step/%d", target), fmt.Sprintf("%d units", target))
	}

	leader := raftLeaderUnit(t, m)
	t.Logf("removing %s, the raft leader's unit", leader)
	if err := m.RemoveUnit(ctx, leader); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 5*time.Minute)
	assertCluster(t, m, keys)
	put(t, m, keys, "step/4", "leader removed")

	for len(aliveUnits(t, m)) > 1 {
		units := aliveUnits(t, m)
		if err := m.RemoveUnit(ctx, units[len(units)-1]); err != nil {
			t.Fatal(err)
		}
		waitActive(t, m, 5*time.Minute)
		assertCluster(t, m, keys)
	}
}
