package model

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/etcd-charm/etcd/localmodel/charmdir"
)

// JujuVersion is the Juju version the model claims to be, in JUJU_VERSION and status.
const JujuVersion = "3.6.11"

// Options configure a model.
type Options struct {
	Name string
	UUID string
	// AddressPrefix is the first three octets of the model's loopback block, e.g. "127.23.7.".
	AddressPrefix string
	// LeaseDuration is how long leadership stays unassigned after the leader unit goes away.
	LeaseDuration time.Duration
	// UpdateStatusInterval is how often every started unit gets update-status; 0 disables it.
	UpdateStatusInterval time.Duration
	// Jitter turns UpdateStatusInterval into one unit's wait for its next update-status; it is called afresh
	// for every wait of every unit. Nil means JujuJitter; tests inject a deterministic one.
	Jitter func(interval time.Duration) time.Duration
	// UnitLayout places a unit's directories; the controller supplies it so the model does no file I/O.
	UnitLayout func(unit string) UnitPaths
	// Wake is called (under the caller's lock; it must not block) when a unit may have work to run.
	Wake func(unit string)
	// UnitGone is called (under the caller's lock; it must not block) when a unit leaves the model, after its
	// remove hook or at once when forced.
	UnitGone func(unit *Unit, forced bool)
	// Log receives debug-log lines from the model's own bookkeeping (hook errors, leadership).
	Log func(entity, level, module, msg string)
}

// UnitPaths are where a unit lives on the host.
type UnitPaths struct {
	Dir         string
	CharmDir    string
	Root        string
	WorkloadLog string
}

// Model is one model's state.
type Model struct {
	opts      Options
	now       time.Time
	apps      map[string]*Application
	units     map[string]*Unit
	removed   map[string]*Unit
	relations map[int]*Relation
	secrets   map[string]*Secret
	contexts  map[string]*Context
	// faults are the armed hook faults by unit name, kills what they did (test tooling, not Juju).
	faults map[string]*HookFault
	kills  []HookKill

	nextRelationID int
	nextStorage    map[string]int
	nextHost       int
	nextTask       int
}

// New returns an empty model.
func New(opts Options) *Model {
	if opts.Name == "" {
		opts.Name = "default"
	}
	if opts.UUID == "" {
		opts.UUID = newUUID()
	}
	if opts.AddressPrefix == "" {
		opts.AddressPrefix = "127.0.1."
	}
	if opts.Wake == nil {
		opts.Wake = func(string) {}
	}
	if opts.UnitGone == nil {
		opts.UnitGone = func(*Unit, bool) {}
	}
	if opts.Log == nil {
		opts.Log = func(string, string, string, string) {}
	}
	if opts.Jitter == nil {
		opts.Jitter = JujuJitter
	}
	if opts.UnitLayout == nil {
		opts.UnitLayout = func(string) UnitPaths { return UnitPaths{} }
	}
	return &Model{
		opts:        opts,
		now:         time.Now(),
		apps:        map[string]*Application{},
		units:       map[string]*Unit{},
		removed:     map[string]*Unit{},
		relations:   map[int]*Relation{},
		secrets:     map[string]*Secret{},
		contexts:    map[string]*Context{},
		faults:      map[string]*HookFault{},
		nextStorage: map[string]int{},
		nextHost:    1,
		nextTask:    1,
	}
}

// Name is the model name.
func (m *Model) Name() string { return m.opts.Name }

// UUID is the model UUID.
func (m *Model) UUID() string { return m.opts.UUID }

// SetNow advances the model clock; the controller calls it before every operation so that "since"
// timestamps and timers use one notion of time that tests can drive.
func (m *Model) SetNow(t time.Time) { m.now = t }

// Now is the model clock.
func (m *Model) Now() time.Time { return m.now }

// Application returns an application by name.
func (m *Model) Application(name string) (*Application, error) {
	a, ok := m.apps[name]
	if !ok {
		return nil, fmt.Errorf("application %q not found", name)
	}
	return a, nil
}

// Unit returns a unit by name; "app/leader" resolves to the current leader.
func (m *Model) Unit(name string) (*Unit, error) {
	if app, ok := cutSuffix(name, "/leader"); ok {
		a, err := m.Application(app)
		if err != nil {
			return nil, err
		}
		if a.Leader == "" {
			return nil, fmt.Errorf("application %q has no leader", app)
		}
		name = a.Leader
	}
	u, ok := m.units[name]
	if !ok {
		return nil, fmt.Errorf("unit %q not found", name)
	}
	return u, nil
}

// AnyUnit returns a unit by name, including units that have left the model (for their history).
func (m *Model) AnyUnit(name string) (*Unit, error) {
	if u, err := m.Unit(name); err == nil {
		return u, nil
	}
	if u, ok := m.removed[name]; ok {
		return u, nil
	}
	return nil, fmt.Errorf("unit %q not found", name)
}

// Relation returns a relation by id.
func (m *Model) Relation(id int) (*Relation, error) {
	r, ok := m.relations[id]
	if !ok {
		return nil, fmt.Errorf("relation %d not found", id)
	}
	return r, nil
}

// Applications lists applications sorted by name.
func (m *Model) Applications() []*Application {
	out := make([]*Application, 0, len(m.apps))
	for _, a := range m.apps {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Units lists every unit sorted by application then number.
func (m *Model) Units() []*Unit {
	out := make([]*Unit, 0, len(m.units))
	for _, u := range m.units {
		out = append(out, u)
	}
	sortUnits(out)
	return out
}

// Relations lists relations sorted by id.
func (m *Model) Relations() []*Relation {
	out := make([]*Relation, 0, len(m.relations))
	for _, r := range m.relations {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Charm returns the current charm of an application.
func (m *Model) Charm(app string) (*charmdir.Charm, error) {
	a, err := m.Application(app)
	if err != nil {
		return nil, err
	}
	return a.Charm, nil
}

func sortUnits(us []*Unit) {
	sort.Slice(us, func(i, j int) bool {
		if us[i].App.Name != us[j].App.Name {
			return us[i].App.Name < us[j].App.Name
		}
		return us[i].Number < us[j].Number
	})
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
