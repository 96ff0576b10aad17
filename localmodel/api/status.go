package api

// Status is the document `status --format=json` prints; keys follow `juju status --format=json`.
type Status struct {
	Model        ModelStatus                  `json:"model" yaml:"model"`
	Machines     map[string]MachineStatus     `json:"machines" yaml:"machines"`
	Applications map[string]ApplicationStatus `json:"applications" yaml:"applications"`
	Controller   ControllerStatus             `json:"controller" yaml:"controller"`
}

// ModelStatus is the "model" section.
type ModelStatus struct {
	Name        string     `json:"name" yaml:"name"`
	Type        string     `json:"type" yaml:"type"`
	Controller  string     `json:"controller" yaml:"controller"`
	Cloud       string     `json:"cloud" yaml:"cloud"`
	Region      string     `json:"region,omitempty" yaml:"region,omitempty"`
	Version     string     `json:"version" yaml:"version"`
	ModelStatus StatusInfo `json:"model-status" yaml:"model-status"`
	SLA         string     `json:"sla" yaml:"sla"`
}

// ControllerStatus is the "controller" section.
type ControllerStatus struct {
	Timestamp string `json:"timestamp" yaml:"timestamp"`
}

// StatusInfo is Juju's status block: current value, message, since (and agent version for juju-status).
type StatusInfo struct {
	Current string `json:"current,omitempty" yaml:"current,omitempty"`
	Message string `json:"message,omitempty" yaml:"message,omitempty"`
	Since   string `json:"since,omitempty" yaml:"since,omitempty"`
	Version string `json:"version,omitempty" yaml:"version,omitempty"`
}

// Base is the OS a machine or application runs on.
type Base struct {
	Name    string `json:"name" yaml:"name"`
	Channel string `json:"channel" yaml:"channel"`
}

// MachineStatus is one entry of "machines": every unit runs on its own machine, as in a default Juju deploy.
type MachineStatus struct {
	JujuStatus    StatusInfo `json:"juju-status" yaml:"juju-status"`
	Hostname      string     `json:"hostname,omitempty" yaml:"hostname,omitempty"`
	DNSName       string     `json:"dns-name" yaml:"dns-name"`
	IPAddresses   []string   `json:"ip-addresses" yaml:"ip-addresses"`
	InstanceID    string     `json:"instance-id" yaml:"instance-id"`
	MachineStatus StatusInfo `json:"machine-status" yaml:"machine-status"`
	Base          Base       `json:"base" yaml:"base"`
}

// RelationEntry is one element of an application's "relations" list for an endpoint.
type RelationEntry struct {
	RelatedApplication string `json:"related-application" yaml:"related-application"`
	Interface          string `json:"interface" yaml:"interface"`
	Scope              string `json:"scope" yaml:"scope"`
}

// ApplicationStatus is one entry of "applications".
type ApplicationStatus struct {
	Charm             string                     `json:"charm" yaml:"charm"`
	Base              Base                       `json:"base" yaml:"base"`
	CharmOrigin       string                     `json:"charm-origin" yaml:"charm-origin"`
	CharmName         string                     `json:"charm-name" yaml:"charm-name"`
	CharmRev          int                        `json:"charm-rev" yaml:"charm-rev"`
	Exposed           bool                       `json:"exposed" yaml:"exposed"`
	ExposedEndpoints  map[string]ExposedEndpoint `json:"exposed-endpoints,omitempty" yaml:"exposed-endpoints,omitempty"`
	Life              string                     `json:"life,omitempty" yaml:"life,omitempty"`
	ApplicationStatus StatusInfo                 `json:"application-status" yaml:"application-status"`
	Relations         map[string][]RelationEntry `json:"relations,omitempty" yaml:"relations,omitempty"`
	Units             map[string]UnitStatus      `json:"units,omitempty" yaml:"units,omitempty"`
	Version           string                     `json:"version,omitempty" yaml:"version,omitempty"`
	SubordinateTo     []string                   `json:"subordinate-to,omitempty" yaml:"subordinate-to,omitempty"`
	EndpointBindings  map[string]string          `json:"endpoint-bindings,omitempty" yaml:"endpoint-bindings,omitempty"`
}

// ExposedEndpoint is one entry of "exposed-endpoints": who may reach the ports opened for an endpoint ("" for
// all endpoints) of an exposed application.
type ExposedEndpoint struct {
	ExposeToSpaces []string `json:"expose-to-spaces,omitempty" yaml:"expose-to-spaces,omitempty"`
	ExposeToCIDRs  []string `json:"expose-to-cidrs,omitempty" yaml:"expose-to-cidrs,omitempty"`
}

// UnitStatus is one entry of an application's "units".
type UnitStatus struct {
	WorkloadStatus StatusInfo `json:"workload-status" yaml:"workload-status"`
	JujuStatus     StatusInfo `json:"juju-status" yaml:"juju-status"`
	Leader         bool       `json:"leader,omitempty" yaml:"leader,omitempty"`
	Machine        string     `json:"machine" yaml:"machine"`
	OpenPorts      []string   `json:"open-ports,omitempty" yaml:"open-ports,omitempty"`
	PublicAddress  string     `json:"public-address" yaml:"public-address"`
	// Subordinates are the subordinate units on this (principal) unit's machine.
	Subordinates map[string]UnitStatus `json:"subordinates,omitempty" yaml:"subordinates,omitempty"`
}
