package client

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/etcd-charm/etcd/localmodel/api"
)

// Units lists the model's units with their directories and addresses.
func (m *Model) Units(ctx context.Context) ([]api.UnitInfo, error) {
	var out []api.UnitInfo
	err := m.c.call(ctx, "/api/units", struct{}{}, &out)
	return out, err
}

// Unit describes one unit.
func (m *Model) Unit(ctx context.Context, name string) (api.UnitInfo, error) {
	units, err := m.Units(ctx)
	if err != nil {
		return api.UnitInfo{}, err
	}
	for _, u := range units {
		if u.Name == name {
			return u, nil
		}
	}
	return api.UnitInfo{}, fmt.Errorf("unit %q not found", name)
}

// HookHistory lists every completed run on a unit, including units that have left the model.
func (m *Model) HookHistory(ctx context.Context, unit string) ([]api.HookRun, error) {
	var out []api.HookRun
	err := m.c.call(ctx, "/api/history", api.NameRequest{Name: unit}, &out)
	return out, err
}

// Hooks is HookHistory reduced to hook names (actions and execs left out).
func (m *Model) Hooks(ctx context.Context, unit string) ([]string, error) {
	runs, err := m.HookHistory(ctx, unit)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range runs {
		if r.Hook != "" {
			out = append(out, r.Hook)
		}
	}
	return out, nil
}

// Relations lists relations.
func (m *Model) Relations(ctx context.Context) ([]api.RelationInfo, error) {
	var out []api.RelationInfo
	err := m.c.call(ctx, "/api/relations", struct{}{}, &out)
	return out, err
}

// UnitBag returns a unit's committed databag in a relation.
func (m *Model) UnitBag(ctx context.Context, relationID int, unit string) (map[string]string, error) {
	var out map[string]string
	err := m.c.call(ctx, "/api/bag", api.BagRequest{RelationID: relationID, Unit: unit}, &out)
	return out, err
}

// AppBag returns an application's committed databag in a relation.
func (m *Model) AppBag(ctx context.Context, relationID int, app string) (map[string]string, error) {
	var out map[string]string
	err := m.c.call(ctx, "/api/bag", api.BagRequest{RelationID: relationID, App: app}, &out)
	return out, err
}

// Secrets lists every secret with revisions, grants and consumer tracking.
func (m *Model) Secrets(ctx context.Context) ([]api.SecretInfo, error) {
	var out []api.SecretInfo
	err := m.c.call(ctx, "/api/secrets", struct{}{}, &out)
	return out, err
}

// State returns a unit's committed stored state.
func (m *Model) State(ctx context.Context, unit string) (map[string]string, error) {
	var out map[string]string
	err := m.c.call(ctx, "/api/state", api.NameRequest{Name: unit}, &out)
	return out, err
}

// DebugLogPath is the model's debug log file.
func (m *Model) DebugLogPath() string { return m.layout.DebugLog() }

// DebugLog returns the debug log's lines, optionally only those of one entity ("unit-app-0" or "app/0").
func (m *Model) DebugLog(include string) ([]string, error) {
	raw, err := os.ReadFile(m.layout.DebugLog())
	if err != nil {
		return nil, fmt.Errorf("reading debug log: %w", err)
	}
	return FilterLog(strings.Split(strings.TrimRight(string(raw), "\n"), "\n"), include), nil
}

// FilterLog keeps the lines of an entity; "app/0" is accepted for "unit-app-0".
func FilterLog(lines []string, include string) []string {
	if include == "" {
		return lines
	}
	if strings.Contains(include, "/") {
		include = "unit-" + strings.ReplaceAll(include, "/", "-")
	}
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, include+": ") {
			out = append(out, l)
		}
	}
	return out
}
