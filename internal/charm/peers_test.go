package charm

import (
	"testing"

	"github.com/gruyaume/goops/goopstest"
)

// readPeersIn runs readPeers as the given hook of etcd/0 and returns what it read.
func readPeersIn(t *testing.T, hook string, stored map[string]string) (*peerRelation, goopstest.State, error) {
	t.Helper()
	var p *peerRelation
	ctx := goopstest.NewContext(func() error {
		resetUnitState()
		var err error
		p, err = readPeers("etcd/0", hook)
		return err
	}, goopstest.WithAppName("etcd"), goopstest.WithUnitID("etcd/0"))
	out := ctx.Run(hook, goopstest.State{
		StoredState: stored,
		PeerRelations: []goopstest.PeerRelation{{Endpoint: peerEndpoint, ID: "cluster:1",
			LocalAppData: map[string]string{keyClusterToken: "t"}, LocalUnitData: map[string]string{keyMemberState: stateVoter},
			PeersData: map[goopstest.UnitID]goopstest.DataBag{"etcd/1": {}, "etcd/2": {}}}},
	})
	return p, out, ctx.CharmErr
}

func TestGivenANewUnitWhenItFirstReadsThePeerRelationThenItRecordsTheRelationID(t *testing.T) {
	p, out, err := readPeersIn(t, "update-status", nil)
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

func TestGivenARecordedPeerRelationWhenHooksRunThenRoutineOnesTrustItAndTeardownAsksJuju(t *testing.T) {
	// A recorded ID that Juju does not know shows which source each hook used.
	stale := map[string]string{peerRelationState: "cluster:7"}
	if _, _, err := readPeersIn(t, "update-status", stale); err == nil {
		t.Fatal("update-status asked Juju instead of using the recorded relation ID")
	}
	for _, hook := range []string{"stop", "cluster-relation-broken"} {
		p, out, err := readPeersIn(t, hook, stale)
		if err != nil || p == nil || p.ID != "cluster:1" {
			t.Fatalf("%s: read %+v, %v: want the relation Juju lists", hook, p, err)
		}
		if out.StoredState[peerRelationState] != "cluster:7" {
			t.Fatalf("%s rewrote the recorded ID: %v", hook, out.StoredState)
		}
	}
}
