package plan

import (
	"strings"
	"testing"
	"time"
)

func TestGivenTwoOfThreeMembersLostWhenTheRebuildIsCostedThenTheSourceTheLossAndTheBackupLagAreNamed(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	source := DataCopy{Name: "etcd-1", Revision: 5000, RaftIndex: 7000, Reachable: true}
	members := []DataCopy{
		{Name: "etcd-0"},
		source,
		{Name: "etcd-2", Revision: 4990, RaftIndex: 6980, Reachable: true},
		{Name: "etcd-3"},
	}
	backup := &DataCopy{Name: "2026-12-07T11:00:00Z", Revision: 4200, Taken: now.Add(-time.Hour)}
	c := CostOfRebuild(source, members, backup, now)
	want := map[string]string{
		"source": "etcd-1", "source-revision": "5000", "lost-members": "etcd-0,etcd-3", "rejoining-members": "etcd-2",
		"members.etcd-2.behind-revisions": "10", "backup-behind-revisions": "800", "backup-age": "1h0m0s",
	}
	for k, v := range want {
		if c.Results[k] != v {
			t.Errorf("result %s = %q, want %q", k, c.Results[k], v)
		}
	}
	text := strings.Join(c.Lines, "\n")
	for _, s := range []string{"etcd-1 keeps its data: revision 5000", "etcd-0 does not answer", "10 revisions behind the source",
		"800 revisions behind the source, taken 1h0m0s ago"} {
		if !strings.Contains(text, s) {
			t.Errorf("the dry run lacks %q:\n%s", s, text)
		}
	}
}

func TestGivenTheSourceAloneWhenTheRebuildIsCostedThenNothingElseIsNamed(t *testing.T) {
	source := DataCopy{Name: "etcd-0", Revision: 12, RaftIndex: 30, Reachable: true}
	c := CostOfRebuild(source, []DataCopy{source}, nil, time.Now())
	if len(c.Lines) != 1 || c.Results["lost-members"] != "" || c.Results["backup"] != "" {
		t.Fatalf("cost: %+v", c)
	}
}
