package bench

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/etcd-charm/etcd/localmodel/charmpack"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// App is the application name the bench deploys the charm as.
const App = "etcd"

// Artefacts are the binaries and the packed charm one bench run uses, built from the module's source.
type Artefacts struct {
	Localjuju, Dispatch, Charm string
}

// BuildArtefacts builds localjuju and the charm binary and packs the charm into outDir, as the charm tests do.
func BuildArtefacts(ctx context.Context, moduleDir, outDir string) (Artefacts, error) {
	a := Artefacts{Localjuju: filepath.Join(outDir, "localjuju"), Dispatch: filepath.Join(outDir, "dispatch"),
		Charm: filepath.Join(outDir, "etcd_amd64.charm")}
	if err := charmpack.Build(ctx, moduleDir, "./cmd/localjuju", a.Localjuju); err != nil {
		return a, err
	}
	if err := charmpack.Build(ctx, moduleDir, "./cmd/etcd-charm", a.Dispatch); err != nil {
		return a, err
	}
	return a, charmpack.Pack(filepath.Join(moduleDir, "charmcraft.yaml"), a.Dispatch, a.Charm)
}

// NewModel bootstraps a local model in dir. updateStatus is the update-status interval (Juju's default is 5m).
func NewModel(ctx context.Context, a Artefacts, dir string, updateStatus time.Duration) (*client.Model, error) {
	return client.Bootstrap(ctx, client.Options{Dir: dir, Binary: a.Localjuju, UpdateStatusInterval: updateStatus,
		LeaseDuration: 3 * time.Second})
}

// DeployActive deploys n units of the charm and returns the time until every unit first reports active
// with its agent idle, which is when an operator watching `juju status` sees the cluster ready.
func DeployActive(ctx context.Context, m *client.Model, charm string, n int) (time.Duration, error) {
	start := time.Now()
	if _, err := m.Deploy(ctx, charm, client.DeployOptions{App: App, NumUnits: n}); err != nil {
		return 0, err
	}
	return WaitUnitsActive(ctx, m, n, start)
}

// WaitUnitsActive polls status until n units of the application are active and idle; the duration is from
// start to the first poll that saw it.
func WaitUnitsActive(ctx context.Context, m *client.Model, n int, start time.Time) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	for {
		st, err := m.Status(ctx)
		if err == nil {
			active := 0
			for _, u := range st.Applications[App].Units {
				if u.WorkloadStatus.Current == "error" {
					return 0, fmt.Errorf("a unit is in error: %s", u.WorkloadStatus.Message)
				}
				if u.WorkloadStatus.Current == "active" && u.JujuStatus.Current == "idle" {
					active++
				}
			}
			if active == n && len(st.Applications[App].Units) == n {
				return time.Since(start), nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for %d active units: %w", n, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// CharmTarget is the deployed cluster as an admin client reaches it: every unit's client URL and the root
// certificate the charm keeps on the units.
func CharmTarget(ctx context.Context, m *client.Model) (Credentials, []string, error) {
	infos, err := m.Units(ctx)
	if err != nil {
		return Credentials{}, nil, err
	}
	var eps []string
	var tlsDir string
	for _, u := range infos {
		if !strings.HasPrefix(u.Name, App+"/") || (u.Life != "" && u.Life != "alive") {
			continue
		}
		eps = append(eps, "https://"+u.Address+":2379")
		tlsDir = filepath.Join(u.Root, "etc/etcd/tls")
	}
	if len(eps) == 0 {
		return Credentials{}, nil, fmt.Errorf("no %s units", App)
	}
	slices.Sort(eps)
	var c Credentials
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"ca.crt", &c.CAPEM}, {"root.crt", &c.CertPEM}, {"root.key", &c.KeyPEM}} {
		if *f.dst, err = os.ReadFile(filepath.Join(tlsDir, f.name)); err != nil {
			return c, nil, fmt.Errorf("reading the charm's admin credentials: %w", err)
		}
	}
	return c, eps, nil
}

// memberKeys are the settings of etcd's config file that name one member, its files or its addresses; the
// rest are cluster-wide choices.
var memberKeys = []string{"name", "data-dir", "listen-peer-urls", "listen-client-urls", "initial-advertise-peer-urls",
	"advertise-client-urls", "listen-metrics-urls", "initial-cluster", "initial-cluster-state", "initial-cluster-token",
	"client-transport-security", "peer-transport-security", "log-outputs"}

// CharmSettings reads the cluster-wide settings the charm rendered into a unit's etcd config file.
func CharmSettings(ctx context.Context, m *client.Model) (map[string]any, error) {
	infos, err := m.Units(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range infos {
		if !strings.HasPrefix(u.Name, App+"/") {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(u.Root, "etc/etcd/etcd.conf.yml"))
		if err != nil {
			return nil, fmt.Errorf("reading %s's etcd config: %w", u.Name, err)
		}
		settings := map[string]any{}
		if err := yaml.Unmarshal(raw, &settings); err != nil {
			return nil, fmt.Errorf("parsing %s's etcd config: %w", u.Name, err)
		}
		for _, k := range memberKeys {
			delete(settings, k)
		}
		return settings, nil
	}
	return nil, fmt.Errorf("no %s unit", App)
}

// DescribeSettings spells settings as key=value, sorted, for the report.
func DescribeSettings(settings map[string]any) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		parts = append(parts, fmt.Sprintf("`%s=%v`", k, settings[k]))
	}
	return strings.Join(parts, ", ")
}
