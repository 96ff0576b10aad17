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

// freshState runs fn as a hook does: with unit state read anew from the hook's own state-get.
func freshState(fn func() error) func() error {
	return func() error { resetUnitState(); return fn() }
}

func TestGivenRebuildRequestsWhenTheLeaderRunsThenItAdoptsOnlyTheNewest(t *testing.T) {
	c := epochUnit(t, true, map[string]string{keyEpoch: "00000000000000000002-current"},
		map[string]string{}, map[string]map[string]string{
			"etcd/2": {keyRebuildRequest: "00000000000000000001-stale"},
			"etcd/3": {keyRebuildRequest: "00000000000000000003-newest", keyRequestClusterID: "c3"},
		})
	ctx := goopstest.NewContext(freshState(c.adoptIdentity))
	out := ctx.Run("cluster-relation-changed", peerState(c, nil))
	if ctx.CharmErr != nil {
		t.Fatal(ctx.CharmErr)
	}
	app := out.PeerRelations[0].LocalAppData
	if app[keyEpoch] != "00000000000000000003-newest" || app[keyClusterID] != "c3" || app[keySeed] != "etcd/3" {
		t.Fatalf("application bag after adopting: %v", app)
	}
}

// The issue-24 ordering: rebuild-cluster ran on etcd/1 while the dead leader's lease still held, so the request
// sits in etcd/1's own bag; then etcd/1 becomes the leader.
func TestGivenARebuildRecordedBeforeThisUnitLedWhenItLeadsThenItPublishesItsOwnRequest(t *testing.T) {
	c := epochUnit(t, true, map[string]string{keyEpoch: "00000000000000000001-old", keyClusterID: "old"},
		map[string]string{keyMemberState: stateVoter, keyEpoch: "00000000000000000002-mine",
			keyRebuildRequest: "00000000000000000002-mine", keyRequestClusterID: "c1"},
		map[string]map[string]string{"etcd/3": {}, "etcd/4": {}})
	ctx := goopstest.NewContext(freshState(c.adoptIdentity))
	out := ctx.Run("leader-elected", peerState(c, nil))
	if ctx.CharmErr != nil {
		t.Fatal(ctx.CharmErr)
	}
	app := out.PeerRelations[0].LocalAppData
	if app[keyEpoch] != "00000000000000000002-mine" || app[keyClusterID] != "c1" || app[keySeed] != "etcd/1" {
		t.Fatalf("the leader did not publish its own rebuild: %v", app)
	}
}

// A restore or rebuild whose hook died after recording the applied epoch but before writing the bag: the next
// hook writes the bag, so that the leader (whichever unit it is) can publish it.
func TestGivenAnIdentityRecordedOnlyInUnitStateWhenTheNextHookRunsThenTheBagCarriesTheRequest(t *testing.T) {
	c := epochUnit(t, false, map[string]string{keyEpoch: "00000000000000000001-old"},
		map[string]string{keyMemberState: stateVoter, keyEpoch: "00000000000000000001-old"}, nil)
	ctx := goopstest.NewContext(freshState(c.recordIdentityRequest))
	out := ctx.Run("update-status", peerState(c, map[string]string{
		appliedEpochState:    "00000000000000000002-mine",
		identityRequestState: `{"epoch":"00000000000000000002-mine","cluster-id":"c1","token":"t1"}`,
	}))
	if ctx.CharmErr != nil {
		t.Fatal(ctx.CharmErr)
	}
	bag := out.PeerRelations[0].LocalUnitData
	want := map[string]string{keyMemberState: stateVoter, keyEpoch: "00000000000000000002-mine",
		keyRebuildRequest: "00000000000000000002-mine", keyRequestClusterID: "c1", keyRequestToken: "t1"}
	for k, v := range want {
		if bag[k] != v {
			t.Fatalf("bag[%s] = %q, want %q (bag %v)", k, bag[k], v, bag)
		}
	}
}

// A hook that died before the epoch was applied started nothing this unit keeps: publishing the request would
// make the leader follow an identity whose starter then wipes itself.
func TestGivenAnIdentityRequestWhoseEpochWasNeverAppliedWhenTheNextHookRunsThenNothingIsRequested(t *testing.T) {
	c := epochUnit(t, false, map[string]string{keyEpoch: "00000000000000000001-old"},
		map[string]string{keyMemberState: stateVoter, keyEpoch: "00000000000000000001-old"}, nil)
	ctx := goopstest.NewContext(freshState(c.recordIdentityRequest))
	out := ctx.Run("update-status", peerState(c, map[string]string{
		appliedEpochState:    "00000000000000000001-old",
		identityRequestState: `{"epoch":"00000000000000000002-mine","cluster-id":"c1"}`,
	}))
	if ctx.CharmErr != nil {
		t.Fatal(ctx.CharmErr)
	}
	if got := out.PeerRelations[0].LocalUnitData[keyRebuildRequest]; got != "" {
		t.Fatalf("requested %q", got)
	}
}
