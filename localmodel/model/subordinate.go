package model

import (
	"fmt"
	"sort"
)

// Subordinates. A subordinate charm's application has no units of its own: a container-scoped relation
// between it and a principal application gives every principal unit one subordinate unit, on the same
// machine (same address, same filesystem root) with its own charm directory and state. In such a relation
// each unit sees only its own counterpart. The subordinate follows its principal: a principal unit added
// gets one, a principal unit removed takes its subordinates with it, and so does removing the last
// container-scoped relation between the two applications.

// IsSubordinate reports whether the application's charm is a subordinate.
func (a *Application) IsSubordinate() bool { return a.Charm.Meta.Subordinate }

// containerScoped reports whether the relation is container-scoped: Juju makes it so when either
// endpoint's scope is container.
func (r *Relation) containerScoped() bool {
	for _, ep := range r.Endpoints {
		if ep.Scope == "container" {
			return true
		}
	}
	return false
}

// container is the principal unit whose machine the unit shares: itself for a principal.
func (u *Unit) container() string {
	if u.Principal != "" {
		return u.Principal
	}
	return u.Name
}

// principalAndSubordinate returns the two applications of a container-scoped relation that makes units:
// one principal, one subordinate.
func (m *Model) principalAndSubordinate(r *Relation) (principal, sub *Application, ok bool) {
	if r.IsPeer() || !r.containerScoped() {
		return nil, nil, false
	}
	a, errA := m.Application(r.Endpoints[0].App)
	b, errB := m.Application(r.Endpoints[1].App)
	if errA != nil || errB != nil {
		return nil, nil, false
	}
	switch {
	case !a.IsSubordinate() && b.IsSubordinate():
		return a, b, true
	case a.IsSubordinate() && !b.IsSubordinate():
		return b, a, true
	}
	return nil, nil, false
}

// ensureSubordinates gives every alive principal unit of every container-scoped relation its subordinate
// unit, creating the ones missing.
func (m *Model) ensureSubordinates() []*Unit {
	var created []*Unit
	for _, r := range m.Relations() {
		if r.Life != Alive {
			continue
		}
		p, s, ok := m.principalAndSubordinate(r)
		if !ok || p.Life != Alive || s.Life != Alive {
			continue
		}
		for _, pu := range p.Units() {
			if pu.Life != Alive || m.subordinateOn(s, pu) != nil {
				continue
			}
			created = append(created, m.addSubordinateUnit(s, pu))
		}
	}
	return created
}

// subordinateOn is the unit of sub on principal's machine, if any.
func (m *Model) subordinateOn(sub *Application, principal *Unit) *Unit {
	for _, u := range sub.Units() {
		if u.Principal == principal.Name {
			return u
		}
	}
	return nil
}

// SubordinatesOf lists the subordinate units on a principal unit's machine, by name.
func (m *Model) SubordinatesOf(principal *Unit) []*Unit {
	var out []*Unit
	for _, u := range m.Units() {
		if u.Principal == principal.Name {
			out = append(out, u)
		}
	}
	sortUnits(out)
	return out
}

func (m *Model) addSubordinateUnit(a *Application, principal *Unit) *Unit {
	u := m.newUnit(a, principal.Machine, principal.Address)
	u.Principal = principal.Name
	u.Paths.Root = principal.Paths.Root
	m.scheduleDeploy(u)
	return u
}

// relevant reports whether a unit takes part in r: its application is in it and, for a container-scoped
// relation, so is the application of the principal it sits on (a subordinate on another principal's
// machine is not).
func (m *Model) relevant(u *Unit, r *Relation) bool {
	if !r.involves(u.App.Name) {
		return false
	}
	if u.Principal == "" || !r.containerScoped() || r.IsPeer() {
		return true
	}
	p, ok := m.units[u.Principal]
	return ok && r.involves(p.App.Name)
}

// dropSubordinatesOf removes the subordinate units of sub whose principal is in app, when no alive
// container-scoped relation between the two applications is left.
func (m *Model) dropSubordinatesOf(principalApp, sub *Application) error {
	for _, r := range m.Relations() {
		if r.Life == Alive && r.containerScoped() && r.involves(principalApp.Name) && r.involves(sub.Name) {
			return nil
		}
	}
	for _, u := range sub.Units() {
		if p, ok := m.units[u.Principal]; ok && p.App == principalApp {
			if err := m.RemoveUnit(u.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

// subordinateTo lists, for status, the principal applications a subordinate application is related to.
func (m *Model) subordinateTo(a *Application) []string {
	seen := map[string]bool{}
	for _, r := range m.Relations() {
		if p, s, ok := m.principalAndSubordinate(r); ok && s == a {
			seen[p.Name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func errSubordinateUnits(app string) error {
	return fmt.Errorf("cannot add units to subordinate application %q: its units come with a container-scoped relation to a principal", app)
}
