package model

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	"github.com/etcd-charm/etcd/localmodel/charmdir"
)

var appNameRE = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]*[a-z][a-z0-9]*)*$`)

// Deploy creates an application with its peer relations and n units. Config values are already typed.
func (m *Model) Deploy(name string, ch *charmdir.Charm, config map[string]any, resources map[string]string, n int) ([]*Unit, error) {
	return m.DeployWithStorage(name, ch, config, resources, nil, n)
}

// DeployWithStorage is Deploy with storage directives: name → instances per unit, within the charm's range.
func (m *Model) DeployWithStorage(name string, ch *charmdir.Charm, config map[string]any, resources map[string]string,
	storage map[string]int, n int) ([]*Unit, error) {
	if name == "" {
		name = ch.Meta.Name
	}
	if !appNameRE.MatchString(name) {
		return nil, fmt.Errorf("invalid application name %q", name)
	}
	if _, ok := m.apps[name]; ok {
		return nil, fmt.Errorf("cannot add application %q: application already exists", name)
	}
	if ch.Meta.Subordinate && n > 0 {
		return nil, fmt.Errorf("subordinate application must be deployed without units")
	}
	for k := range config {
		if _, ok := ch.Config.Options[k]; !ok {
			return nil, fmt.Errorf("unknown option %q", k)
		}
	}
	for r := range resources {
		if _, ok := ch.Meta.Resources[r]; !ok {
			return nil, fmt.Errorf("charm %q has no resource %q", ch.Meta.Name, r)
		}
	}
	a := &Application{
		Name: name, Charm: ch, Config: map[string]any{}, Resources: map[string]string{}, Life: Alive,
		LeaderSettings: map[string]string{}, units: map[string]*Unit{},
	}
	for k, v := range config {
		a.Config[k] = v
	}
	for k, v := range resources {
		a.Resources[k] = v
	}
	for k, v := range storage {
		spec, ok := ch.Meta.Storage[k]
		if !ok {
			return nil, fmt.Errorf("charm %q has no storage %q", ch.Meta.Name, k)
		}
		if v < minStorageCount(spec) || v > maxStorageCount(spec) {
			return nil, fmt.Errorf("storage %q: %d instances is outside the charm's range %q", k, v, spec.Multiple.Range)
		}
		if a.Storage == nil {
			a.Storage = map[string]int{}
		}
		a.Storage[k] = v
	}
	m.apps[name] = a
	for _, ep := range ch.Meta.Endpoints() {
		if ep.Role == charmdir.RolePeer {
			m.newRelation([]RelationEndpoint{{App: name, Endpoint: ep}})
		}
	}
	if n == 0 {
		return nil, nil
	}
	return m.AddUnits(name, n)
}

func (m *Model) newRelation(eps []RelationEndpoint) *Relation {
	r := &Relation{
		ID: m.nextRelationID, Endpoints: eps, Life: Alive,
		UnitBags: map[string]map[string]string{}, AppBags: map[string]map[string]string{}, scope: map[string]bool{},
	}
	m.nextRelationID++
	m.relations[r.ID] = r
	return r
}

// AddUnits adds n units to an application and queues each one's deploy sequence: storage-attached, install,
// relation-created for every relation, leader-elected or leader-settings-changed, config-changed, start.
// The unit enters relation scope (so -joined/-changed follow) once start has completed.
func (m *Model) AddUnits(app string, n int) ([]*Unit, error) {
	a, err := m.Application(app)
	if err != nil {
		return nil, err
	}
	if a.Life != Alive {
		return nil, fmt.Errorf("application %q is not alive", app)
	}
	if a.IsSubordinate() {
		return nil, errSubordinateUnits(app)
	}
	if n < 1 {
		return nil, fmt.Errorf("must add at least one unit")
	}
	var out []*Unit
	for i := 0; i < n; i++ {
		if m.nextHost > 254 {
			return out, fmt.Errorf("model address block exhausted (254 units per model)")
		}
		u := m.newUnit(a, fmt.Sprint(m.nextHost-1), fmt.Sprintf("%s%d", m.opts.AddressPrefix, m.nextHost))
		m.nextHost++
		m.scheduleDeploy(u)
		out = append(out, u)
	}
	m.ensureSubordinates()
	return out, nil
}

// newUnit adds the next unit of a to the model on the given machine and address, with nothing queued.
func (m *Model) newUnit(a *Application, machine, address string) *Unit {
	u := &Unit{
		Name: fmt.Sprintf("%s/%d", a.Name, a.nextUnit), App: a, Number: a.nextUnit,
		Machine: machine, Address: address,
		Life: Alive, State: map[string]string{}, Ports: map[string]bool{},
		Workload:    Status{Current: "waiting", Message: "agent initialising", Since: m.now},
		AgentStatus: Status{Current: "allocating", Since: m.now},
		known:       map[int]bool{}, related: map[int]bool{}, seen: map[int]map[string]bool{},
		members: map[int]map[string]bool{}, tracked: map[string]int{}, consumerLabels: map[string]string{},
		nextUpdateStatus: m.now.Add(m.opts.Jitter(m.opts.UpdateStatusInterval)),
	}
	a.nextUnit++
	u.Paths = m.opts.UnitLayout(u.Name)
	a.units[u.Name] = u
	m.units[u.Name] = u
	return u
}

func (m *Model) scheduleDeploy(u *Unit) {
	a := u.App
	for _, name := range a.Charm.Meta.StorageNames() {
		spec := a.Charm.Meta.Storage[name]
		count := minStorageCount(spec)
		if want, ok := a.Storage[name]; ok {
			count = want
		}
		for i := 0; i < count; i++ {
			m.attachStorage(u, name)
		}
	}
	m.enqueue(u, hookEvent("install"))
	for _, r := range m.Relations() {
		if r.Life == Alive && m.relevant(u, r) {
			u.related[r.ID] = true
			m.enqueue(u, relationEvent(r, a.Name, "created"))
		}
	}
	if a.Leader == "" && a.leaderlessSince.IsZero() {
		a.Leader = u.Name
		m.opts.Log("unit-"+unitTag(u.Name), "INFO", "juju.worker.leadership", u.Name+" promoted to leadership of "+a.Name)
		m.enqueue(u, hookEvent("leader-elected"))
	} else {
		m.enqueue(u, hookEvent("leader-settings-changed"))
	}
	m.enqueue(u, hookEvent("config-changed"))
	m.enqueue(u, hookEvent("start"))
}

// enterScope makes u visible in r to the units that see it, and them to u: each side gets -joined then
// -changed for the other.
func (m *Model) enterScope(u *Unit, r *Relation) {
	if r.Life != Alive || u.Life != Alive || !u.related[r.ID] || r.scope[u.Name] {
		return
	}
	r.scope[u.Name] = true
	for _, v := range r.scopeUnits(m) {
		if !r.sees(u, v) {
			continue
		}
		m.scheduleJoin(v, u, r)
		m.scheduleJoin(u, v, r)
	}
}

func (m *Model) scheduleJoin(to, remote *Unit, r *Relation) {
	if to.seen[r.ID] == nil {
		to.seen[r.ID] = map[string]bool{}
	}
	to.seen[r.ID][remote.Name] = true
	j := relationEvent(r, to.App.Name, "joined")
	j.RemoteUnit, j.RemoteApp = remote.Name, remote.App.Name
	c := relationEvent(r, to.App.Name, "changed")
	c.RemoteUnit, c.RemoteApp = remote.Name, remote.App.Name
	// -joined is always followed by -changed: append both without coalescing the -changed away.
	to.queue = append(to.queue, j, c)
	m.opts.Wake(to.Name)
}

// leaveScope removes u from r's scope; every unit that saw it gets -departed for it.
func (m *Model) leaveScope(u *Unit, r *Relation) {
	if !r.scope[u.Name] {
		return
	}
	delete(r.scope, u.Name)
	for _, v := range r.scopeUnits(m) {
		if v.seen[r.ID][u.Name] {
			m.scheduleDepart(v, u.Name, u.App.Name, u.Name, r)
		}
	}
}

func (m *Model) scheduleDepart(to *Unit, remote, remoteApp, departing string, r *Relation) {
	delete(to.seen[r.ID], remote)
	e := relationEvent(r, to.App.Name, "departed")
	e.RemoteUnit, e.RemoteApp, e.DepartingUnit = remote, remoteApp, departing
	m.enqueue(to, e)
}

// scheduleBreak queues -departed for every remote unit u still sees in r, then -broken.
func (m *Model) scheduleBreak(u *Unit, r *Relation, departing func(remote string) string) {
	if !u.related[r.ID] {
		return
	}
	for _, remote := range sortedKeys(u.seen[r.ID]) {
		remoteApp, _, _ := strings.Cut(remote, "/")
		m.scheduleDepart(u, remote, remoteApp, departing(remote), r)
	}
	b := relationEvent(r, u.App.Name, "broken")
	b.RemoteApp = r.RemoteApp(u.App.Name)
	delete(u.related, r.ID)
	m.enqueue(u, b)
}

func minStorageCount(spec charmdir.StorageSpec) int {
	rng := spec.Multiple.Range
	if rng == "" {
		return 1
	}
	var lo int
	if _, err := fmt.Sscanf(rng, "%d", &lo); err != nil {
		return 1
	}
	return lo
}

// maxStorageCount is the upper end of a storage range ("0-1" → 1, "1-" → unbounded, none → 1).
func maxStorageCount(spec charmdir.StorageSpec) int {
	rng := spec.Multiple.Range
	if rng == "" {
		return 1
	}
	_, hi, ok := strings.Cut(rng, "-")
	if !ok {
		return minStorageCount(spec)
	}
	if hi == "" {
		return math.MaxInt32
	}
	var n int
	if _, err := fmt.Sscanf(hi, "%d", &n); err != nil {
		return minStorageCount(spec)
	}
	return n
}

func unitTag(unit string) string {
	out := []byte(unit)
	for i, c := range out {
		if c == '/' {
			out[i] = '-'
		}
	}
	return string(out)
}
