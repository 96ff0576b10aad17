package model

import (
	"fmt"
	"strings"

	"github.com/etcd-charm/etcd/localmodel/charmdir"
)

// Integrate relates two applications, each given as "app" or "app:endpoint", matching endpoints by
// interface and role as Juju does. Every unit of both gets -relation-created; started units enter scope.
func (m *Model) Integrate(a, b string) (*Relation, error) {
	epA, epB, err := m.matchEndpoints(a, b)
	if err != nil {
		return nil, err
	}
	for _, r := range m.relations {
		if r.IsPeer() || r.Life != Alive {
			continue
		}
		x, y := r.Endpoints[0], r.Endpoints[1]
		if (x == epA && y == epB) || (x == epB && y == epA) {
			return nil, fmt.Errorf("relation %s %s already exists", epA, epB)
		}
	}
	r := m.newRelation([]RelationEndpoint{epA, epB})
	for _, u := range m.Units() {
		if m.relevant(u, r) && u.Life == Alive {
			u.related[r.ID] = true
			m.enqueue(u, relationEvent(r, u.App.Name, "created"))
		}
	}
	m.ensureSubordinates()
	for _, u := range m.Units() {
		if r.involves(u.App.Name) && u.started {
			m.enterScope(u, r)
		}
	}
	return r, nil
}

func (m *Model) matchEndpoints(a, b string) (RelationEndpoint, RelationEndpoint, error) {
	candA, err := m.candidateEndpoints(a)
	if err != nil {
		return RelationEndpoint{}, RelationEndpoint{}, err
	}
	candB, err := m.candidateEndpoints(b)
	if err != nil {
		return RelationEndpoint{}, RelationEndpoint{}, err
	}
	var matches [][2]RelationEndpoint
	for _, x := range candA {
		for _, y := range candB {
			if x.Interface != y.Interface || x.Role == charmdir.RolePeer || y.Role == charmdir.RolePeer {
				continue
			}
			if (x.Role == charmdir.RoleProvider && y.Role == charmdir.RoleRequirer) ||
				(x.Role == charmdir.RoleRequirer && y.Role == charmdir.RoleProvider) {
				matches = append(matches, [2]RelationEndpoint{x, y})
			}
		}
	}
	switch len(matches) {
	case 0:
		return RelationEndpoint{}, RelationEndpoint{}, fmt.Errorf("no relations found")
	case 1:
		return matches[0][0], matches[0][1], nil
	}
	var opts []string
	for _, mt := range matches {
		opts = append(opts, mt[0].String()+" "+mt[1].String())
	}
	return RelationEndpoint{}, RelationEndpoint{}, fmt.Errorf("ambiguous relation: %q could refer to %s", a+" "+b, strings.Join(opts, "; "))
}

func (m *Model) candidateEndpoints(spec string) ([]RelationEndpoint, error) {
	app, ep, _ := strings.Cut(spec, ":")
	a, err := m.Application(app)
	if err != nil {
		return nil, err
	}
	if a.Life != Alive {
		return nil, fmt.Errorf("application %q is not alive", app)
	}
	var out []RelationEndpoint
	for _, e := range a.Charm.Meta.Endpoints() {
		if ep == "" || e.Name == ep {
			out = append(out, RelationEndpoint{App: app, Endpoint: e})
		}
	}
	if ep != "" && len(out) == 0 {
		return nil, fmt.Errorf("application %q has no %q relation", app, ep)
	}
	return out, nil
}

// FindRelation resolves a relation from "a[:ep] b[:ep]" endpoints or a numeric id.
func (m *Model) FindRelation(a, b string) (*Relation, error) {
	for _, r := range m.Relations() {
		if r.IsPeer() || r.Life != Alive {
			continue
		}
		if endpointMatches(r, a) && endpointMatches(r, b) && a != b {
			return r, nil
		}
	}
	return nil, fmt.Errorf("relation %q not found", a+" "+b)
}

func endpointMatches(r *Relation, spec string) bool {
	app, ep, _ := strings.Cut(spec, ":")
	e, ok := r.Endpoint(app)
	return ok && (ep == "" || e.Name == ep)
}
