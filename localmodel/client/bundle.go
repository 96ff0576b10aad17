package client

import (
	"context"
	"fmt"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/bundle"
)

// DeployBundle carries out a bundle's changes in Juju's order: every application, then the relations, then
// expose. Applications that already exist are refused before anything is deployed (the local model does not
// diff a bundle against the model as `juju deploy` does). It returns the units it created.
func (m *Model) DeployBundle(ctx context.Context, ch bundle.Changes) ([]string, error) {
	st, err := m.Status(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range ch.Deploys {
		if _, ok := st.Applications[d.App]; ok {
			return nil, fmt.Errorf("application %q already exists in the model; remove it or rename it in the bundle", d.App)
		}
	}
	var units []string
	for _, d := range ch.Deploys {
		us, err := m.Deploy(ctx, d.CharmPath, DeployOptions{App: d.App, NumUnits: d.NumUnits, Config: d.Config,
			Resources: d.Resources, Storage: d.Storage})
		if err != nil {
			return units, err
		}
		units = append(units, us...)
	}
	for _, r := range ch.Relations {
		if _, err := m.Integrate(ctx, r[0], r[1]); err != nil {
			return units, err
		}
	}
	for _, e := range ch.Exposes {
		var eps map[string]api.ExposedEndpoint
		if len(e.Endpoints) > 0 {
			eps = map[string]api.ExposedEndpoint{}
			for ep, x := range e.Endpoints {
				eps[ep] = api.ExposedEndpoint{ExposeToSpaces: x.ExposeToSpaces, ExposeToCIDRs: x.ExposeToCIDRs}
			}
		}
		if err := m.Expose(ctx, e.App, eps); err != nil {
			return units, err
		}
	}
	return units, nil
}
