package client_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/client"
	"github.com/etcd-charm/etcd/localmodel/lmtest"
)

func TestMain(m *testing.M) { lmtest.Main(m) }

// hooks is a unit's hook history without update-status, which is periodic and so not part of a sequence.
func hooks(t *testing.T, m *client.Model, unit string) []string {
	t.Helper()
	hs, err := m.Hooks(context.Background(), unit)
	if err != nil {
		t.Fatalf("hooks of %s: %v", unit, err)
	}
	return slices.DeleteFunc(hs, func(h string) bool { return h == "update-status" })
}

func wantHooks(t *testing.T, m *client.Model, unit string, want []string) {
	t.Helper()
	if got := hooks(t, m, unit); !reflect.DeepEqual(got, want) {
		t.Errorf("hooks of %s:\n got %q\nwant %q", unit, got, want)
	}
}

func waitIdle(t *testing.T, m *client.Model) {
	t.Helper()
	if err := m.WaitForIdle(lmtest.Ctx(t, 2*time.Minute), client.WaitOptions{Timeout: 90 * time.Second}); err != nil {
		t.Fatal(err)
	}
}

// call runs one goops function in the unit through the test charm's call action and returns its JSON
// result and error text.
func call(t *testing.T, m *client.Model, unit, fn string, args ...string) (string, string) {
	t.Helper()
	if args == nil {
		args = []string{}
	}
	res, err := m.Run(lmtest.Ctx(t, time.Minute), unit, "call", map[string]any{"fn": fn, "args": toAny(args)})
	if err != nil {
		t.Fatalf("call %s on %s: %v", fn, unit, err)
	}
	r, _ := res.Results["result"].(string)
	e, _ := res.Results["error"].(string)
	return r, e
}

// mustCall is call that fails the test when the goops call errors, decoding the result into out.
func mustCall(t *testing.T, m *client.Model, unit string, out any, fn string, args ...string) {
	t.Helper()
	r, e := call(t, m, unit, fn, args...)
	if e != "" {
		t.Fatalf("%s on %s failed: %s", fn, unit, e)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(r), out); err != nil {
			t.Fatalf("%s on %s: decoding %q: %v", fn, unit, r, err)
		}
	}
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func deploy(t *testing.T, m *client.Model, app string, n int, config map[string]string) []string {
	t.Helper()
	b := lmtest.Build(t)
	units, err := m.Deploy(lmtest.Ctx(t, time.Minute), b.TestCharm, client.DeployOptions{App: app, NumUnits: n, Config: config})
	if err != nil {
		t.Fatal(err)
	}
	return units
}

func waitOpts(d time.Duration) client.WaitOptions { return client.WaitOptions{Timeout: d} }
