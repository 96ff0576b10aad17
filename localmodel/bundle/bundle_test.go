package bundle

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A bundle shaped like Charmed Kubernetes' etcd part, with an overlay in the same file and one beside it.
const ckLike = `
description: etcd with a CA and a consumer
default-base: ubuntu@24.04
applications:
  easyrsa:
    charm: ./easyrsa.charm
    num_units: 1
    to: ["0"]
  etcd:
    charm: ./etcd.charm
    channel: stable
    num_units: 3
    options:
      channel: auto
      snapshot_retention: 5
      bind_to_all_interfaces: false
    storage:
      data: rootfs,1,10G
    bindings:
      "": alpha
  kubernetes-control-plane:
    charm: ./kcp.charm
    num_units: 1
    constraints: cores=2 mem=4G
relations:
- [etcd:certificates, easyrsa:client]
- [kubernetes-control-plane:etcd, etcd:db]
machines:
  "0": {}
--- # overlay: vault instead of easyrsa
applications:
  easyrsa:
  vault:
    charm: ./vault.charm
    num_units: 1
relations:
- [etcd:certificates, vault:certificates]
`

func TestGivenACKShapedBundleWithOverlaysWhenPlannedThenChangesFollowJujusMergeRules(t *testing.T) {
	dir := t.TempDir()
	docs, err := ReadFile(write(t, dir, "bundle.yaml", ckLike))
	if err != nil {
		t.Fatal(err)
	}
	odir := filepath.Join(dir, "overlays")
	if err := os.Mkdir(odir, 0o755); err != nil {
		t.Fatal(err)
	}
	more, err := ReadFile(write(t, odir, "expose.yaml", `
applications:
  etcd:
    options:
      snapshot_retention: 9
    resources:
      snapshot: ./snap.tar.gz
    exposed-endpoints:
      db:
        expose-to-cidrs: [10.0.0.0/24]
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || len(more) != 1 {
		t.Fatalf("documents: %d and %d", len(docs), len(more))
	}
	merged, err := Merge(docs[0], append(docs[1:], more...)...)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := Plan(merged)
	if err != nil {
		t.Fatal(err)
	}
	var apps []string
	for _, d := range ch.Deploys {
		apps = append(apps, d.App)
	}
	if strings.Join(apps, ",") != "etcd,kubernetes-control-plane,vault" {
		t.Errorf("deploys %v: easyrsa should be removed by the overlay, vault added", apps)
	}
	etcd := ch.Deploys[0]
	want := Deploy{App: "etcd", CharmPath: filepath.Join(dir, "etcd.charm"), NumUnits: 3,
		Config:    map[string]string{"channel": "auto", "snapshot_retention": "9", "bind_to_all_interfaces": "false"},
		Resources: map[string]string{"snapshot": filepath.Join(odir, "snap.tar.gz")}, Storage: map[string]int{"data": 1}}
	if !reflect.DeepEqual(etcd, want) {
		t.Errorf("etcd:\n got %+v\nwant %+v", etcd, want)
	}
	wantRel := [][2]string{{"kubernetes-control-plane:etcd", "etcd:db"}, {"etcd:certificates", "vault:certificates"}}
	if !reflect.DeepEqual(ch.Relations, wantRel) {
		t.Errorf("relations %v, want %v (easyrsa's went with it)", ch.Relations, wantRel)
	}
	if len(ch.Exposes) != 1 || ch.Exposes[0].App != "etcd" || ch.Exposes[0].Endpoints["db"].ExposeToCIDRs[0] != "10.0.0.0/24" {
		t.Errorf("exposes %+v", ch.Exposes)
	}
	if got := strings.Join(ch.Ignored, ";"); got != "etcd: channel;kubernetes-control-plane: constraints" {
		t.Errorf("ignored: %q", got)
	}
	desc := ch.Describe()
	for _, line := range []string{"- deploy application etcd from ", "- add 3 unit(s) of etcd", "- add relation etcd:certificates - vault:certificates",
		"- override expose settings for db of etcd"} {
		if !strings.Contains(desc, line) {
			t.Errorf("dry run lacks %q:\n%s", line, desc)
		}
	}
}

func TestGivenInvalidBundlesWhenReadOrPlannedThenEachErrorNamesTheProblem(t *testing.T) {
	for name, tc := range map[string]struct{ bundle, want string }{
		"typo in a key":        {"applications:\n  a:\n    charm: ./a\n    num-units: 1\n", "field num-units not found"},
		"charmhub charm":       {"applications:\n  a:\n    charm: etcd\n", "not a local path"},
		"no charm":             {"applications:\n  a:\n    num_units: 1\n", "no charm given"},
		"unknown relation app": {"applications:\n  a:\n    charm: ./a\nrelations:\n- [a:x, b:y]\n", `application "b" not defined`},
		"three endpoints":      {"applications:\n  a:\n    charm: ./a\nrelations:\n- [a:x, a:y, a:z]\n", "exactly two"},
		"saas":                 {"applications:\n  a:\n    charm: ./a\nsaas:\n  db:\n    url: c:admin/m.db\n", "saas"},
		"kubernetes":           {"bundle: kubernetes\napplications:\n  a:\n    charm: ./a\n", "machine model"},
		"exposed in base":      {"applications:\n  a:\n    charm: ./a\n    exposed-endpoints:\n      \"\": {}\n", "only be given in an overlay"},
		"revision resource":    {"applications:\n  a:\n    charm: ./a\n    resources:\n      r: 3\n", "needs Charmhub"},
		"other space":          {"applications:\n  a:\n    charm: ./a\n    bindings:\n      db: dmz\n", `space "dmz" not found`},
		"scale and units":      {"applications:\n  a:\n    charm: ./a\n    num_units: 1\n    scale: 2\n", "both scale and num_units"},
		"bad name":             {"applications:\n  A_b:\n    charm: ./a\n", "invalid application name"},
		"empty":                {"description: nothing\n", "no applications"},
		"map option":           {"applications:\n  a:\n    charm: ./a\n    options:\n      x: {y: 1}\n", "not a string, number or boolean"},
		"two counts":           {"applications:\n  a:\n    charm: ./a\n    storage:\n      data: 1,2\n", "more than one count"},
	} {
		t.Run(name, func(t *testing.T) {
			docs, err := ReadFile(write(t, t.TempDir(), "b.yaml", tc.bundle))
			if err == nil {
				var merged *Data
				if merged, err = Merge(docs[0], docs[1:]...); err == nil {
					_, err = Plan(merged)
				}
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestGivenExposeTrueAndExposedEndpointsFromAnOverlayThenJujuRefusesBoth(t *testing.T) {
	docs, err := ReadFile(write(t, t.TempDir(), "b.yaml", "applications:\n  a:\n    charm: ./a\n    expose: true\n---\napplications:\n  a:\n    exposed-endpoints:\n      \"\": {expose-to-cidrs: [0.0.0.0/0]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	merged, err := Merge(docs[0], docs[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Plan(merged); err == nil || !strings.Contains(err.Error(), "cannot be used together") {
		t.Fatalf("%v", err)
	}
}

func TestStorageCountReadsJujusDirective(t *testing.T) {
	for spec, want := range map[string]int{"rootfs,1,10G": 1, "ebs,10G,3": 3, "10G": 1, "2": 2, "": 1} {
		if got, err := storageCount(spec); err != nil || got != want {
			t.Errorf("storageCount(%q) = %d, %v; want %d", spec, got, err, want)
		}
	}
}
