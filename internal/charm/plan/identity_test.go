package plan

import "testing"

func TestAdoptIdentity(t *testing.T) {
	const (
		old    = "00000000000000000001-old"
		cur    = "00000000000000000002-current"
		newer  = "00000000000000000003-newer"
		newest = "00000000000000000004-newest"
	)
	cases := []struct {
		name      string
		published string
		requests  []IdentityRequest
		want      string // "" when nothing is adopted
	}{
		{"nothing recorded", cur, nil, ""},
		{"the leader's own request, recorded before it led", cur,
			[]IdentityRequest{{Unit: "etcd/1", Epoch: newer, ClusterID: "c1"}}, newer},
		{"a request from a unit that never leads", cur,
			[]IdentityRequest{{Unit: "etcd/0"}, {Unit: "etcd/2", Epoch: newer}}, newer},
		{"a request already published", cur, []IdentityRequest{{Unit: "etcd/1", Epoch: cur}}, ""},
		{"a stale request from before the last restore", cur, []IdentityRequest{{Unit: "etcd/2", Epoch: old}}, ""},
		{"two rebuilds: the newest wins, whichever unit recorded it", cur,
			[]IdentityRequest{{Unit: "etcd/1", Epoch: newest}, {Unit: "etcd/2", Epoch: newer}, {Unit: "etcd/3", Epoch: old}}, newest},
		{"nothing published yet", "", []IdentityRequest{{Unit: "etcd/4", Epoch: old}}, old},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := AdoptIdentity(tc.published, tc.requests)
			if tc.want == "" {
				if ok {
					t.Fatalf("adopted %+v, want nothing", got)
				}
				return
			}
			if !ok || got.Epoch != tc.want {
				t.Fatalf("adopted %+v (ok %v), want epoch %s", got, ok, tc.want)
			}
		})
	}
}
