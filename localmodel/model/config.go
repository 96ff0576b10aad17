package model

import (
	"fmt"
	"reflect"

	"github.com/etcd-charm/etcd/localmodel/charmdir"
)

// SetConfig applies typed values and resets keys; config-changed is queued on every unit when anything
// actually changed, as Juju does.
func (m *Model) SetConfig(app string, set map[string]any, reset []string) error {
	a, err := m.Application(app)
	if err != nil {
		return err
	}
	for k := range set {
		if _, ok := a.Charm.Config.Options[k]; !ok {
			return fmt.Errorf("unknown option %q", k)
		}
	}
	for _, k := range reset {
		if _, ok := a.Charm.Config.Options[k]; !ok {
			return fmt.Errorf("unknown option %q", k)
		}
	}
	before := a.EffectiveConfig()
	for _, k := range reset {
		delete(a.Config, k)
	}
	for k, v := range set {
		a.Config[k] = v
	}
	if reflect.DeepEqual(before, a.EffectiveConfig()) {
		return nil
	}
	for _, u := range a.Units() {
		if u.Life == Alive {
			m.enqueue(u, hookEvent("config-changed"))
		}
	}
	return nil
}

// Refresh replaces an application's charm and queues the upgrade sequence on every unit: upgrade-charm,
// config-changed, leader-settings-changed on non-leaders, start. Each unit's charm directory is replaced
// when its upgrade-charm hook is about to run.
func (m *Model) Refresh(app string, ch *charmdir.Charm) error {
	a, err := m.Application(app)
	if err != nil {
		return err
	}
	if ch.Meta.Name != a.Charm.Meta.Name {
		return fmt.Errorf("cannot refresh %q: charm name %q does not match %q", app, ch.Meta.Name, a.Charm.Meta.Name)
	}
	for k := range a.Config {
		if _, ok := ch.Config.Options[k]; !ok {
			delete(a.Config, k)
		}
	}
	a.Charm = ch
	a.CharmRev++
	for _, ep := range ch.Meta.Endpoints() {
		if ep.Role != charmdir.RolePeer {
			continue
		}
		exists := false
		for _, r := range m.relations {
			if r.IsPeer() && r.Endpoints[0].App == app && r.Endpoints[0].Name == ep.Name {
				exists = true
			}
		}
		if !exists {
			m.newRelation([]RelationEndpoint{{App: app, Endpoint: ep}})
		}
	}
	for _, u := range a.Units() {
		if u.Life != Alive {
			continue
		}
		m.enqueue(u, &Event{Hook: "upgrade-charm", RelationID: -1, Charm: ch})
		m.enqueue(u, hookEvent("config-changed"))
		if !u.IsLeader() {
			m.enqueue(u, hookEvent("leader-settings-changed"))
		}
		m.enqueue(u, hookEvent("start"))
	}
	return nil
}
