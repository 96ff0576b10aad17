package hooktools_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/etcd-charm/etcd/localmodel/hooktools"
	"github.com/etcd-charm/etcd/localmodel/internal/modeltest"
	"github.com/etcd-charm/etcd/localmodel/model"
	"github.com/gruyaume/goops"
)

// inProcess is a goops CommandRunner that answers through hooktools.Run, recording each argv, and fails
// exactly as goops' own runner does on a non-zero exit.
type inProcess struct {
	ctx   *model.Context
	argvs [][]string
}

func (r *inProcess) Run(name string, args ...string) ([]byte, error) {
	r.argvs = append(r.argvs, append([]string{name}, args...))
	out, errOut, code := hooktools.Run(hooktools.Env{Ctx: r.ctx}, name, args, nil)
	if code != 0 {
		return nil, fmt.Errorf("command %s failed: %s: exit status %d", name, errOut, code)
	}
	return []byte(out), nil
}

func (r *inProcess) last() []string { return r.argvs[len(r.argvs)-1] }

// TestGoopsArgvAgainstHookTools runs real goops v0.0.23 calls against the hook tools in process, checking
// the exact argv goops sends and that goops decodes what the tools print.
func TestGoopsArgvAgainstHookTools(t *testing.T) {
	m := modeltest.New(t)
	if _, err := m.Deploy("tc", modeltest.Charm(t), nil, nil, 2); err != nil {
		t.Fatal(err)
	}
	modeltest.Drain(t, m)
	ctx, end := modeltest.Context(t, m, "tc/0")
	r := &inProcess{ctx: ctx}
	prev := goops.GetCommandRunner()
	goops.SetCommandRunner(r)
	t.Cleanup(func() { goops.SetCommandRunner(prev) })

	check := func(want ...string) {
		t.Helper()
		if got := r.last(); !reflect.DeepEqual(got, want) {
			t.Errorf("argv %q, want %q", got, want)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	leader, err := goops.IsLeader()
	must(err)
	check("is-leader", "--format=json")
	if !leader {
		t.Error("tc/0 should lead")
	}
	var cfg map[string]any
	must(goops.GetConfig(&cfg))
	check("config-get", "--all", "--format=json")
	if v, ok := cfg["nickname"]; !ok || v != nil || cfg["count"] != float64(1) {
		t.Errorf("config: %v", cfg)
	}
	ids, err := goops.GetRelationIDs("peers")
	must(err)
	check("relation-ids", "peers", "--format=json")
	if !reflect.DeepEqual(ids, []string{"peers:0"}) {
		t.Errorf("relation ids %q", ids)
	}
	must(goops.SetUnitRelationData("peers:0", map[string]string{"k": "v"}))
	check("relation-set", "-r=peers:0", "k=v")
	must(goops.SetAppRelationData("peers:0", map[string]string{"a": "b"}))
	check("relation-set", "-r=peers:0", "--app", "a=b")
	bag, err := goops.GetUnitRelationData("peers:0", "tc/0")
	must(err)
	check("relation-get", "-r=peers:0", "-", "tc/0", "--format=json")
	if bag["k"] != "v" {
		t.Errorf("own unit bag with pending write: %v", bag)
	}
	bag, err = goops.GetAppRelationData("peers:0", "tc/1")
	must(err)
	check("relation-get", "-r=peers:0", "-", "tc/1", "--app", "--format=json")
	if bag["a"] != "b" {
		t.Errorf("leader's own app bag (via a peer unit name) with pending write: %v", bag)
	}
	units, err := goops.ListRelationUnits("peers:0")
	must(err)
	check("relation-list", "-r=peers:0", "--format=json")
	if !reflect.DeepEqual(units, []string{"tc/1"}) {
		t.Errorf("relation-list %q", units)
	}
	app, err := goops.GetRelationApp("peers:0")
	must(err)
	check("relation-list", "-r=peers:0", "--app", "--format=json")
	if app != "tc" {
		t.Errorf("relation app %q", app)
	}
	uuid, err := goops.GetRelationModelUUID("peers:0")
	must(err)
	check("relation-model-get", "-r=peers:0", "--format=json")
	if uuid != m.UUID() {
		t.Errorf("model uuid %q", uuid)
	}

	must(goops.SetUnitStatus(goops.StatusWaiting, "for", "peers"))
	check("status-set", "waiting", "for peers")
	must(goops.SetAppStatus(goops.StatusActive, "ready"))
	check("status-set", "--application", "active", "ready")
	us, err := goops.GetUnitStatus()
	must(err)
	check("status-get", "--include-data", "--format=json")
	if us.Name != goops.StatusWaiting || us.Message != "for peers" {
		t.Errorf("unit status %+v", us)
	}
	as, err := goops.GetAppStatus()
	must(err)
	check("status-get", "--application", "--include-data", "--format=json")
	if as.Name != goops.StatusActive || len(as.Units) != 2 {
		t.Errorf("app status %+v", as)
	}
	must(goops.SetAppVersion("1.0"))
	check("application-version-set", "1.0")
	goops.LogInfof("hello %d", 1)
	check("juju-log", "--log-level=INFO", "hello 1")

	must(goops.SetState("k", "v"))
	check("state-set", "k=v")
	v, err := goops.GetState("k")
	must(err)
	check("state-get", "k", "--format=json")
	if v != "v" {
		t.Errorf("state %q", v)
	}
	must(goops.DeleteState("k"))
	check("state-delete", "k")

	must(goops.OpenPort(2379, goops.ProtocolTCP))
	check("open-port", "2379/tcp")
	must(goops.ClosePort(2380, goops.ProtocolUDP))
	check("close-port", "2380/udp")
	must(goops.OpenPort(0, goops.ProtocolICMP))
	check("open-port", "icmp")
	ports, err := goops.OpenedPorts()
	must(err)
	check("opened-ports", "--format=json")
	if len(ports) != 0 {
		t.Errorf("opened-ports must not show this hook's pending opens: %v", ports)
	}

	nw, err := goops.GetNetwork("admin")
	must(err)
	check("network-get", "admin", "--format=json")
	if nw.BindAddresses[0].Addresses[0].Value != "127.9.9.1" || nw.BindAddresses[0].Addresses[0].CIDR != "127.9.9.0/24" {
		t.Errorf("network %+v", nw)
	}
	addr, err := goops.GetUnitPrivateAddress()
	must(err)
	check("unit-get", "private-address", "--format=json")
	if addr != "127.9.9.1" {
		t.Errorf("address %q", addr)
	}

	ids, err = goops.ListStorage("data")
	must(err)
	check("storage-list", "data", "--format=json")
	si, err := goops.GetStorageByID(ids[0])
	must(err)
	check("storage-get", "-s", ids[0], "--format=json")
	if si.Kind != "filesystem" || !strings.HasSuffix(si.Location, "/tc/0/root/srv/data") {
		t.Errorf("storage %+v", si)
	}
	must(goops.AddStorage("data", 2))
	check("storage-add", "data=2")

	uri, err := goops.AddSecret(&goops.AddSecretOptions{Content: map[string]string{"password": "x"}, Label: "pw", Rotate: goops.RotateDaily})
	must(err)
	if !strings.HasSuffix(uri, "\n") {
		t.Errorf("secret-add must print the URI and a newline, got %q", uri)
	}
	uri = strings.TrimSpace(uri)
	content, err := goops.GetSecretByID(uri, false, false)
	must(err)
	check("secret-get", uri, "--format=json")
	if content["password"] != "x" {
		t.Errorf("pending secret readable in its own hook: %v", content)
	}
	_, err = goops.GetSecretByLabel("pw", true, false)
	must(err)
	check("secret-get", "--label=pw", "--peek", "--format=json")
	info, err := goops.GetSecretInfoByLabel("pw")
	must(err)
	check("secret-info-get", "--label=pw", "--format=json")
	if info[strings.TrimPrefix(uri, "secret:")].Revision != 1 || info[strings.TrimPrefix(uri, "secret:")].Rotation != "daily" {
		t.Errorf("secret info %+v", info)
	}
	secretIDs, err := goops.GetSecretIDs()
	must(err)
	check("secret-ids", "--format=json")
	if len(secretIDs) != 1 {
		t.Errorf("secret ids %q", secretIDs)
	}
	must(goops.SetSecret(&goops.SetSecretOptions{ID: uri, Content: map[string]string{"password": "y"}}))
	check("secret-set", uri, "password=y")
	must(goops.GrantSecretToRelation(uri, "peers:0"))
	check("secret-grant", uri, "--relation=peers:0")
	must(goops.GrantSecretToUnit(uri, "peers:0", "tc/1"))
	check("secret-grant", uri, "--relation=peers:0", "--unit=tc/1")
	must(goops.RevokeSecretFromRelation(uri, "peers:0"))
	check("secret-revoke", uri, "--relation=peers:0")
	must(goops.RevokeSecretFromUnit(uri, "tc/1"))
	check("secret-revoke", uri, "--unit=tc/1")
	must(goops.RevokeSecretFromApp(uri, "tc"))
	check("secret-revoke", uri, "--app=tc")
	if err := goops.RevokeSecret(uri); err == nil || !strings.Contains(err.Error(), "missing relation or application or unit") {
		t.Errorf("secret-revoke without a target outside a relation hook: %v", err)
	}
	if _, err := goops.AddSecret(&goops.AddSecretOptions{Content: map[string]string{"Bad_Key": "x"}}); err == nil {
		t.Error("secret-add accepted an invalid key")
	}

	gs, err := goops.GetGoalState()
	must(err)
	check("goal-state", "--format=json")
	if len(gs.Units) != 2 {
		t.Errorf("goal state %+v", gs)
	}
	if _, err := goops.GetResource("blob"); err == nil {
		t.Error("resource-get of a resource never supplied should fail")
	}
	if _, err := goops.GetCredential(); err == nil {
		t.Error("credential-get should fail for an untrusted application")
	}
	if err := goops.SetAppVersion(""); err == nil {
		t.Error("application-version-set with no argument fails on Juju, and must here")
	}
	if err := goops.FailActionf("x"); err == nil || !strings.Contains(err.Error(), "not running an action") {
		t.Errorf("action-fail outside an action: %v", err)
	}
	end(0)

	// The hook exited 0: everything buffered is committed.
	u, _ := m.Unit("tc/0")
	if got := model.SortedPorts(u.Ports); !reflect.DeepEqual(got, []string{"icmp", "2379/tcp"}) {
		t.Errorf("committed ports %q", got)
	}
	if len(m.Secrets()) != 1 || m.Secrets()[0].Latest != 2 {
		t.Errorf("committed secret: %+v", m.Secrets())
	}
	if n := len(u.Storage); n != 3 {
		t.Errorf("storage instances after storage-add data=2: %d", n)
	}
}

func TestNonLeaderPermissions(t *testing.T) {
	m := modeltest.New(t)
	if _, err := m.Deploy("tc", modeltest.Charm(t), nil, nil, 2); err != nil {
		t.Fatal(err)
	}
	modeltest.Drain(t, m)
	ctx, end := modeltest.Context(t, m, "tc/1")
	defer end(0)
	run := func(tool string, args ...string) (string, string, int) {
		return hooktools.Run(hooktools.Env{Ctx: ctx}, tool, args, nil)
	}
	if _, e, code := run("relation-set", "-r=peers:0", "--app", "k=v"); code != 1 || e != "ERROR cannot write relation settings\n" {
		t.Errorf("non-leader app write: %q %d", e, code)
	}
	if _, e, code := run("status-set", "--application", "active"); code != 1 || !strings.Contains(e, "not the leader") {
		t.Errorf("non-leader application status: %q %d", e, code)
	}
	if _, e, code := run("secret-add", "password=x"); code != 1 || !strings.Contains(e, "not the leader") {
		t.Errorf("non-leader secret-add: %q %d", e, code)
	}
	if out, e, code := run("secret-add", "--owner", "unit", "password=x"); code != 0 || !strings.HasPrefix(out, "secret:") {
		t.Errorf("unit-owned secret-add: %q %q %d", out, e, code)
	}
	if out, _, code := run("relation-get", "-r", "peers:0", "--app", "-", "tc/0", "--format", "json"); code != 0 || out != "{}\n" {
		t.Errorf("peer app bag readable by a non-leader: %q %d", out, code)
	}
}
