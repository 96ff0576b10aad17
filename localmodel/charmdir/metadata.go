package charmdir

import "sort"

// Metadata is the part of metadata.yaml the local model acts on.
type Metadata struct {
	Name          string                  `yaml:"name"`
	Summary       string                  `yaml:"summary"`
	Peers         map[string]RelationSpec `yaml:"peers"`
	Provides      map[string]RelationSpec `yaml:"provides"`
	Requires      map[string]RelationSpec `yaml:"requires"`
	ExtraBindings map[string]any          `yaml:"extra-bindings"`
	Storage       map[string]StorageSpec  `yaml:"storage"`
	Resources     map[string]ResourceSpec `yaml:"resources"`
	Subordinate   bool                    `yaml:"subordinate"`
}

// RelationSpec is one endpoint declaration.
type RelationSpec struct {
	Interface string `yaml:"interface"`
	Limit     int    `yaml:"limit"`
	Scope     string `yaml:"scope"`
}

// StorageSpec is one storage declaration; Multiple.Range such as "0-" or "1-3" bounds the instance count.
type StorageSpec struct {
	Type     string `yaml:"type"`
	Location string `yaml:"location"`
	Multiple struct {
		Range string `yaml:"range"`
	} `yaml:"multiple"`
}

// ResourceSpec is one resource declaration.
type ResourceSpec struct {
	Type     string `yaml:"type"`
	Filename string `yaml:"filename"`
}

// Role is an endpoint's side of a relation, as Juju names it.
type Role string

const (
	RoleProvider Role = "provider"
	RoleRequirer Role = "requirer"
	RolePeer     Role = "peer"
)

// Endpoint is a named endpoint of a charm with its role and interface.
type Endpoint struct {
	Name      string
	Role      Role
	Interface string
	Scope     string
}

// Endpoints lists every relation endpoint, peers first, then sorted by name within a role.
func (m Metadata) Endpoints() []Endpoint {
	var out []Endpoint
	add := func(specs map[string]RelationSpec, role Role) {
		names := make([]string, 0, len(specs))
		for n := range specs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			scope := specs[n].Scope
			if scope == "" {
				scope = "global"
			}
			out = append(out, Endpoint{Name: n, Role: role, Interface: specs[n].Interface, Scope: scope})
		}
	}
	add(m.Peers, RolePeer)
	add(m.Provides, RoleProvider)
	// Juju gives every charm a juju-info provider endpoint, which subordinates relate to.
	if _, declared := m.Provides[JujuInfo]; !declared {
		if _, taken := m.Requires[JujuInfo]; !taken {
			out = append(out, Endpoint{Name: JujuInfo, Role: RoleProvider, Interface: JujuInfo, Scope: "global"})
		}
	}
	add(m.Requires, RoleRequirer)
	return out
}

// JujuInfo is the implicit endpoint (and interface) every charm provides.
const JujuInfo = "juju-info"

// Endpoint returns the named relation endpoint.
func (m Metadata) Endpoint(name string) (Endpoint, bool) {
	for _, ep := range m.Endpoints() {
		if ep.Name == name {
			return ep, true
		}
	}
	return Endpoint{}, false
}

// Bindings lists every name network-get accepts: relation endpoints and extra-bindings.
func (m Metadata) Bindings() []string {
	var out []string
	for _, ep := range m.Endpoints() {
		out = append(out, ep.Name)
	}
	for n := range m.ExtraBindings {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// StorageNames lists the declared storage names in sorted order.
func (m Metadata) StorageNames() []string {
	var out []string
	for n := range m.Storage {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
