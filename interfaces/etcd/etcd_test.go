package etcd_test

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/etcd-charm/etcd/interfaces/etcd"
	"github.com/gruyaume/goops"
	"github.com/gruyaume/goops/goopstest"
)

// recorder wraps goopstest's runner from inside the charm function, so a test sees which hook tools ran.
type recorder struct {
	inner goops.CommandRunner
	calls *[]string
}

func (r recorder) Run(name string, args ...string) ([]byte, error) {
	*r.calls = append(*r.calls, name)
	return r.inner.Run(name, args...)
}

// runRecorded runs fn as a hook on etcd/0 with state, returning the state after and the hook tools called.
func runRecorded(t *testing.T, state goopstest.State, fn func() error) (goopstest.State, []string) {
	t.Helper()
	var calls []string
	ctx := goopstest.NewContext(func() error {
		goops.SetCommandRunner(recorder{inner: goops.GetCommandRunner(), calls: &calls})
		return fn()
	}, goopstest.WithUnitID("etcd/0"))
	out := ctx.Run("db-relation-changed", state)
	if ctx.CharmErr != nil {
		t.Fatal(ctx.CharmErr)
	}
	return out, calls
}

var data = etcd.ProviderData{
	ConnectionString: etcd.ConnectionString([]string{"https://10.0.0.9:2379", "https://10.0.0.11:2379"}),
	Version:          "3.6.16",
	Credentials:      etcd.Credentials{ClientCert: "CERT\n", ClientKey: "KEY\n", ClientCA: "CA\n"},
}

func dbRelation(local goopstest.DataBag) goopstest.State {
	return goopstest.State{Relations: []goopstest.Relation{{
		Endpoint: "db", ID: "db:3", RemoteAppName: "kubernetes-control-plane", LocalUnitData: local,
		RemoteUnitsData: map[goopstest.UnitID]goopstest.DataBag{"kubernetes-control-plane/0": {}},
	}}}
}

func TestConnectionStringSortsAsStrings(t *testing.T) {
	got := etcd.ConnectionString([]string{"https://10.5.0.9:2379", "https://10.5.0.11:2379", "https://10.5.0.12:2379", "https://10.5.0.9:2379"})
	if want := "https://10.5.0.11:2379,https://10.5.0.12:2379,https://10.5.0.9:2379"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestPublishWritesTheUnitDatabagOnlyWhenItChanges(t *testing.T) {
	// Given an empty unit databag, when the unit publishes
	out, _ := runRecorded(t, dbRelation(goopstest.DataBag{}), func() error { return etcd.Publish("db:3", data) })
	// Then its own unit databag holds the five classic keys as raw strings, and the app databag nothing
	rel := out.Relations[0]
	want := goopstest.DataBag{"connection_string": "https://10.0.0.11:2379,https://10.0.0.9:2379", "version": "3.6.16",
		"client_cert": "CERT\n", "client_key": "KEY\n", "client_ca": "CA\n"}
	if !maps.Equal(rel.LocalUnitData, want) || len(rel.LocalAppData) != 0 {
		t.Fatalf("unit databag %q app databag %q", rel.LocalUnitData, rel.LocalAppData)
	}

	// Given the databag already holds exactly that, when the unit publishes again, it does not write
	_, calls := runRecorded(t, dbRelation(maps.Clone(want)), func() error { return etcd.Publish("db:3", data) })
	if slices.Contains(calls, "relation-set") || !slices.Contains(calls, "relation-get") {
		t.Fatalf("hook tools called for an unchanged publish: %q", calls)
	}

	// Given one value changed, the write carries it
	changed := data
	changed.Version = "3.6.17"
	out, calls = runRecorded(t, dbRelation(maps.Clone(want)), func() error { return etcd.Publish("db:3", changed) })
	if !slices.Contains(calls, "relation-set") || out.Relations[0].LocalUnitData["version"] != "3.6.17" {
		t.Fatalf("calls %q databag %q", calls, out.Relations[0].LocalUnitData)
	}
}

func TestChangesDeletesOnlyKeysThatExist(t *testing.T) {
	got := etcd.Changes(map[string]string{"a": "1", "b": "2"}, map[string]string{"a": "1", "b": "", "c": "", "d": "4"})
	if want := map[string]string{"b": "", "d": "4"}; !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestConnectionMergesUnitsKeyByKey(t *testing.T) {
	// Given one etcd unit that has not published yet and one that has published everything
	state := goopstest.State{Relations: []goopstest.Relation{{
		Endpoint: "etcd", ID: "etcd:1", RemoteAppName: "etcd",
		RemoteUnitsData: map[goopstest.UnitID]goopstest.DataBag{
			"etcd/0": {"private-address": "10.0.0.1"},
			"etcd/1": {"connection_string": "https://10.0.0.1:2379,https://10.0.0.2:2379", "version": "3.6.16",
				"client_cert": "C", "client_key": "K", "client_ca": "A"},
		},
	}}}
	var conn etcd.Connection
	var ids []string
	ctx := goopstest.NewContext(func() (err error) {
		r := etcd.Requirer{Endpoint: "etcd"}
		if ids, err = r.RelationIDs(); err != nil {
			return err
		}
		conn, err = r.Connection("etcd:1")
		return err
	}, goopstest.WithUnitID("flannel/0"))
	ctx.Run("etcd-relation-changed", state)
	if ctx.CharmErr != nil {
		t.Fatal(ctx.CharmErr)
	}
	// Then the consumer sees the complete values, as if from one unit
	if !slices.Equal(ids, []string{"etcd:1"}) || !conn.Available() || !conn.TLSAvailable() || conn.Version != "3.6.16" ||
		!slices.Equal(conn.Endpoints(), []string{"https://10.0.0.1:2379", "https://10.0.0.2:2379"}) {
		t.Fatalf("ids %q connection %+v", ids, conn)
	}
	if (etcd.Connection{}).Available() || (etcd.Connection{ConnectionString: "x"}).TLSAvailable() {
		t.Fatal("an empty connection reports available")
	}
}

func TestSaveWritesTheKeyPrivately(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "there", "yet")
	creds := etcd.Credentials{ClientCert: "CERT", ClientKey: "KEY", ClientCA: "CA"}
	key, cert, ca := filepath.Join(dir, "client.key"), filepath.Join(dir, "client.crt"), filepath.Join(dir, "ca.crt")
	if err := creds.Save(key, cert, ca); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{key: "KEY", cert: "CERT", ca: "CA"} {
		b, err := os.ReadFile(path)
		if err != nil || string(b) != want {
			t.Errorf("%s: %q %v, want %q", path, b, err, want)
		}
	}
	st, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", st.Mode())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	if !creds.Complete() || (etcd.Credentials{ClientCert: "C", ClientKey: "K"}).Complete() {
		t.Error("Complete is wrong")
	}
}
