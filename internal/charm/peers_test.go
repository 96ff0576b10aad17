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

// optionalIDsIn runs optionalRelationIDs for cos-agent as the given hook of etcd/0, with what the unit
// remembered and with or without a cos-agent relation, and returns the ids, the state after, and the tools.
func optionalIDsIn(t *testing.T, hook string, stored map[string]string, related bool) ([]string, goopstest.State, []string) {
	t.Helper()
	var ids []string
	log := &toolLog{}
	ctx := goopstest.NewContext(func() error {
		resetUnitState()
		log.inner = goops.GetCommandRunner()
		goops.SetCommandRunner(log)
		defer goops.SetCommandRunner(log.inner)
		c := &unitContext{unit: "etcd/0", hook: hook}
		var err error
		ids, err = c.optionalRelationIDs(cosAgentEndpoint)
		return err
	}, goopstest.WithAppName("etcd"), goopstest.WithUnitID("etcd/0"))
	state := goopstest.State{StoredState: stored}
	if related {
		state.Relations = []goopstest.Relation{{Endpoint: cosAgentEndpoint, ID: "cos-agent:7", RemoteAppName: "grafana-agent"}}
	}
	out := ctx.Run(hook, state)
	if ctx.CharmErr != nil {
		t.Fatal(ctx.CharmErr)
	}
	return ids, out, log.tools
}

func TestGivenNoCosAgentRelationWhenUpdateStatusRunsThenItIsNotListedAgainButAnyOtherHookLooks(t *testing.T) {
	// A config-changed finds none and remembers it.
	ids, out, tools := optionalIDsIn(t, "config-changed", nil, false)
	if len(ids) != 0 || !slices.Contains(tools, "relation-ids") || out.StoredState["related cos-agent"] != "no" {
		t.Fatalf("ids %v, tools %v, state %v: want relation-ids called and \"no\" remembered", ids, tools, out.StoredState)
	}
	// update-status then spares the call.
	_, _, tools = optionalIDsIn(t, "update-status", out.StoredState, false)
	if slices.Contains(tools, "relation-ids") {
		t.Fatalf("update-status listed cos-agent relations again: %v", tools)
	}
	// The relation's own hook looks, finds it and remembers; update-status then lists it too.
	ids, out, _ = optionalIDsIn(t, "cos-agent-relation-created", out.StoredState, true)
	if len(ids) != 1 || out.StoredState["related cos-agent"] != "yes" {
		t.Fatalf("relation-created: ids %v, state %v", ids, out.StoredState)
	}
	if ids, _, tools = optionalIDsIn(t, "update-status", out.StoredState, true); len(ids) != 1 || !slices.Contains(tools, "relation-ids") {
		t.Fatalf("update-status with a relation: ids %v, tools %v", ids, tools)
	}
}
