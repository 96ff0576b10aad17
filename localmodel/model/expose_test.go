package model_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/internal/modeltest"
	"github.com/etcd-charm/etcd/localmodel/model"
)

func exposedOf(t *testing.T, m *model.Model, app string) (bool, map[string]api.ExposedEndpoint) {
	t.Helper()
	as := m.StatusDoc().Applications[app]
	return as.Exposed, as.ExposedEndpoints
}

func TestGivenAnApplicationWhenExposedAndUnexposedThenStatusShowsWhatJujuShows(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "tc", 1)
	if exposed, eps := exposedOf(t, m, "tc"); exposed || eps != nil {
		t.Fatalf("a new application is exposed: %v %v", exposed, eps)
	}
	// juju expose tc: every endpoint, to everyone.
	if err := m.Expose("tc", nil); err != nil {
		t.Fatal(err)
	}
	exposed, eps := exposedOf(t, m, "tc")
	want := map[string]api.ExposedEndpoint{"": {ExposeToCIDRs: []string{"0.0.0.0/0", "::/0"}}}
	if !exposed || !reflect.DeepEqual(eps, want) {
		t.Fatalf("after expose: %v %v", exposed, eps)
	}
	// juju expose tc --endpoints peers --to-cidrs 10.0.0.0/24 --to-spaces alpha: adds an entry.
	if err := m.Expose("tc", map[string]model.ExposedEndpoint{"peers": {ToSpaces: []string{"alpha"}, ToCIDRs: []string{"10.0.0.0/24"}}}); err != nil {
		t.Fatal(err)
	}
	if _, eps = exposedOf(t, m, "tc"); len(eps) != 2 || eps["peers"].ExposeToCIDRs[0] != "10.0.0.0/24" || eps["peers"].ExposeToSpaces[0] != "alpha" {
		t.Fatalf("after expose --endpoints: %v", eps)
	}
	// juju unexpose tc --endpoints "": the wildcard entry goes, peers stays.
	if err := m.Unexpose("tc", []string{""}); err != nil {
		t.Fatal(err)
	}
	if exposed, eps = exposedOf(t, m, "tc"); !exposed || len(eps) != 1 {
		t.Fatalf("after unexpose of the wildcard: %v %v", exposed, eps)
	}
	if err := m.Unexpose("tc", nil); err != nil {
		t.Fatal(err)
	}
	if exposed, eps = exposedOf(t, m, "tc"); exposed || eps != nil {
		t.Fatalf("after unexpose: %v %v", exposed, eps)
	}
}

func TestGivenBadExposeArgumentsThenJujusErrorsAndNothingChanges(t *testing.T) {
	m := modeltest.New(t)
	deploy(t, m, "tc", 1)
	for _, tc := range []struct {
		eps  map[string]model.ExposedEndpoint
		want string
	}{
		{map[string]model.ExposedEndpoint{"nope": {}}, `endpoint "nope" not found`},
		{map[string]model.ExposedEndpoint{"": {ToSpaces: []string{"dmz"}}}, `space "dmz" not found`},
		{map[string]model.ExposedEndpoint{"": {ToCIDRs: []string{"10.0.0.0/33"}}}, `unable to parse "10.0.0.0/33" as a CIDR`},
	} {
		if err := m.Expose("tc", tc.eps); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("expose %v: %v, want %q", tc.eps, err, tc.want)
		}
	}
	if err := m.Expose("nope", nil); err == nil {
		t.Error("exposed an application that does not exist")
	}
	if err := m.Unexpose("tc", []string{"peers"}); err == nil || !strings.Contains(err.Error(), "not exposed") {
		t.Errorf("unexpose of an endpoint never exposed: %v", err)
	}
	if exposed, _ := exposedOf(t, m, "tc"); exposed {
		t.Error("a refused expose exposed the application")
	}
}
