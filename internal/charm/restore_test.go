package charm

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gruyaume/goops/goopstest"

	"github.com/etcd-charm/etcd/internal/etcd"
)

// epochUnit is a unit context over a temporary root whose peer view is the given bags.
func epochUnit(t *testing.T, leader bool, app, self map[string]string, others map[string]map[string]string) *unitContext {
	root := t.TempDir()
	if others == nil {
		others = map[string]map[string]string{}
	}
	return &unitContext{unit: "etcd/1", leader: leader, root: root, paths: paths{Paths: etcd.NewPaths(root, "")},
		peers: &peerRelation{ID: "cluster:1", App: app, Self: self, names: slices.Sorted(maps.Keys(others)), namesLoaded: true, units: others}}
}

func peerState(c *unitContext, stored map[string]string) goopstest.State {
	peers := map[goopstest.UnitID]goopstest.DataBag{}
	for u, bag := range c.peers.units {
		peers[goopstest.UnitID(u)] = bag
	}
	return goopstest.State{
		Leader:      c.leader,
		StoredState: stored,
		PeerRelations: []goopstest.PeerRelation{{Endpoint: peerEndpoint, ID: c.peers.ID,
			LocalAppData: c.peers.App, LocalUnitData: c.peers.Self, PeersData: peers}},
	}
}

func TestGivenARestoredClusterWhenAMemberOfTheOldOneRunsAHookThenItWipesAndRecordsTheNewEpoch(t *testing.T) {
	c := epochUnit(t, false, map[string]string{keyEpoch: "00000000000000000002-new"},
		map[string]string{keyMemberState: stateVoter, keyEpoch: "00000000000000000001-old"}, nil)
	wal := filepath.Join(c.paths.DataDir, "member", "wal")
	if err := os.MkdirAll(wal, 0o700); err != nil {
		t.Fatal(err)
	}
	ctx := goopstest.NewContext(c.followEpoch)
	out := ctx.Run("update-status", peerState(c, map[string]string{appliedEpochState: "00000000000000000001-old",
		bootstrapStateKey: `{"state":"existing","token":"t"}`}))
	if ctx.CharmErr != nil {
		t.Fatal(ctx.CharmErr)
	}
	if _, err := os.Stat(c.paths.DataDir); !os.IsNotExist(err) {
		t.Fatalf("the old member's data dir is still there: %v", err)
	}
	if out.StoredState[appliedEpochState] != "00000000000000000002-new" || out.StoredState[bootstrapStateKey] != "" {
		t.Fatalf("stored state after wiping: %v", out.StoredState)
	}
	bag := out.PeerRelations[0].LocalUnitData
	if bag[keyMemberState] != "" || bag[keyEpoch] != "00000000000000000002-new" {
		t.Fatalf("the unit still advertises itself as a member of the old cluster: %v", bag)
	}
}

func TestGivenAUnitThatRebuiltMoreRecentlyThanTheLeaderKnowsWhenAHookRunsThenItKeepsItsMember(t *testing.T) {
	c := epochUnit(t, false, map[string]string{keyEpoch: "00000000000000000001-old"},
		map[string]string{keyMemberState: stateVoter, keyEpoch: "00000000000000000002-mine"}, nil)
	if err := os.MkdirAll(filepath.Join(c.paths.DataDir, "member", "wal"), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx := goopstest.NewContext(c.followEpoch)
	out := ctx.Run("update-status", peerState(c, map[string]string{appliedEpochState: "00000000000000000002-mine"}))
	if ctx.CharmErr != nil {
		t.Fatal(ctx.CharmErr)
	}
	if _, err := os.Stat(c.paths.DataDir); err != nil {
		t.Fatalf("the rebuilt member's data was wiped: %v", err)
	}
	if out.PeerRelations[0].LocalUnitData[keyMemberState] != stateVoter {
		t.Fatal("the rebuilt member stopped advertising itself")
	}
}

func TestGivenRebuildRequestsWhenTheLeaderRunsThenItAdoptsOnlyTheNewest(t *testing.T) {
	c := epochUnit(t, true, map[string]string{keyEpoch: "00000000000000000002-current"},
		map[string]string{}, map[string]map[string]string{
			"etcd/2": {keyRebuildRequest: "00000000000000000001-stale"},
			"etcd/3": {keyRebuildRequest: "00000000000000000003-newest"},
		})
	ctx := goopstest.NewContext(c.adoptRebuild)
	out := ctx.Run("cluster-relation-changed", peerState(c, nil))
	if ctx.CharmErr != nil {
		t.Fatal(ctx.CharmErr)
	}
	if got := out.PeerRelations[0].LocalAppData[keyEpoch]; got != "00000000000000000003-newest" {
		t.Fatalf("adopted %q", got)
	}
}
