package plan

import "testing"

func TestGivenMembersPresentingCertificatesWhenAskedThenPeerListenersDemandTheMemberCNOnlyOnceEveryUnitPresentsIt(t *testing.T) {
	cases := []struct {
		name string
		cns  map[string]string
		want bool
	}{
		{"no unit has said", map[string]string{}, false},
		{"a cluster from an older charm: member names as CNs", map[string]string{"etcd/0": "etcd-0", "etcd/1": "etcd-1"}, false},
		{"half way: one unit has its new certificate", map[string]string{"etcd/0": MemberCommonName, "etcd/1": "etcd-1"}, false},
		{"a unit that has not said yet", map[string]string{"etcd/0": MemberCommonName, "etcd/2": ""}, false},
		{"every unit presents it", map[string]string{"etcd/0": MemberCommonName, "etcd/1": MemberCommonName}, true},
	}
	for _, c := range cases {
		if got := PeerCNReady(c.cns); got != c.want {
			t.Errorf("%s: PeerCNReady = %v, want %v", c.name, got, c.want)
		}
	}
	if reason := reservedName(MemberCommonName, ClientPolicy{}); reason == "" {
		t.Errorf("a client may take the members' CN %q", MemberCommonName)
	}
}
