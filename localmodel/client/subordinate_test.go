package client_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/charmpack"
	"github.com/etcd-charm/etcd/localmodel/client"
	"github.com/etcd-charm/etcd/localmodel/lmtest"
)

// subordinateTestCharm packs the test charm as a subordinate that requires juju-info in container scope,
// the shape of grafana-agent, opentelemetry-collector and nrpe.
func subordinateTestCharm(t *testing.T) string {
	t.Helper()
	b := lmtest.Build(t)
	meta, err := os.ReadFile(b.Charmcraft)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(meta), "name: testcharm", "name: subcharm\nsubordinate: true", 1)
	s = strings.Replace(s, "requires:\n", "requires:\n  juju-info:\n    interface: juju-info\n    scope: container\n", 1)
	dir := t.TempDir()
	yaml := filepath.Join(dir, "charmcraft.yaml")
	if err := os.WriteFile(yaml, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "subcharm.charm")
	if err := charmpack.Pack(yaml, b.Dispatch, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func rootOf(t *testing.T, m *client.Model, unit string) string {
	t.Helper()
	r, err := m.Exec(lmtest.Ctx(t, time.Minute), unit, `echo "$LOCALJUJU_ROOT $(unit-get private-address)"`)
	if err != nil || r.Code != 0 {
		t.Fatalf("exec on %s: %v %+v", unit, err, r)
	}
	return strings.TrimSpace(r.Stdout)
}

// jujuInfoMembers is relation-list on the unit's juju-info relation.
func jujuInfoMembers(t *testing.T, m *client.Model, unit string) []string {
	t.Helper()
	var ids, members []string
	mustCall(t, m, unit, &ids, "GetRelationIDs", "juju-info")
	if len(ids) != 1 {
		t.Fatalf("%s has juju-info relations %v", unit, ids)
	}
	mustCall(t, m, unit, &members, "ListRelationUnits", ids[0])
	return members
}

func TestGivenAPrincipalWhenASubordinateIsRelatedThenEachUnitGetsOneOnItsMachineThatFollowsIt(t *testing.T) {
	m := lmtest.NewModel(t, lmtest.Options{})
	deploy(t, m, "tc", 2, nil)
	sub := subordinateTestCharm(t)
	units, err := m.Deploy(lmtest.Ctx(t, time.Minute), sub, client.DeployOptions{App: "telegraf"})
	if err != nil || len(units) != 0 {
		t.Fatalf("deploy of a subordinate: units %v, %v", units, err)
	}
	if _, err := m.Integrate(lmtest.Ctx(t, time.Minute), "telegraf:juju-info", "tc"); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)

	st, err := m.Status(lmtest.Ctx(t, time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if a := st.Applications["telegraf"]; len(a.Units) != 0 || len(a.SubordinateTo) != 1 || a.SubordinateTo[0] != "tc" {
		t.Errorf("telegraf in status: %+v", a)
	}
	for p, s := range map[string]string{"tc/0": "telegraf/0", "tc/1": "telegraf/1"} {
		if _, ok := st.Applications["tc"].Units[p].Subordinates[s]; !ok {
			t.Errorf("%s has no %s in status: %+v", p, s, st.Applications["tc"].Units[p].Subordinates)
		}
		if rootOf(t, m, s) != rootOf(t, m, p) {
			t.Errorf("%s and its principal %s differ in filesystem root or address: %q %q", s, p, rootOf(t, m, s), rootOf(t, m, p))
		}
		// Container scope: each sees its own counterpart only.
		if members := jujuInfoMembers(t, m, s); len(members) != 1 || members[0] != p {
			t.Errorf("%s sees %v in juju-info, want only %s", s, members, p)
		}
	}
	if members := jujuInfoMembers(t, m, "tc/0"); len(members) != 1 || members[0] != "telegraf/0" {
		t.Errorf("tc/0 sees %v in juju-info, want only telegraf/0", members)
	}
	if err := m.RemoveUnit(lmtest.Ctx(t, time.Minute), "telegraf/1"); err == nil || !strings.Contains(err.Error(), "is a subordinate") {
		t.Errorf("remove-unit of a subordinate: %v", err)
	}
	if _, err := m.AddUnit(lmtest.Ctx(t, time.Minute), "telegraf", 1); err == nil {
		t.Error("add-unit of a subordinate application worked")
	}

	// The subordinate follows its principal in and out.
	if _, err := m.AddUnit(lmtest.Ctx(t, time.Minute), "tc", 1); err != nil {
		t.Fatal(err)
	}
	if err := m.RemoveUnit(lmtest.Ctx(t, time.Minute), "tc/0"); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	st, _ = m.Status(lmtest.Ctx(t, time.Minute))
	if _, ok := st.Applications["tc"].Units["tc/2"].Subordinates["telegraf/2"]; !ok {
		t.Errorf("tc/2 got no subordinate: %+v", st.Applications["tc"].Units["tc/2"])
	}
	infos, _ := m.Units(lmtest.Ctx(t, time.Minute))
	for _, u := range infos {
		if u.Name == "telegraf/0" {
			t.Errorf("telegraf/0 outlived its principal tc/0")
		}
	}
	hs := hooks(t, m, "telegraf/2")
	if joined := strings.Join(hs, " "); !strings.Contains(joined, "install peers-relation-created juju-info-relation-created") ||
		!strings.HasSuffix(joined, "juju-info-relation-joined juju-info-relation-changed") {
		t.Errorf("telegraf/2 ran %q", hs)
	}
}
