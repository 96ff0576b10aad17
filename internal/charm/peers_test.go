package charm

import (
	"slices"
	"testing"

	"github.com/gruyaume/goops"
	"github.com/gruyaume/goops/goopstest"
)

// toolLog records the hook tools a charm function calls, in front of goopstest's runner.
type toolLog struct {
	inner goops.CommandRunner
	tools []string
}

func (l *toolLog) Run(name string, args ...string) ([]byte, error) {
	l.tools = append(l.tools, name)
	return l.inner.Run(name, args...)
}

// readPeersIn runs readPeers as the given hook of etcd/0, in a model whose peer relation is cluster:1 (or
// none when inRelation is false), and returns what it read and which hook tools it called.
func readPeersIn(t *testing.T, hook string, stored map[string]string, inRelation bool) (*peerRelation, goopstest.State, []string, error) {
	t.Helper()
	var p *peerRelation
	log := &toolLog{}
	ctx := goopstest.NewContext(func() error {
		resetUnitState()
		log.inner = goops.GetCommandRunner()
		goops.SetCommandRunner(log)
		defer goops.SetCommandRunner(log.inner)
		var err error
		p, err = readPeers("etcd/0", hook)
		return err
	}, goopstest.WithAppName("etcd"), goopstest.WithUnitID("etcd/0"))
	state := goopstest.State{StoredState: stored}
	if inRelation {
		state.PeerRelations = []goopstest.PeerRelation{{Endpoint: peerEndpoint, ID: "cluster:1",
			LocalAppData: map[string]string{keyClusterToken: "t"}, LocalUnitData: map[string]string{keyMemberState: stateVoter},
			PeersData: map[goopstest.UnitID]goopstest.DataBag{"etcd/1": {}, "etcd/2": {}}}}
	}
	out := ctx.Run(hook, state)
	return p, out, log.tools, ctx.CharmErr
}

func TestGivenANewUnitWhenItFirstReadsThePeerRelationThenItRecordsTheRelationID(t *testing.T) {
	p, out, _, err := readPeersIn(t, "update-status", nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != "cluster:1" || p.App[keyClusterToken] != "t" || p.Self[keyMemberState] != stateVoter {
		t.Fatalf("read %+v, want cluster:1 with its application and own bags", p)
	}
	if out.StoredState[peerRelationState] != "cluster:1" {
		t.Fatalf("stored state %v: want the peer relation ID recorded", out.StoredState)
	}
	names, err := p.unitNames()
	if err != nil || len(names) != 2 || names[0] != "etcd/1" {
		t.Fatalf("other units %v, %v: want etcd/1 and etcd/2, listed on demand", names, err)
	}
}

func TestGivenARecordedPeerRelationWhenARoutineHookRunsThenItReadsOnlyTheTwoBags(t *testing.T) {
	p, _, tools, err := readPeersIn(t, "update-status", map[string]string{peerRelationState: "cluster:1"}, true)
	if err != nil || p == nil || p.ID != "cluster:1" {
		t.Fatalf("read %+v, %v: want cluster:1", p, err)
	}
	// goopstest answers `state-get` key by key, so state reads are left out of the comparison.
	relationTools := slices.DeleteFunc(slices.Clone(tools), func(tool string) bool { return tool == "state-get" })
	if want := []string{"relation-get", "relation-get"}; !slices.Equal(relationTools, want) {
		t.Fatalf("hook tools %v, want %v besides state-get: the recorded ID spares relation-ids, and the other units are not listed", tools, want)
	}
}

func TestGivenAUnitThatLeftThePeerRelationWhenALaterHookRunsThenItSeesNoPeerRelation(t *testing.T) {
	// A dying unit's other relations depart after its peer relation: the recorded ID is stale by then.
	p, _, tools, err := readPeersIn(t, "db-relation-departed", map[string]string{peerRelationState: "cluster:1"}, false)
	if err != nil || p != nil {
		t.Fatalf("read %+v, %v: want no peer relation and no error", p, err)
	}
	if !slices.Contains(tools, "relation-ids") {
		t.Fatalf("hook tools %v: a failed read through the recorded ID must ask Juju", tools)
	}
}

func TestGivenARecordedPeerRelationWhenTeardownHooksRunThenTheyAskJujuAndKeepTheRecord(t *testing.T) {
	for _, hook := range []string{"stop", "cluster-relation-broken"} {
		p, out, tools, err := readPeersIn(t, hook, map[string]string{peerRelationState: "cluster:1"}, true)
		if err != nil || p == nil || p.ID != "cluster:1" {
			t.Fatalf("%s: read %+v, %v: want the relation Juju lists", hook, p, err)
		}
		if !slices.Contains(tools, "relation-ids") {
			t.Fatalf("%s: hook tools %v, want relation-ids", hook, tools)
		}
		if out.StoredState[peerRelationState] != "cluster:1" {
			t.Fatalf("%s changed the recorded ID: %v", hook, out.StoredState)
		}
	}
}
