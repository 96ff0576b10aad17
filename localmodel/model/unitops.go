package model

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// StateGet reads stored state with this hook's pending writes.
func (c *Context) StateGet(key string) (string, bool) {
	if v, ok := c.state[key]; ok {
		if v == nil {
			return "", false
		}
		return *v, true
	}
	v, ok := c.Unit.State[key]
	return v, ok
}

// StateAll is all stored state with pending writes.
func (c *Context) StateAll() map[string]string {
	out := copyBag(c.Unit.State)
	for k, v := range c.state {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = *v
		}
	}
	return out
}

// StateSet buffers a stored-state write.
func (c *Context) StateSet(key, value string) { c.state[key] = &value }

// StateDelete buffers a stored-state deletion.
func (c *Context) StateDelete(key string) { c.state[key] = nil }

var portRE = regexp.MustCompile(`^(\d+)(?:-(\d+))?(?:/(tcp|udp))?$`)

// NormalizePort validates an open-port argument and returns Juju's canonical form ("80/tcp", "icmp").
func NormalizePort(arg string) (string, error) {
	a := strings.ToLower(arg)
	if a == "icmp" {
		return a, nil
	}
	mt := portRE.FindStringSubmatch(a)
	if mt == nil {
		return "", fmt.Errorf("invalid port range %q", arg)
	}
	from, _ := strconv.Atoi(mt[1])
	to := from
	if mt[2] != "" {
		to, _ = strconv.Atoi(mt[2])
	}
	if from < 1 || to > 65535 || to < from {
		return "", fmt.Errorf("invalid port range %q", arg)
	}
	proto := mt[3]
	if proto == "" {
		proto = "tcp"
	}
	if from == to {
		return fmt.Sprintf("%d/%s", from, proto), nil
	}
	return fmt.Sprintf("%d-%d/%s", from, to, proto), nil
}

// OpenPort buffers opening a port.
func (c *Context) OpenPort(port string) {
	c.portOps = append(c.portOps, portOp{open: true, port: port})
}

// ClosePort buffers closing a port.
func (c *Context) ClosePort(port string) { c.portOps = append(c.portOps, portOp{port: port}) }

// OpenedPorts lists the committed open ports (pending ones are not shown, as in Juju).
func (c *Context) OpenedPorts() []string { return SortedPorts(c.Unit.Ports) }

// SortedPorts orders ports by protocol then number.
func SortedPorts(ports map[string]bool) []string {
	out := make([]string, 0, len(ports))
	for p := range ports {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		pi, ni := splitPort(out[i])
		pj, nj := splitPort(out[j])
		if pi != pj {
			return pi < pj
		}
		return ni < nj
	})
	return out
}

func splitPort(p string) (string, int) {
	num, proto, ok := strings.Cut(p, "/")
	if !ok {
		return p, 0
	}
	from, _, _ := strings.Cut(num, "-")
	n, _ := strconv.Atoi(from)
	return proto, n
}

// StorageAdd buffers adding count instances of a storage.
func (c *Context) StorageAdd(name string, count int) error {
	if _, ok := c.Unit.App.Charm.Meta.Storage[name]; !ok {
		return fmt.Errorf("storage %q not found", name)
	}
	if count < 1 {
		return fmt.Errorf("count must be greater than zero")
	}
	for i := 0; i < count; i++ {
		c.storageAdds = append(c.storageAdds, name)
	}
	return nil
}

// Storage finds an attached storage instance by id.
func (c *Context) Storage(id string) (*StorageInstance, error) {
	if id == "" {
		id = c.Event.StorageID
	}
	if id == "" {
		return nil, fmt.Errorf("no storage instance specified")
	}
	for _, s := range c.Unit.Storage {
		if s.ID == id {
			return s, nil
		}
	}
	return nil, fmt.Errorf("storage instance %q not found", id)
}

// StorageList lists attached instance ids, optionally of one storage name.
func (c *Context) StorageList(name string) []string {
	out := []string{}
	for _, s := range c.Unit.Storage {
		if name == "" || s.Name == name {
			out = append(out, s.ID)
		}
	}
	return out
}

func (m *Model) attachStorage(u *Unit, name string) {
	spec := u.App.Charm.Meta.Storage[name]
	n := m.nextStorage[name]
	m.nextStorage[name]++
	multiple := spec.Multiple.Range != "" && spec.Multiple.Range != "1" && spec.Multiple.Range != "0-1"
	kind := spec.Type
	if kind == "" {
		kind = "filesystem"
	}
	index := 0
	for _, s := range u.Storage {
		if s.Name == name {
			index++
		}
	}
	s := &StorageInstance{ID: fmt.Sprintf("%s/%d", name, n), Name: name, Kind: kind,
		Location: storageLocation(u, name, spec.Location, index, multiple)}
	u.Storage = append(u.Storage, s)
	m.enqueue(u, &Event{Hook: name + "-storage-attached", RelationID: -1, StorageID: s.ID})
}

// validWorkloadStatus are the values status-set accepts.
var validWorkloadStatus = map[string]bool{"maintenance": true, "blocked": true, "waiting": true, "active": true}

// ValidWorkloadStatus reports whether status-set accepts s.
func ValidWorkloadStatus(s string) bool { return validWorkloadStatus[s] }

// SetUnitStatus sets the unit's workload status at once (status-set is not transactional).
func (c *Context) SetUnitStatus(status, message string) {
	st := Status{Current: status, Message: message, Since: c.m.now}
	c.Unit.lastCharmStatus = &st
	if c.Unit.Workload.Current == "error" && c.Unit.failed != nil {
		return
	}
	c.Unit.Workload = st
}

// SetAppStatus sets the application status; only the leader may.
func (c *Context) SetAppStatus(status, message string) error {
	if !c.Unit.IsLeader() {
		return fmt.Errorf("this unit is not the leader")
	}
	c.Unit.App.Status = &Status{Current: status, Message: message, Since: c.m.now}
	return nil
}

// AppStatus is the application's status as `juju status` derives it.
func (a *Application) AppStatus() Status {
	if a.Status != nil {
		return *a.Status
	}
	rank := map[string]int{"error": 6, "blocked": 5, "maintenance": 4, "waiting": 3, "active": 2, "unknown": 1, "terminated": 0}
	best := Status{Current: "unknown"}
	for _, u := range a.Units() {
		if rank[u.Workload.Current] > rank[best.Current] {
			best = u.Workload
		}
	}
	if len(a.units) == 0 {
		best = Status{Current: "unknown"}
	}
	return best
}

// SetVersion records the application version (immediate).
func (c *Context) SetVersion(v string) { c.Unit.App.Version = v }

// LeaderSet writes leader settings (immediate, leader only) and notifies the other units.
func (c *Context) LeaderSet(values map[string]string) error {
	if !c.Unit.IsLeader() {
		return fmt.Errorf("cannot write leadership settings: cannot write settings: not the leader")
	}
	a := c.Unit.App
	if !applyBag(a.LeaderSettings, values) {
		return nil
	}
	for _, u := range a.Units() {
		if u != c.Unit && u.Life == Alive {
			c.m.enqueue(u, hookEvent("leader-settings-changed"))
		}
	}
	return nil
}

// Config is the unit's application config with defaults and nulls.
func (c *Context) Config() map[string]any { return c.Unit.App.EffectiveConfig() }

// ActionParams returns the running action's validated parameters.
func (c *Context) ActionParams() (map[string]any, error) {
	if c.Event.Task == nil {
		return nil, fmt.Errorf("not running an action")
	}
	return c.Event.Task.Params, nil
}

var actionKeyRE = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`)

// ActionSet records results; dotted keys nest.
func (c *Context) ActionSet(values [][2]string) error {
	if c.Event.Task == nil {
		return fmt.Errorf("not running an action")
	}
	for _, kv := range values {
		parts := strings.Split(kv[0], ".")
		for _, p := range parts {
			if !actionKeyRE.MatchString(p) {
				return fmt.Errorf("key %q must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods", kv[0])
			}
		}
		switch parts[0] {
		case "stdout", "stdout-encoding", "stderr", "stderr-encoding":
			return fmt.Errorf("cannot set reserved action key %q", parts[0])
		}
	}
	for _, kv := range values {
		parts := strings.Split(kv[0], ".")
		m := c.actionResults
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = kv[1]
	}
	return nil
}

// ActionFail marks the running action failed.
func (c *Context) ActionFail(msg string) error {
	if c.Event.Task == nil {
		return fmt.Errorf("not running an action")
	}
	c.actionFailed, c.actionMessage = true, msg
	return nil
}

// ActionLog records a progress message.
func (c *Context) ActionLog(msg string) error {
	if c.Event.Task == nil {
		return fmt.Errorf("not running an action")
	}
	c.actionLogs = append(c.actionLogs, msg)
	return nil
}

// Binding validates a network-get binding name: an endpoint or an extra-binding.
func (c *Context) Binding(name string) error {
	for _, b := range c.Unit.App.Charm.Meta.Bindings() {
		if b == name {
			return nil
		}
	}
	return fmt.Errorf("no network config found for binding %q", name)
}

// CIDR is the unit's loopback /24.
func (c *Context) CIDR() string {
	return strings.TrimSuffix(c.m.opts.AddressPrefix, ".") + ".0/24"
}

// Resource is the host path of a resource the application was deployed with.
func (c *Context) Resource(name string) (string, error) {
	if _, ok := c.Unit.App.Charm.Meta.Resources[name]; !ok {
		return "", fmt.Errorf("resource %q not found", name)
	}
	p, ok := c.Unit.App.Resources[name]
	if !ok {
		return "", fmt.Errorf("could not download resource: resource %q has no file uploaded", name)
	}
	return p, nil
}

// GoalState is what goal-state prints.
type GoalState struct {
	Units     map[string]GoalStatus            `json:"units"`
	Relations map[string]map[string]GoalStatus `json:"relations"`
}

// GoalStatus is one entry of goal-state.
type GoalStatus struct {
	Status string `json:"status"`
	Since  string `json:"since,omitempty"`
}

// GoalState reports the units of the unit's application and, per endpoint, the related applications and units.
func (c *Context) GoalState() GoalState {
	since := FormatSince(c.m.now)
	gs := GoalState{Units: map[string]GoalStatus{}, Relations: map[string]map[string]GoalStatus{}}
	unitStatus := func(u *Unit) string {
		if u.Life != Alive {
			return "dying"
		}
		if !u.started {
			return "waiting"
		}
		return "active"
	}
	for _, u := range c.Unit.App.Units() {
		gs.Units[u.Name] = GoalStatus{Status: unitStatus(u), Since: since}
	}
	for _, r := range c.m.Relations() {
		ep, ok := r.Endpoint(c.Unit.App.Name)
		if !ok || r.IsPeer() {
			continue
		}
		remote := r.RemoteApp(c.Unit.App.Name)
		entry := gs.Relations[ep.Name]
		if entry == nil {
			entry = map[string]GoalStatus{}
			gs.Relations[ep.Name] = entry
		}
		st := "joined"
		if r.Life != Alive {
			st = "dying"
		}
		entry[remote] = GoalStatus{Status: st, Since: since}
		if a, ok := c.m.apps[remote]; ok {
			for _, u := range a.Units() {
				entry[u.Name] = GoalStatus{Status: unitStatus(u), Since: since}
			}
		}
	}
	return gs
}
