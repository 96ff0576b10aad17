package model

import "fmt"

// RemoveUnit makes a unit dying and queues its departure: other units get -departed for it; it gets
// -departed for each unit it saw, -broken for every relation, storage-detaching, stop and remove.
func (m *Model) RemoveUnit(name string) error {
	u, err := m.Unit(name)
	if err != nil {
		return err
	}
	if u.Life != Alive {
		return nil
	}
	u.Life = Dying
	// A principal's subordinates go with it (Juju waits for them before the principal's machine goes).
	for _, s := range m.SubordinatesOf(u) {
		if err := m.RemoveUnit(s.Name); err != nil {
			return err
		}
	}
	for _, r := range m.Relations() {
		m.leaveScope(u, r)
	}
	for _, r := range m.Relations() {
		m.scheduleBreak(u, r, func(string) string { return u.Name })
	}
	for _, s := range u.Storage {
		m.enqueue(u, &Event{Hook: s.Name + "-storage-detaching", RelationID: -1, StorageID: s.ID})
	}
	m.enqueue(u, hookEvent("stop"))
	m.enqueue(u, hookEvent("remove"))
	return nil
}

// ForceRemoveUnit removes a unit at once, as when its machine dies: none of its hooks run again, the others
// see it depart, and if it led, leadership moves after the lease duration.
func (m *Model) ForceRemoveUnit(name string) error {
	u, err := m.Unit(name)
	if err != nil {
		return err
	}
	if u.Life == Dead {
		return nil
	}
	u.Life = Dying
	for _, s := range m.SubordinatesOf(u) {
		if err := m.ForceRemoveUnit(s.Name); err != nil {
			return err
		}
	}
	for _, r := range m.Relations() {
		m.leaveScope(u, r)
	}
	m.dropUnit(u, true)
	return nil
}

// dropUnit deletes a unit from the model; its queue is discarded.
func (m *Model) dropUnit(u *Unit, forced bool) {
	u.Life = Dead
	for _, t := range u.tasks {
		m.abandonTask(t, "unit removed")
	}
	u.queue, u.tasks = nil, nil
	m.removed[u.Name] = u
	delete(u.App.units, u.Name)
	delete(m.units, u.Name)
	for _, r := range m.relations {
		delete(r.scope, u.Name)
	}
	for _, s := range m.secrets {
		delete(s.tracking, u.Name)
	}
	if u.App.Leader == u.Name {
		u.App.Leader = ""
		u.App.leaderlessSince = m.now
	}
	m.opts.UnitGone(u, forced)
	m.reapRelations()
	m.reapApplication(u.App)
	m.checkObsoleteRevisions()
}

// RemoveApplication removes every unit and relation of an application; the application goes once its
// units have gone.
func (m *Model) RemoveApplication(name string) error {
	a, err := m.Application(name)
	if err != nil {
		return err
	}
	if a.Life != Alive {
		return nil
	}
	a.Life = Dying
	for _, r := range m.Relations() {
		if !r.IsPeer() && r.involves(name) {
			if err := m.RemoveRelation(r.ID); err != nil {
				return err
			}
		}
	}
	for _, u := range a.Units() {
		if err := m.RemoveUnit(u.Name); err != nil {
			return err
		}
	}
	m.reapApplication(a)
	return nil
}

func (m *Model) reapApplication(a *Application) {
	if a.Life == Alive || len(a.units) > 0 {
		return
	}
	for _, r := range m.Relations() {
		if r.involves(a.Name) {
			m.deleteRelation(r)
		}
	}
	for id, s := range m.secrets {
		if s.OwnerApp == a.Name {
			delete(m.secrets, id)
		}
	}
	delete(m.apps, a.Name)
}

// RemoveRelation makes a relation dying: every unit on both sides gets -departed for each unit it saw, then
// -broken. The relation is deleted once every unit has run -broken.
func (m *Model) RemoveRelation(id int) error {
	r, err := m.Relation(id)
	if err != nil {
		return err
	}
	if r.IsPeer() {
		return fmt.Errorf("cannot remove peer relation %q", r.Key())
	}
	if r.Life != Alive {
		return nil
	}
	r.Life = Dying
	r.scope = map[string]bool{}
	for _, u := range m.Units() {
		if r.involves(u.App.Name) {
			m.scheduleBreak(u, r, func(remote string) string { return remote })
		}
	}
	if p, s, ok := m.principalAndSubordinate(r); ok {
		if err := m.dropSubordinatesOf(p, s); err != nil {
			return err
		}
	}
	m.reapRelations()
	return nil
}

// reapRelations deletes dying relations no unit still has to break.
func (m *Model) reapRelations() {
	for _, r := range m.Relations() {
		if r.Life == Alive {
			continue
		}
		pending := false
		for _, u := range m.units {
			if u.related[r.ID] || u.known[r.ID] {
				pending = true
			}
		}
		if !pending {
			m.deleteRelation(r)
		}
	}
}

func (m *Model) deleteRelation(r *Relation) {
	delete(m.relations, r.ID)
	for _, s := range m.secrets {
		s.revokeRelation(r.ID)
	}
	for _, u := range m.units {
		delete(u.seen, r.ID)
		delete(u.members, r.ID)
		delete(u.related, r.ID)
		delete(u.known, r.ID)
	}
}
