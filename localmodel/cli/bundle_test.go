package cli_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/client"
	"github.com/etcd-charm/etcd/localmodel/lmtest"
)

// Given a bundle with an overlay in the same file and one beside it, when `deploy BUNDLE --overlay`, then the
// model holds the merged applications, config, relations and expose settings, and `expose`/`unexpose`
// change what status shows, key for key as juju's.
func TestGivenABundleWithOverlaysWhenDeployedThenTheModelIsTheMergedBundle(t *testing.T) {
	b := lmtest.Build(t)
	work := t.TempDir()
	c := cli{t: t, bin: b.Localjuju, dir: filepath.Join(work, ".localjuju")}
	charms := filepath.Join(work, "charms")
	if err := os.Mkdir(charms, 0o755); err != nil {
		t.Fatal(err)
	}
	c.ok("pack", "--charmcraft", b.Charmcraft, "--dispatch", b.Dispatch, "-o", filepath.Join(charms, "testcharm.charm"))
	bundleFile := filepath.Join(work, "bundle.yaml")
	if err := os.WriteFile(bundleFile, []byte(`
description: a provider, a consumer, and one that an overlay takes out
applications:
  db:
    charm: ./charms/testcharm.charm
    num_units: 2
    options:
      greeting: bonjour
      count: 3
  app:
    charm: ./charms/testcharm.charm
    num_units: 1
    expose: true
  spare:
    charm: ./charms/testcharm.charm
    num_units: 1
relations:
- [app:backend, db:db]
- [spare:backend, db:db]
---
applications:
  spare:
`), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay := filepath.Join(work, "overlay.yaml")
	if err := os.WriteFile(overlay, []byte(`
applications:
  db:
    options:
      count: 5
    exposed-endpoints:
      db:
        expose-to-cidrs: [10.0.0.0/24]
        expose-to-spaces: [alpha]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	c.ok("bootstrap", "--update-status-interval", "1h", "--lease-duration", "1s")
	t.Cleanup(func() {
		if m, err := client.Connect(c.dir); err == nil {
			_ = m.Destroy(lmtest.Ctx(t, time.Minute))
		}
	})
	dry := c.ok("deploy", bundleFile, "--overlay", overlay, "--dry-run")
	if !strings.Contains(dry, "- add 2 unit(s) of db") || strings.Contains(dry, "spare") {
		t.Errorf("dry run:\n%s", dry)
	}
	if st := c.status(); len(st.Applications) != 0 {
		t.Fatalf("--dry-run deployed: %+v", st.Applications)
	}
	c.ok("deploy", bundleFile, "--overlay", overlay)
	c.ok("wait-for-idle", "--status", "active", "--timeout", "2m")

	st := c.status()
	if len(st.Applications) != 2 || len(st.Applications["db"].Units) != 2 || len(st.Applications["app"].Units) != 1 {
		t.Fatalf("applications after the bundle: %+v", st.Applications)
	}
	if rel := st.Applications["app"].Relations["backend"]; len(rel) != 1 || rel[0].RelatedApplication != "db" {
		t.Errorf("app's backend relation: %+v", st.Applications["app"].Relations)
	}
	if got := strings.TrimSpace(c.ok("config", "db", "count")); got != "5" {
		t.Errorf("db count = %q, want the overlay's 5", got)
	}
	if got := strings.TrimSpace(c.ok("config", "db", "greeting")); got != "bonjour" {
		t.Errorf("db greeting = %q, want the bundle's", got)
	}
	if a := st.Applications["app"]; !a.Exposed || !reflect.DeepEqual(a.ExposedEndpoints, map[string]api.ExposedEndpoint{"": {ExposeToCIDRs: []string{"0.0.0.0/0", "::/0"}}}) {
		t.Errorf("app expose: %v %+v", a.Exposed, a.ExposedEndpoints)
	}
	if a := st.Applications["db"]; !a.Exposed || !reflect.DeepEqual(a.ExposedEndpoints, map[string]api.ExposedEndpoint{"db": {ExposeToSpaces: []string{"alpha"}, ExposeToCIDRs: []string{"10.0.0.0/24"}}}) {
		t.Errorf("db expose: %v %+v", a.Exposed, a.ExposedEndpoints)
	}
	// The same bundle again is refused before anything changes.
	if errOut := c.fails(1, "deploy", bundleFile); !strings.Contains(errOut, `application "app" already exists`) {
		t.Errorf("second deploy: %s", errOut)
	}
	// expose / unexpose as juju's verbs.
	c.ok("unexpose", "app")
	c.ok("expose", "db", "--endpoints", "admin", "--to-cidrs", "192.168.0.0/16")
	c.fails(1, "expose", "db", "--to-spaces", "dmz")
	c.fails(1, "expose", "db", "--endpoints", "nope")
	st = c.status()
	if st.Applications["app"].Exposed || st.Applications["app"].ExposedEndpoints != nil {
		t.Errorf("app still exposed: %+v", st.Applications["app"])
	}
	if eps := st.Applications["db"].ExposedEndpoints; len(eps) != 2 || eps["admin"].ExposeToCIDRs[0] != "192.168.0.0/16" {
		t.Errorf("db expose after --endpoints admin: %+v", eps)
	}
	c.ok("unexpose", "db", "--endpoints", "db,admin")
	if st = c.status(); st.Applications["db"].Exposed {
		t.Errorf("db exposed after unexposing every endpoint: %+v", st.Applications["db"].ExposedEndpoints)
	}
	// A bundle that names a Charmhub charm fails naming it, and deploys nothing.
	bad := filepath.Join(work, "bad.yaml")
	if err := os.WriteFile(bad, []byte("applications:\n  etcd:\n    charm: etcd\n    num_units: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if errOut := c.fails(1, "deploy", bad); !strings.Contains(errOut, "not a local path") {
		t.Errorf("charmhub bundle: %s", errOut)
	}
}
