package etcdproxy_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/etcd-charm/etcd/interfaces/etcd"
	"github.com/etcd-charm/etcd/interfaces/etcdproxy"
	"github.com/gruyaume/goops/goopstest"
)

func TestClusterStringRoundTrip(t *testing.T) {
	members := []etcdproxy.Member{{Name: "etcd0", PeerURL: "https://10.5.0.9:2380"}, {Name: "etcd1", PeerURL: "https://10.5.0.11:2380"}}
	// An unstarted member has no name yet: it is left out instead of breaking the string
	s := etcdproxy.ClusterString(append(members, etcdproxy.Member{PeerURL: "https://10.5.0.12:2380"}))
	if want := "etcd0=https://10.5.0.9:2380,etcd1=https://10.5.0.11:2380"; s != want {
		t.Fatalf("got %q, want %q", s, want)
	}
	back, err := etcdproxy.ParseClusterString(s)
	if err != nil || !slices.Equal(back, members) {
		t.Fatalf("parsed %+v %v", back, err)
	}
	for _, bad := range []string{"etcd0", "=https://x:2380", "etcd0=", "etcd0=https://a:2380,oops"} {
		if _, err := etcdproxy.ParseClusterString(bad); err == nil {
			t.Errorf("ParseClusterString(%q) accepted", bad)
		}
	}
	if m, err := etcdproxy.ParseClusterString(""); err != nil || m != nil {
		t.Errorf("empty string: %v %v", m, err)
	}
}

func TestPublishAndReadClusterInfo(t *testing.T) {
	creds := etcd.Credentials{ClientCert: "CERT\n", ClientKey: "KEY\n", ClientCA: "CA\n"}
	d := etcdproxy.ProviderData{Cluster: "etcd0=https://10.0.0.1:2380", Credentials: creds}

	// Given a proxy relation, when an etcd unit publishes, its unit databag holds cluster and the credentials
	ctx := goopstest.NewContext(func() error { return etcdproxy.Publish("proxy:2", d) }, goopstest.WithUnitID("etcd/0"))
	out := ctx.Run("proxy-relation-changed", goopstest.State{Relations: []goopstest.Relation{{
		Endpoint: "proxy", ID: "proxy:2", RemoteAppName: "etcd-proxy", LocalUnitData: goopstest.DataBag{},
		RemoteUnitsData: map[goopstest.UnitID]goopstest.DataBag{"etcd-proxy/0": {}},
	}}})
	if ctx.CharmErr != nil {
		t.Fatal(ctx.CharmErr)
	}
	bag := out.Relations[0].LocalUnitData
	want := goopstest.DataBag{"cluster": d.Cluster, "client_cert": "CERT\n", "client_key": "KEY\n", "client_ca": "CA\n"}
	if !maps.Equal(bag, want) || len(out.Relations[0].LocalAppData) != 0 {
		t.Fatalf("databag %q", bag)
	}

	// When the proxy reads it back, it gets the members and complete credentials
	var info etcdproxy.ClusterInfo
	rctx := goopstest.NewContext(func() (err error) {
		info, err = etcdproxy.Requirer{Endpoint: "proxy"}.ClusterInfo("proxy:2")
		return err
	}, goopstest.WithUnitID("etcd-proxy/0"))
	rctx.Run("proxy-relation-changed", goopstest.State{Relations: []goopstest.Relation{{
		Endpoint: "proxy", ID: "proxy:2", RemoteAppName: "etcd",
		RemoteUnitsData: map[goopstest.UnitID]goopstest.DataBag{"etcd/0": goopstest.DataBag(maps.Clone(bag))},
	}}})
	if rctx.CharmErr != nil {
		t.Fatal(rctx.CharmErr)
	}
	members, err := info.Members()
	if err != nil || !info.Available() || !info.Complete() || info.Credentials != creds ||
		!slices.Equal(members, []etcdproxy.Member{{Name: "etcd0", PeerURL: "https://10.0.0.1:2380"}}) {
		t.Fatalf("info %+v members %+v %v", info, members, err)
	}
}
