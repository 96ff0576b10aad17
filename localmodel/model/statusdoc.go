package model

import (
	"fmt"

	"github.com/etcd-charm/etcd/localmodel/api"
)

func statusInfo(s Status) api.StatusInfo {
	info := api.StatusInfo{Current: s.Current, Message: s.Message}
	if !s.Since.IsZero() {
		info.Since = FormatSince(s.Since)
	}
	return info
}

// StatusDoc renders the model as `juju status --format=json` would.
func (m *Model) StatusDoc() api.Status {
	st := api.Status{
		Model: api.ModelStatus{
			Name: m.opts.Name, Type: "iaas", Controller: "localjuju", Cloud: "localhost", Region: "localhost",
			Version: JujuVersion, ModelStatus: api.StatusInfo{Current: "available", Since: FormatSince(m.now)}, SLA: "unsupported",
		},
		Machines:     map[string]api.MachineStatus{},
		Applications: map[string]api.ApplicationStatus{},
		Controller:   api.ControllerStatus{Timestamp: m.now.UTC().Format("15:04:05Z07:00")},
	}
	base := api.Base{Name: "ubuntu", Channel: "24.04"}
	for _, a := range m.Applications() {
		as := api.ApplicationStatus{
			Charm: a.Charm.Meta.Name, Base: base, CharmOrigin: "local", CharmName: a.Charm.Meta.Name,
			CharmRev: a.CharmRev, ApplicationStatus: statusInfo(a.AppStatus()), Version: a.Version,
			Units: map[string]api.UnitStatus{}, Relations: map[string][]api.RelationEntry{},
			EndpointBindings: map[string]string{"": "alpha"},
		}
		if a.Life != Alive {
			as.Life = string(a.Life)
		}
		if len(a.Exposed) > 0 {
			as.Exposed, as.ExposedEndpoints = true, map[string]api.ExposedEndpoint{}
			for ep, e := range a.Exposed {
				as.ExposedEndpoints[ep] = api.ExposedEndpoint{ExposeToSpaces: e.ToSpaces, ExposeToCIDRs: e.ToCIDRs}
			}
		}
		for _, b := range a.Charm.Meta.Bindings() {
			as.EndpointBindings[b] = "alpha"
		}
		for _, r := range m.Relations() {
			ep, ok := r.Endpoint(a.Name)
			if !ok {
				continue
			}
			as.Relations[ep.Name] = append(as.Relations[ep.Name], api.RelationEntry{
				RelatedApplication: r.RemoteApp(a.Name), Interface: ep.Interface, Scope: ep.Scope,
			})
		}
		as.SubordinateTo = m.subordinateTo(a)
		if a.IsSubordinate() {
			// Juju lists a subordinate's units under their principals, not under the application.
			as.Units = nil
		}
		for _, u := range a.Units() {
			if u.Principal != "" {
				continue
			}
			us := unitStatus(u)
			for _, s := range m.SubordinatesOf(u) {
				if us.Subordinates == nil {
					us.Subordinates = map[string]api.UnitStatus{}
				}
				ss := unitStatus(s)
				ss.Machine = "" // Juju shows no machine for a subordinate unit
				us.Subordinates[s.Name] = ss
			}
			as.Units[u.Name] = us
			st.Machines[u.Machine] = api.MachineStatus{
				JujuStatus: api.StatusInfo{Current: "started", Since: FormatSince(u.Workload.Since), Version: JujuVersion},
				Hostname:   "localjuju-" + u.Machine, DNSName: u.Address, IPAddresses: []string{u.Address},
				InstanceID: "localjuju-" + u.Machine, MachineStatus: api.StatusInfo{Current: "running", Message: "Running"},
				Base: base,
			}
		}
		st.Applications[a.Name] = as
	}
	return st
}

func unitStatus(u *Unit) api.UnitStatus {
	us := api.UnitStatus{
		WorkloadStatus: statusInfo(u.Workload), JujuStatus: statusInfo(u.AgentStatus),
		Leader: u.IsLeader(), Machine: u.Machine, PublicAddress: u.Address,
		OpenPorts: SortedPorts(u.Ports),
	}
	us.JujuStatus.Version = JujuVersion
	if u.Life != Alive {
		us.JujuStatus.Message = fmt.Sprintf("%s (%s)", us.JujuStatus.Message, u.Life)
	}
	return us
}
