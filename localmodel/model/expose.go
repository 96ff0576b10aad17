package model

import (
	"fmt"
	"net"
	"slices"
)

// ExposedEndpoint is who may reach an exposed application's open ports on one endpoint (or, under the ""
// key, on all of them): Juju's expose-to-spaces and expose-to-cidrs.
type ExposedEndpoint struct {
	ToSpaces []string
	ToCIDRs  []string
}

// Everyone is what `juju expose` grants when no space or CIDR is named.
var Everyone = []string{"0.0.0.0/0", "::/0"}

// Space is the one network space of the local model: every binding answers the unit's loopback address.
const Space = "alpha"

// Expose marks an application exposed on the given endpoints ("" meaning all of them), replacing what those
// endpoints had, as `juju expose` does. An entry naming neither spaces nor CIDRs is opened to everyone.
// Like Juju, the model records it and shows it in status; no firewall exists here to apply it.
func (m *Model) Expose(app string, endpoints map[string]ExposedEndpoint) error {
	a, err := m.Application(app)
	if err != nil {
		return err
	}
	if a.Life != Alive {
		return fmt.Errorf("application %q is %s", app, a.Life)
	}
	if len(endpoints) == 0 {
		endpoints = map[string]ExposedEndpoint{"": {}}
	}
	names := a.Charm.Meta.Bindings()
	for ep, e := range endpoints {
		if ep != "" && !slices.Contains(names, ep) {
			return fmt.Errorf("endpoint %q not found", ep)
		}
		for _, s := range e.ToSpaces {
			if s != Space {
				return fmt.Errorf("space %q not found", s)
			}
		}
		for _, c := range e.ToCIDRs {
			if _, _, err := net.ParseCIDR(c); err != nil {
				return fmt.Errorf("unable to parse %q as a CIDR", c)
			}
		}
	}
	if a.Exposed == nil {
		a.Exposed = map[string]ExposedEndpoint{}
	}
	for ep, e := range endpoints {
		if len(e.ToSpaces) == 0 && len(e.ToCIDRs) == 0 {
			e.ToCIDRs = slices.Clone(Everyone)
		}
		a.Exposed[ep] = e
	}
	return nil
}

// Unexpose removes the expose settings of the given endpoints, or of all (the application is then no longer
// exposed), as `juju unexpose` does.
func (m *Model) Unexpose(app string, endpoints []string) error {
	a, err := m.Application(app)
	if err != nil {
		return err
	}
	if len(endpoints) == 0 {
		a.Exposed = nil
		return nil
	}
	for _, ep := range endpoints {
		if _, ok := a.Exposed[ep]; !ok {
			return fmt.Errorf("endpoint %q is not exposed", ep)
		}
	}
	for _, ep := range endpoints {
		delete(a.Exposed, ep)
	}
	if len(a.Exposed) == 0 {
		a.Exposed = nil
	}
	return nil
}
