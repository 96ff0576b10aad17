package charm_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/bundle"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// deployExampleBundle deploys examples/bundles/charmed-kubernetes-etcd.yaml with the overlays named, as
// `localjuju deploy BUNDLE --overlay ...` does, the bundle text unchanged but for its charm paths (build/ in
// the bundle, the charms this test run built here).
func deployExampleBundle(t *testing.T, m *client.Model, overlays ...string) bundle.Changes {
	t.Helper()
	dir := filepath.Join(repoRoot(), "examples/bundles")
	docs, err := bundle.ReadFile(filepath.Join(dir, "charmed-kubernetes-etcd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range overlays {
		more, err := bundle.ReadFile(filepath.Join(dir, o))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, more...)
	}
	merged, err := bundle.Merge(docs[0], docs[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := bundle.Plan(merged)
	if err != nil {
		t.Fatal(err)
	}
	built := map[string]string{"etcd_amd64.charm": artefacts.charm, "etcd-requirer_amd64.charm": requirers.example,
		"ca-provider_amd64.charm": caProvider}
	for i, d := range ch.Deploys {
		path, ok := built[filepath.Base(d.CharmPath)]
		if !ok {
			t.Fatalf("the bundle deploys %s from %s, which this test does not build", d.App, d.CharmPath)
		}
		ch.Deploys[i].CharmPath = path
	}
	if _, err := m.DeployBundle(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	return ch
}

// Given Charmed Kubernetes' etcd part as examples/bundles writes it, when it is deployed alone and then (on a
// fresh model) with the vault overlay, then every unit is active, Debian's etcdctl verifies every member
// with the CA provider's certificate alone (easyrsa's; vault's root, with the members presenting vault's
// intermediate) while presenting the control plane's db credentials, and the control plane stand-in
// compacts etcd as kube-apiserver does.
func TestGivenTheCharmedKubernetesBundleAndItsVaultOverlayWhenDeployedThenEtcdctlVerifiesTheMembersWithTheProvidersCAAlone(t *testing.T) {
	buildCAProvider(t)
	buildRequirers(t)
	for _, shape := range []struct {
		name     string
		overlays []string
		ca       string
	}{
		{"easyrsa", nil, "easyrsa"},
		{"vault overlay", []string{"vault-pki-overlay.yaml"}, "vault"},
	} {
		t.Run(shape.name, func(t *testing.T) {
			m := newModel(t)
			ch := deployExampleBundle(t, m, shape.overlays...)
			var apps []string
			for _, d := range ch.Deploys {
				apps = append(apps, d.App)
			}
			waitAppsActive(t, m, 6*time.Minute, apps...)
			if len(aliveUnits(t, m)) != 3 {
				t.Fatalf("the bundle's etcd has %d units, want 3", len(aliveUnits(t, m)))
			}
			caFile := filepath.Join(unitInfo(t, m, shape.ca+"/0").Root, "var/lib/ca-provider/ca.crt")
			db := requirerFiles(t, m, "kubernetes-control-plane/0", "db")
			ctl := func(args ...string) (string, error) {
				out, err := etcdctl([]string{"ETCDCTL_API=3", "ETCDCTL_CACERT=" + caFile,
					"ETCDCTL_CERT=" + filepath.Join(db.dir, "client.crt"), "ETCDCTL_KEY=" + filepath.Join(db.dir, "client.key"),
					"ETCDCTL_ENDPOINTS=" + strings.Join(clientEndpoints(t, m), ","), "ETCDCTL_DIAL_TIMEOUT=3s", "ETCDCTL_COMMAND_TIMEOUT=5s"},
					args...).CombinedOutput()
				return strings.TrimSpace(string(out)), err
			}
			var out string
			waitFor(t, 2*time.Minute, "etcdctl verifying every member with "+shape.ca+"'s CA alone", func() bool {
				var err error
				out, err = ctl("endpoint", "health")
				return err == nil
			})
			if strings.Count(out, "is healthy") != 3 {
				t.Fatalf("etcdctl endpoint health with %s's CA alone:\n%s", shape.ca, out)
			}
			if out, err := ctl("put", "/registry/bundle", shape.name); err != nil {
				t.Fatalf("a put through etcdctl with the db credentials: %v\n%s", err, out)
			}
			if shape.ca == "vault" {
				chain, err := presentedChain(unitInfo(t, m, aliveUnits(t, m)[0]).Address)
				if err != nil || strings.Count(string(chain), "BEGIN CERTIFICATE") != 2 {
					t.Fatalf("a member presents %d certificates (%v); want its own and vault's intermediate", strings.Count(string(chain), "BEGIN CERTIFICATE"), err)
				}
			}
			// Two compaction rounds, as kube-apiserver runs them: the first claims a revision, the next
			// compacts to it; etcd then refuses reads at revisions before it.
			var claimed string
			for round := 1; round <= 2; round++ {
				res, err := m.Run(context.Background(), "kubernetes-control-plane/0", "compact", nil)
				if err != nil || res.Status != "completed" {
					t.Fatalf("compaction round %d: %v %+v", round, err, res)
				}
				if round == 1 {
					claimed, _ = res.Results["claimed"].(string)
				} else if got, _ := res.Results["compacted"].(string); got == "" || got != claimed {
					t.Fatalf("round 2 compacted to %q, want the revision round 1 claimed (%q): %+v", got, claimed, res.Results)
				}
			}
			if out, err := ctl("get", "/registry/bundle", "--rev=1"); err == nil || !strings.Contains(out, "compacted") {
				t.Fatalf("a read below the compacted revision: %v\n%s", err, out)
			}
			if data, err := os.ReadFile(caFile); err != nil || len(data) == 0 {
				t.Fatalf("reading %s: %v", caFile, err)
			}
		})
	}
}
