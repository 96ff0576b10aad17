package charm

import (
	"slices"
	"testing"

	"go.etcd.io/etcd/client/pkg/v3/types"

	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/internal/etcd"
)

// Given the members etcd listed when this unit was added as a learner, one of them promoted before it published
// its name, when the unit's --initial-cluster is made, then its own entry carries its name, every other member
// keeps its peer URL under a name of its own, and no two members share a name (etcd would read them as one
// member with two peer URLs and refuse to start).
func TestGivenAMemberPromotedBeforeItPublishedWhenAUnitJoinsThenEachPeerURLHasItsOwnName(t *testing.T) {
	c := &unitContext{unit: "etcd/2", address: "10.0.0.3", cfg: Config{Port: 2379, ManagementPort: 2380}}
	members := []cluster.Member{
		{ID: 0x1a, Name: "etcd-0", PeerURLs: []string{"https://10.0.0.1:2380"}},
		{ID: 0x2b, PeerURLs: []string{"https://10.0.0.2:2380"}},      // promoted, not yet published
		{ID: 0x3c, PeerURLs: []string{c.peerURL()}, IsLearner: true}, // this unit, just added
	}
	got := c.initialClusterToJoin(members)
	want := []etcd.Member{
		{Name: "etcd-0", PeerURL: "https://10.0.0.1:2380"},
		{Name: "unnamed-2b", PeerURL: "https://10.0.0.2:2380"},
		{Name: "etcd-2", PeerURL: "https://10.0.0.3:2380"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("initial cluster %+v, want %+v", got, want)
	}
	// etcd's own reading of --initial-cluster: one entry per name.
	if byName, err := types.NewURLsMap(etcd.InitialClusterString(got)); err != nil || len(byName) != len(members) {
		t.Errorf("etcd reads %q as %v (%v), want %d members", etcd.InitialClusterString(got), byName, err, len(members))
	}
}
