package client_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/client"
	"github.com/etcd-charm/etcd/localmodel/lmtest"
)

// TestGoopsCallsThroughHookTools drives every goops v0.0.23 function through the real charm binary, so each
// hook tool is exercised with exactly the argv goops sends and its output is decoded by goops itself.
func TestGoopsCallsThroughHookTools(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	blob := filepath.Join(t.TempDir(), "blob.txt")
	if err := os.WriteFile(blob, []byte("payload"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Deploy(ctx, lmtest.Build(t).TestCharm, client.DeployOptions{App: "tc", NumUnits: 2,
		Config: map[string]string{"ratio": "0.5"}, Resources: map[string]string{"blob": blob}}); err != nil {
		t.Fatal(err)
	}
	deploy(t, m, "peer", 1, nil)
	waitIdle(t, m)
	id, err := m.Integrate(ctx, "tc:db", "peer:backend")
	if err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	db := fmt.Sprintf("db:%d", id)
	u0, _ := m.Unit(ctx, "tc/0")

	var leader bool
	mustCall(t, m, "tc/0", &leader, "IsLeader")
	mustCall(t, m, "tc/1", &leader, "IsLeader")
	if leader {
		t.Error("tc/1 claims leadership")
	}
	var cfg map[string]any
	mustCall(t, m, "tc/0", &cfg, "GetConfig")
	if cfg["nickname"] != nil || cfg["greeting"] != "hello" || cfg["count"] != float64(1) || cfg["ratio"] != 0.5 || cfg["enabled"] != true {
		t.Errorf("config-get --all: %v", cfg)
	}
	if _, hasNick := cfg["nickname"]; !hasNick {
		t.Error("config-get --all must list unset options as null")
	}

	mustCall(t, m, "tc/0", nil, "SetAppVersion", "3.6.16")
	mustCall(t, m, "tc/0", nil, "LogInfof", "hello from the charm")
	mustCall(t, m, "tc/0", nil, "SetUnitStatus", "maintenance", "two", "parts")
	var us struct{ Status, Message string }
	mustCall(t, m, "tc/0", &us, "GetUnitStatus")
	if us.Status != "maintenance" || us.Message != "two parts" {
		t.Errorf("status-get: %+v", us)
	}
	mustCall(t, m, "tc/0", nil, "SetAppStatus", "blocked", "needs attention")
	if _, e := call(t, m, "tc/0", "SetAppStatus", "active", "a", "b"); !strings.Contains(e, "unrecognized args") {
		t.Errorf("status-set with two message arguments must fail as on Juju: %q", e)
	}
	if _, e := call(t, m, "tc/1", "SetAppStatus", "active"); !strings.Contains(e, "not the leader") {
		t.Errorf("status-set --application by a non-leader: %q", e)
	}
	var as struct {
		Status  string                    `json:"status"`
		Message string                    `json:"message"`
		Units   map[string]map[string]any `json:"units"`
	}
	mustCall(t, m, "tc/0", &as, "GetAppStatus")
	if as.Status != "blocked" || as.Message != "needs attention" || len(as.Units) != 2 {
		t.Errorf("status-get --application: %+v", as)
	}
	if _, e := call(t, m, "tc/0", "SetUnitStatus", "unknown"); !strings.Contains(e, "invalid status") {
		t.Errorf("status-set unknown: %q", e)
	}

	var ids []string
	mustCall(t, m, "tc/0", &ids, "GetRelationIDs", "db")
	if !equal(ids, []string{db}) {
		t.Errorf("relation-ids db: %q", ids)
	}
	mustCall(t, m, "tc/0", &ids, "GetRelationIDs", "backend")
	if len(ids) != 0 {
		t.Errorf("relation-ids for an endpoint without relations: %q", ids)
	}
	var peers []string
	mustCall(t, m, "tc/0", &peers, "ListRelationUnits", "peers:0")
	if !equal(peers, []string{"tc/1"}) {
		t.Errorf("relation-list on a peer relation: %q", peers)
	}
	var uuid string
	mustCall(t, m, "tc/0", &uuid, "GetRelationModelUUID", db)
	if len(uuid) != 36 {
		t.Errorf("relation-model-get uuid %q", uuid)
	}
	if _, e := call(t, m, "tc/0", "GetRelationIDs", "nope"); e == "" {
		t.Error("relation-ids of an unknown endpoint should fail")
	}

	mustCall(t, m, "tc/0", nil, "SetState", "k", "v")
	var v string
	mustCall(t, m, "tc/0", &v, "GetState", "k")
	if v != "v" {
		t.Errorf("state-get after state-set: %q", v)
	}
	mustCall(t, m, "tc/0", nil, "DeleteState", "k")
	if _, e := call(t, m, "tc/0", "GetState", "k"); !strings.Contains(e, "no state found") {
		t.Errorf("state-get of a deleted key: %q", e)
	}

	mustCall(t, m, "tc/0", nil, "OpenPort", "8080", "tcp")
	mustCall(t, m, "tc/0", nil, "OpenPort", "53", "udp")
	var ports []struct {
		Port     int
		Protocol string
	}
	mustCall(t, m, "tc/0", &ports, "OpenedPorts")
	if len(ports) != 2 {
		t.Errorf("opened-ports: %+v", ports)
	}
	mustCall(t, m, "tc/0", nil, "SetPorts", "8443/tcp")
	st, _ := m.Status(ctx)
	if got := st.Applications["tc"].Units["tc/0"].OpenPorts; !equal(got, []string{"8443/tcp"}) {
		t.Errorf("status open-ports after SetPorts: %q", got)
	}

	for _, binding := range []string{"admin", "db", "peers", "backend"} {
		var nw struct {
			BindAddresses []struct {
				InterfaceName string `json:"interface-name"`
				Addresses     []struct{ Value, CIDR string }
			} `json:"bind-addresses"`
			IngressAddresses []string `json:"ingress-addresses"`
			EgressSubnets    []string `json:"egress-subnets"`
		}
		mustCall(t, m, "tc/0", &nw, "GetNetwork", binding)
		if nw.BindAddresses[0].Addresses[0].Value != u0.Address || nw.IngressAddresses[0] != u0.Address || nw.EgressSubnets[0] != u0.Address+"/32" {
			t.Errorf("network-get %s: %+v", binding, nw)
		}
	}
	if _, e := call(t, m, "tc/0", "GetNetwork", "nope"); !strings.Contains(e, `no network config found for binding "nope"`) {
		t.Errorf("network-get of an unknown binding: %q", e)
	}
	var addr string
	mustCall(t, m, "tc/0", &addr, "GetUnitPrivateAddress")
	mustCall(t, m, "tc/0", &v, "GetUnitPublicAddress")
	if addr != u0.Address || v != u0.Address {
		t.Errorf("unit-get: %q %q want %q", addr, v, u0.Address)
	}

	var storageIDs []string
	mustCall(t, m, "tc/0", &storageIDs, "ListStorage", "data")
	if len(storageIDs) != 1 {
		t.Fatalf("storage-list: %q", storageIDs)
	}
	var si struct{ Kind, Location string }
	mustCall(t, m, "tc/0", &si, "GetStorageByID", storageIDs[0])
	if si.Kind != "filesystem" || si.Location != filepath.Join(u0.Root, "srv/data") {
		t.Errorf("storage-get: %+v", si)
	}
	if fi, err := os.Stat(si.Location); err != nil || !fi.IsDir() {
		t.Errorf("storage location not attached: %v", err)
	}
	before := len(hooks(t, m, "tc/0"))
	mustCall(t, m, "tc/0", nil, "AddStorage", "data", "1")
	waitIdle(t, m)
	if got := hooks(t, m, "tc/0")[before:]; !equal(got, []string{"data-storage-attached"}) {
		t.Errorf("hooks after storage-add: %q", got)
	}

	var res string
	mustCall(t, m, "tc/0", &res, "GetResource", "blob")
	if b, err := os.ReadFile(strings.TrimSuffix(res, "\n")); err != nil || string(b) != "payload" {
		t.Errorf("resource-get %q: %q %v", res, b, err)
	}
	var gs struct {
		Units     map[string]struct{ Status string }            `json:"units"`
		Relations map[string]map[string]struct{ Status string } `json:"relations"`
	}
	mustCall(t, m, "tc/0", &gs, "GetGoalState")
	if len(gs.Units) != 2 || gs.Relations["db"]["peer"].Status != "joined" {
		t.Errorf("goal-state: %+v", gs)
	}
	if _, e := call(t, m, "tc/0", "GetCredential"); e == "" {
		t.Error("credential-get on an untrusted application should fail")
	}
	var meta struct{ Name string }
	mustCall(t, m, "tc/0", &meta, "ReadMetadata")
	if meta.Name != "testcharm" {
		t.Errorf("metadata: %+v", meta)
	}

	// Actions: typed parameters with defaults, results, logs and failure.
	res2, err := m.Run(ctx, "tc/0", "echo", map[string]any{"times": 5})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Status != "completed" || res2.Results["text"] != "hi" || res2.Results["times"] != "5" || res2.Results["loud"] != "false" || len(res2.Logs) != 1 {
		t.Errorf("echo action: %+v", res2)
	}
	if _, err := m.Run(ctx, "tc/0", "echo", map[string]any{"times": "many"}); err == nil || !strings.Contains(err.Error(), "invalid type") {
		t.Errorf("action param type validation: %v", err)
	}
	if _, err := m.Run(ctx, "tc/0", "call", map[string]any{}); err == nil || !strings.Contains(err.Error(), "required") {
		t.Errorf("required action param: %v", err)
	}
	failed, err := m.Run(ctx, "tc/leader", "fail", map[string]any{"message": "nope"})
	if err != nil {
		t.Fatal(err)
	}
	if failed.Status != "failed" || failed.Message != "nope" || failed.Results["partial"] != "yes" || failed.Unit != "tc/0" {
		t.Errorf("failed action: %+v", failed)
	}

	logs, _ := m.DebugLog("tc/0")
	if !strings.Contains(strings.Join(logs, "\n"), "INFO unit.tc/0.juju-log hello from the charm") {
		t.Errorf("juju-log line missing from debug-log")
	}
	st, _ = m.Status(ctx)
	if st.Applications["tc"].Version != "3.6.16" {
		t.Errorf("application version: %q", st.Applications["tc"].Version)
	}
	raw, _ := json.Marshal(st)
	for _, key := range []string{`"workload-status"`, `"juju-status"`, `"application-status"`, `"public-address"`, `"open-ports"`, `"charm-name"`, `"related-application"`} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("status JSON lacks %s", key)
		}
	}
}

// TestHookEnvironment checks Juju's per-hook variables as the charm itself saw them.
func TestHookEnvironment(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "tc", 2, nil)
	waitIdle(t, m)
	u1, _ := m.Unit(ctx, "tc/1")
	recs, err := lmtest.CharmLog(u1.Root)
	if err != nil {
		t.Fatal(err)
	}
	byHook := map[string]lmtest.HookRecord{}
	for _, r := range recs {
		byHook[r.Hook] = r
	}
	st := byHook["data-storage-attached"].Env
	if st["JUJU_STORAGE_ID"] == "" || st["JUJU_STORAGE_KIND"] != "filesystem" || st["JUJU_STORAGE_LOCATION"] != filepath.Join(u1.Root, "srv/data") {
		t.Errorf("storage hook env: %v", st)
	}
	j := byHook["peers-relation-joined"].Env
	if j["JUJU_RELATION"] != "peers" || j["JUJU_RELATION_ID"] != "peers:0" || j["JUJU_REMOTE_UNIT"] != "tc/0" || j["JUJU_REMOTE_APP"] != "tc" {
		t.Errorf("relation hook env: %v", j)
	}
	inst := byHook["install"]
	if inst.Env["JUJU_DISPATCH_PATH"] != "hooks/install" || inst.Env["JUJU_CHARM_DIR"] != u1.CharmDir || inst.Env["CHARM_DIR"] != u1.CharmDir ||
		!strings.HasPrefix(inst.Env["JUJU_VERSION"], "3.6.") || inst.Env["JUJU_UNIT_NAME"] != "tc/1" || inst.Leader {
		t.Errorf("install env: %+v", inst)
	}
	if _, err := m.Run(ctx, "tc/1", "echo", nil); err != nil {
		t.Fatal(err)
	}
	recs, _ = lmtest.CharmLog(u1.Root)
	last := recs[len(recs)-1]
	if last.Action != "echo" || last.Env["JUJU_DISPATCH_PATH"] != "actions/echo" || last.Env["JUJU_ACTION_UUID"] == "" || last.Env["JUJU_HOOK_NAME"] != "" {
		t.Errorf("action env: %+v", last)
	}
}
