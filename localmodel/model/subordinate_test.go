package model_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/etcd-charm/etcd/localmodel/internal/modeltest"
	"github.com/etcd-charm/etcd/localmodel/model"
)

func deploySub(t *testing.T, m *model.Model) {
	t.Helper()
	if _, err := m.Deploy("sub", modeltest.SubordinateCharm(t), nil, nil, 0); err != nil {
		t.Fatal(err)
	}
}

func TestGivenTwoPrincipalUnitsWhenASubordinateIsRelatedOverJujuInfoThenEachGetsItsOwnOnItsMachine(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "tc", 2)
	deploySub(t, m)
	modeltest.Drain(t, m)
	if _, err := m.Integrate("sub:juju-info", "tc"); err != nil {
		t.Fatal(err)
	}
	ran := modeltest.DrainWithRemotes(t, m)
	for i, p := range []string{"tc/0", "tc/1"} {
		sub := "sub/" + string(rune('0'+i))
		su, err := m.Unit(sub)
		if err != nil {
			t.Fatalf("no %s for %s: %v", sub, p, err)
		}
		pu, _ := m.Unit(p)
		if su.Principal != p || su.Machine != pu.Machine || su.Address != pu.Address || su.Paths.Root != pu.Paths.Root ||
			su.Paths.CharmDir == pu.Paths.CharmDir {
			t.Errorf("%s: principal %q machine %s address %s root %s; principal's %s %s %s", sub, su.Principal,
				su.Machine, su.Address, su.Paths.Root, pu.Machine, pu.Address, pu.Paths.Root)
		}
		// The principal sees its own subordinate only, and the subordinate its principal only.
		if got := strings.Join(ran[p], " "); got != "juju-info-relation-created juju-info-relation-joined("+sub+") juju-info-relation-changed("+sub+")" {
			t.Errorf("%s ran %s", p, got)
		}
	}
	want0 := []string{"install", "sub-peers-relation-created", "juju-info-relation-created", "leader-elected", "config-changed", "start",
		"juju-info-relation-joined(tc/0)", "juju-info-relation-changed(tc/0)", "sub-peers-relation-joined(sub/1)", "sub-peers-relation-changed(sub/1)"}
	if got := ran["sub/0"]; !sameHooks(got, want0) {
		t.Errorf("sub/0 ran\n %q\nwant (peer hooks may interleave)\n %q", got, want0)
	}
	st := m.StatusDoc()
	if a := st.Applications["sub"]; a.Units != nil || !reflect.DeepEqual(a.SubordinateTo, []string{"tc"}) {
		t.Errorf("sub in status: units %v subordinate-to %v", a.Units, a.SubordinateTo)
	}
	if s := st.Applications["tc"].Units["tc/1"].Subordinates; len(s) != 1 || s["sub/1"].PublicAddress == "" || s["sub/1"].Machine != "" {
		t.Errorf("tc/1's subordinates in status: %+v", s)
	}
	if len(st.Machines) != 2 {
		t.Errorf("machines %v: a subordinate has no machine of its own", st.Machines)
	}
}

// sameHooks compares two hook lists as sets of the same length with install first.
func sameHooks(got, want []string) bool {
	if len(got) != len(want) || len(got) == 0 || got[0] != want[0] {
		return false
	}
	count := map[string]int{}
	for _, h := range got {
		count[h]++
	}
	for _, h := range want {
		count[h]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}

func TestGivenASubordinateWhenItsPrincipalScalesThenItFollowsAndCannotBeScaledAlone(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "tc", 1)
	deploySub(t, m)
	if _, err := m.Integrate("sub", "tc:juju-info"); err != nil {
		t.Fatal(err)
	}
	modeltest.Drain(t, m)
	if _, err := m.AddUnits("tc", 1); err != nil {
		t.Fatal(err)
	}
	ran := modeltest.DrainWithRemotes(t, m)
	if su, err := m.Unit("sub/1"); err != nil || su.Principal != "tc/1" {
		t.Fatalf("add-unit tc gave no subordinate on tc/1: %v", err)
	}
	if !strings.Contains(strings.Join(ran["sub/1"], " "), "juju-info-relation-joined(tc/1)") {
		t.Errorf("sub/1 ran %v", ran["sub/1"])
	}
	if _, err := m.AddUnits("sub", 1); err == nil || !strings.Contains(err.Error(), "subordinate") {
		t.Errorf("add-unit of a subordinate: %v", err)
	}
	if _, err := m.Deploy("sub2", modeltest.SubordinateCharm(t), nil, nil, 1); err == nil || !strings.Contains(err.Error(), "without units") {
		t.Errorf("deploy of a subordinate with a unit: %v", err)
	}
	// Removing a principal unit takes its subordinate along: both run their way out.
	if err := m.RemoveUnit("tc/0"); err != nil {
		t.Fatal(err)
	}
	ran = modeltest.DrainWithRemotes(t, m)
	if got := strings.Join(ran["sub/0"], " "); !strings.Contains(got, "juju-info-relation-broken") || !strings.HasSuffix(got, "stop remove") {
		t.Errorf("sub/0 on removal of tc/0 ran %s", got)
	}
	if _, err := m.Unit("sub/0"); err == nil {
		t.Error("sub/0 is still there after its principal went")
	}
	if _, err := m.Unit("sub/1"); err != nil {
		t.Error("sub/1 went with another principal's unit")
	}
}

func TestGivenAContainerScopedRelationWhenRemovedThenTheSubordinateUnitsGo(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "tc", 2)
	deploySub(t, m)
	r, err := m.Integrate("sub:watched", "tc:db")
	if err != nil {
		t.Fatal(err)
	}
	modeltest.Drain(t, m)
	if len(m.StatusDoc().Applications["tc"].Units["tc/0"].Subordinates) != 1 {
		t.Fatal("a container-scoped endpoint of the subordinate's own made no unit")
	}
	if err := m.RemoveRelation(r.ID); err != nil {
		t.Fatal(err)
	}
	modeltest.Drain(t, m)
	for _, u := range []string{"sub/0", "sub/1"} {
		if _, err := m.Unit(u); err == nil {
			t.Errorf("%s is still there after the last container-scoped relation went", u)
		}
	}
	if len(m.StatusDoc().Applications["tc"].Units) != 2 {
		t.Error("the principal's units went too")
	}
}
