package model

import (
	"fmt"
	"sort"

	"github.com/etcd-charm/etcd/localmodel/charmdir"
)

// RelationEndpoint is one side of a relation.
type RelationEndpoint struct {
	App string
	charmdir.Endpoint
}

func (e RelationEndpoint) String() string { return e.App + ":" + e.Name }

// Relation is an established relation with its databags. Peer relations have one endpoint.
type Relation struct {
	ID        int
	Endpoints []RelationEndpoint
	Life      Life
	UnitBags  map[string]map[string]string
	AppBags   map[string]map[string]string
	// scope is the units that have entered the relation's scope and so are visible to the other side.
	scope map[string]bool
}

// IsPeer reports whether the relation is a peer relation.
func (r *Relation) IsPeer() bool { return len(r.Endpoints) == 1 }

// Key is Juju's relation key: "a:ep b:ep" with the requirer first, or "app:ep" for peers.
func (r *Relation) Key() string {
	if r.IsPeer() {
		return r.Endpoints[0].String()
	}
	a, b := r.Endpoints[0], r.Endpoints[1]
	if a.Role == charmdir.RoleProvider {
		a, b = b, a
	}
	return a.String() + " " + b.String()
}

// Endpoint returns the endpoint of app in this relation.
func (r *Relation) Endpoint(app string) (RelationEndpoint, bool) {
	for _, ep := range r.Endpoints {
		if ep.App == app {
			return ep, true
		}
	}
	return RelationEndpoint{}, false
}

// RemoteApp is the application on the other side from app (app itself for a peer relation).
func (r *Relation) RemoteApp(app string) string {
	for _, ep := range r.Endpoints {
		if ep.App != app {
			return ep.App
		}
	}
	return app
}

// involves reports whether app takes part in the relation.
func (r *Relation) involves(app string) bool {
	_, ok := r.Endpoint(app)
	return ok
}

// sees reports whether unit a is visible to unit b in this relation: the other side, or other peers.
func (r *Relation) sees(a, b *Unit) bool {
	if a == b {
		return false
	}
	if r.IsPeer() {
		return a.App == b.App
	}
	if r.containerScoped() && a.container() != b.container() {
		return false
	}
	return a.App != b.App && r.involves(a.App.Name) && r.involves(b.App.Name)
}

// RelationIDString is Juju's "endpoint:id" form for the unit's side of the relation.
func (r *Relation) RelationIDString(app string) string {
	ep, _ := r.Endpoint(app)
	return fmt.Sprintf("%s:%d", ep.Name, r.ID)
}

func (r *Relation) unitBag(unit string) map[string]string {
	b, ok := r.UnitBags[unit]
	if !ok {
		b = map[string]string{}
		r.UnitBags[unit] = b
	}
	return b
}

func (r *Relation) appBag(app string) map[string]string {
	b, ok := r.AppBags[app]
	if !ok {
		b = map[string]string{}
		r.AppBags[app] = b
	}
	return b
}

func (r *Relation) scopeUnits(m *Model) []*Unit {
	var out []*Unit
	for name := range r.scope {
		if u, ok := m.units[name]; ok {
			out = append(out, u)
		}
	}
	sortUnits(out)
	return out
}

func copyBag(b map[string]string) map[string]string {
	out := make(map[string]string, len(b))
	for k, v := range b {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
