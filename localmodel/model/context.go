package model

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrPermissionDenied is Juju's refusal for reads and writes the unit may not make.
var ErrPermissionDenied = errors.New("permission denied")

// Context is one hook's view of the model and its pending changes. Changes Juju buffers in the hook
// context (relation settings, stored state, ports, storage-add, secret operations) are kept here and
// applied by commit only when the hook exits 0; status, version, logs and leader settings apply at once.
type Context struct {
	ID    string
	m     *Model
	Unit  *Unit
	Event *Event

	relUnit     map[int]map[string]string
	relApp      map[int]map[string]string
	snapshots   map[string]map[string]string
	state       map[string]*string
	portOps     []portOp
	storageAdds []string
	secretOps   []func()
	newSecrets  map[string]*Secret

	actionResults map[string]any
	actionFailed  bool
	actionMessage string
	actionLogs    []string

	// toolCalls counts the tool calls answered so far; a fault aimed at the run kills it when the count
	// reaches killAt (0: not aimed at), and killed records that it did.
	toolCalls int
	killAt    int
	fault     *HookFault
	killed    bool
}

type portOp struct {
	open bool
	port string
}

func (m *Model) newContext(u *Unit, e *Event) *Context {
	ctx := &Context{
		ID: fmt.Sprintf("%s-%s-%s", u.Name, strings.ReplaceAll(e.Name(), "/", "-"), randomHex(8)),
		m:  m, Unit: u, Event: e,
		relUnit: map[int]map[string]string{}, relApp: map[int]map[string]string{},
		snapshots: map[string]map[string]string{}, state: map[string]*string{},
		newSecrets: map[string]*Secret{}, actionResults: map[string]any{},
	}
	m.contexts[ctx.ID] = ctx
	return ctx
}

// Context returns the live hook context with the given JUJU_CONTEXT_ID.
func (m *Model) Context(id string) (*Context, error) {
	ctx, ok := m.contexts[id]
	if !ok {
		return nil, fmt.Errorf("bad request: unknown context %q", id)
	}
	if ctx.Unit.Life == Dead {
		return nil, fmt.Errorf("unit %q has been removed", ctx.Unit.Name)
	}
	if ctx.killed {
		// Calls the charm still had in flight are refused, so exactly the counted calls took effect.
		return nil, fmt.Errorf("hook context %q was killed by fault injection", id)
	}
	return ctx, nil
}

// Model is the model the context belongs to.
func (c *Context) Model() *Model { return c.m }

// IsAction reports whether the context runs an action.
func (c *Context) IsAction() bool { return c.Event.Task != nil }

// Task is the running action task, nil outside actions.
func (c *Context) Task() *Task { return c.Event.Task }

// commit applies the hook's buffered changes and schedules what they cause on other units.
func (m *Model) commit(c *Context) {
	u := c.Unit
	for _, id := range sortedIntKeys(c.relUnit) {
		r, ok := m.relations[id]
		if !ok || len(c.relUnit[id]) == 0 {
			continue
		}
		if applyBag(r.unitBag(u.Name), c.relUnit[id]) && r.scope[u.Name] {
			for _, v := range r.scopeUnits(m) {
				if r.sees(u, v) && v.seen[r.ID][u.Name] {
					e := relationEvent(r, v.App.Name, "changed")
					e.RemoteUnit, e.RemoteApp = u.Name, u.App.Name
					m.enqueue(v, e)
				}
			}
		}
	}
	for _, id := range sortedIntKeys(c.relApp) {
		r, ok := m.relations[id]
		if !ok || len(c.relApp[id]) == 0 {
			continue
		}
		if applyBag(r.appBag(u.App.Name), c.relApp[id]) {
			for _, v := range r.scopeUnits(m) {
				if v != u && (r.IsPeer() || v.App != u.App) {
					e := relationEvent(r, v.App.Name, "changed")
					e.RemoteApp = u.App.Name
					m.enqueue(v, e)
				}
			}
		}
	}
	for _, k := range sortedKeys(c.state) {
		if v := c.state[k]; v == nil {
			delete(u.State, k)
		} else {
			u.State[k] = *v
		}
	}
	for _, op := range c.portOps {
		if op.open {
			u.Ports[op.port] = true
		} else {
			delete(u.Ports, op.port)
		}
	}
	for _, name := range c.storageAdds {
		m.attachStorage(u, name)
	}
	for _, op := range c.secretOps {
		op()
	}
	if len(c.secretOps) > 0 {
		m.checkObsoleteRevisions()
	}
}

// applyBag merges pending writes ("" deletes) into bag and reports whether anything changed.
func applyBag(bag, pending map[string]string) bool {
	changed := false
	for k, v := range pending {
		old, had := bag[k]
		if v == "" {
			if had {
				delete(bag, k)
				changed = true
			}
			continue
		}
		if !had || old != v {
			bag[k] = v
			changed = true
		}
	}
	return changed
}

func sortedIntKeys[V any](m map[int]V) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// ParseRelationID turns a -r value into a relation id the way Juju does: the integer after the last ':'
// (so "db:3", "3" and gnuflag's "=db:3" all work).
func ParseRelationID(s string) (int, error) {
	v := s
	if i := strings.LastIndex(v, ":"); i >= 0 {
		v = v[i+1:]
	}
	v = strings.TrimPrefix(v, "=")
	id, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("invalid relation id")
	}
	return id, nil
}

// Relation resolves a -r value (empty: the hook's own relation) to a relation the unit knows.
func (c *Context) Relation(spec string) (*Relation, error) {
	var id int
	if spec == "" {
		if c.Event.RelationID < 0 {
			return nil, fmt.Errorf("no relation id specified")
		}
		id = c.Event.RelationID
	} else {
		var err error
		if id, err = ParseRelationID(spec); err != nil {
			return nil, err
		}
	}
	r, ok := c.m.relations[id]
	if !ok || !r.involves(c.Unit.App.Name) || !(c.Unit.known[id] || c.Event.RelationID == id) {
		return nil, fmt.Errorf("relation not found")
	}
	return r, nil
}

// RelationIDs lists the relations on an endpoint the unit knows, in "ep:id" form sorted by id.
func (c *Context) RelationIDs(endpoint string) ([]string, error) {
	if _, ok := c.Unit.App.Charm.Meta.Endpoint(endpoint); !ok {
		return nil, fmt.Errorf("no endpoint named %q", endpoint)
	}
	out := []string{}
	for _, r := range c.m.Relations() {
		ep, ok := r.Endpoint(c.Unit.App.Name)
		if ok && ep.Name == endpoint && c.Unit.known[r.ID] {
			out = append(out, r.RelationIDString(c.Unit.App.Name))
		}
	}
	return out, nil
}

// RelationUnits lists the remote units relation-list shows: joined and not departed; none during -broken.
func (c *Context) RelationUnits(r *Relation) []string {
	if c.Event.RelationID == r.ID && c.Event.Kind() == "broken" {
		return []string{}
	}
	return sortedKeys(c.Unit.members[r.ID])
}

// RelationGet reads a databag with Juju's permissions: own unit bag with pending writes; own app bag by the
// leader with pending writes, by other units only in a peer relation; remote bags as a per-hook snapshot.
func (c *Context) RelationGet(r *Relation, name string, app bool) (map[string]string, error) {
	u := c.Unit
	owner := name
	if app {
		if i := strings.Index(name, "/"); i >= 0 {
			owner = name[:i]
		}
		if !r.involves(owner) {
			return nil, fmt.Errorf("cannot read application settings: application %q is not in relation %d", owner, r.ID)
		}
		if owner == u.App.Name {
			if u.IsLeader() {
				return overlay(r.AppBags[owner], c.relApp[r.ID]), nil
			}
			if !r.IsPeer() {
				return nil, ErrPermissionDenied
			}
		}
		return c.snapshot("app:"+strconv.Itoa(r.ID)+":"+owner, r.AppBags[owner]), nil
	}
	if name == u.Name {
		return overlay(r.UnitBags[name], c.relUnit[r.ID]), nil
	}
	app2 := name
	if i := strings.Index(name, "/"); i >= 0 {
		app2 = name[:i]
	}
	if !r.involves(app2) {
		return nil, fmt.Errorf("cannot read settings for unit %q in relation %q: unit not found", name, r.RelationIDString(u.App.Name))
	}
	if _, ok := r.UnitBags[name]; !ok && !c.Unit.members[r.ID][name] && c.m.units[name] == nil {
		return nil, fmt.Errorf("cannot read settings for unit %q in relation %q: unit not found", name, r.RelationIDString(u.App.Name))
	}
	return c.snapshot("unit:"+strconv.Itoa(r.ID)+":"+name, r.UnitBags[name]), nil
}

func (c *Context) snapshot(key string, bag map[string]string) map[string]string {
	if s, ok := c.snapshots[key]; ok {
		return copyBag(s)
	}
	s := copyBag(bag)
	c.snapshots[key] = s
	return copyBag(s)
}

func overlay(bag, pending map[string]string) map[string]string {
	out := copyBag(bag)
	for k, v := range pending {
		if v == "" {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// ErrCannotWriteAppSettings is Juju's refusal of relation-set --app by a non-leader.
var ErrCannotWriteAppSettings = errors.New("cannot write relation settings")

// RelationSet buffers writes to the unit's own bag, or with app to its application's bag (leader only).
func (c *Context) RelationSet(r *Relation, app bool, values map[string]string) error {
	target := c.relUnit
	if app {
		if !c.Unit.IsLeader() {
			return ErrCannotWriteAppSettings
		}
		target = c.relApp
	}
	if target[r.ID] == nil {
		target[r.ID] = map[string]string{}
	}
	for k, v := range values {
		target[r.ID][k] = v
	}
	return nil
}
