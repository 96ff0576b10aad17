package systemd

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestStartStopIsActive(t *testing.T) {
	f := newFixture(t)

	r := f.mustCtl(5, "start", "etcd")
	if r.stderr != "Failed to start etcd.service: Unit etcd.service not found.\n" {
		t.Errorf("start of unknown unit: stderr %q", r.stderr)
	}
	r = f.mustCtl(3, "is-active", "etcd")
	if r.stdout != "inactive\n" {
		t.Errorf("is-active of unknown unit: %q", r.stdout)
	}

	report := f.helperUnit("etcd", "serve", "")
	f.mustCtl(0, "start", "etcd")
	rep := readReport(t, report)
	if got := f.sup.MainPID("etcd.service"); got != rep.PID {
		t.Fatalf("MainPID %d, helper pid %d", got, rep.PID)
	}
	if r := f.mustCtl(0, "is-active", "etcd.service"); r.stdout != "active\n" {
		t.Errorf("is-active: %q", r.stdout)
	}
	if st := f.sup.ActiveState("etcd"); st != "active" {
		t.Errorf("ActiveState %q", st)
	}

	f.mustCtl(0, "start", "etcd")
	if got := f.sup.MainPID("etcd"); got != rep.PID {
		t.Errorf("start of an active unit changed MainPID from %d to %d", rep.PID, got)
	}

	f.mustCtl(0, "stop", "etcd")
	if alive(rep.PID) {
		t.Errorf("pid %d still alive after stop", rep.PID)
	}
	if r := f.mustCtl(3, "is-active", "etcd"); r.stdout != "inactive\n" {
		t.Errorf("is-active after stop: %q\n%s", r.stdout, f.ctl("show", "etcd").stdout)
	}
	if r := f.mustCtl(3, "is-active", "--quiet", "etcd"); r.stdout != "" {
		t.Errorf("is-active --quiet printed %q", r.stdout)
	}
	if f.sup.MainPID("etcd") != 0 {
		t.Errorf("MainPID not 0 after stop")
	}
	f.mustCtl(0, "stop", "etcd") // stopping an inactive unit is a no-op

	log, err := os.ReadFile(f.log)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-- started etcd.service pid " + strconv.Itoa(rep.PID) + " --", "helper serving"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("workload log lacks %q:\n%s", want, log)
		}
	}
}

func TestRestartReplacesProcess(t *testing.T) {
	f := newFixture(t)
	report := f.helperUnit("etcd", "serve", "")
	f.mustCtl(5, "restart", "nope")

	f.mustCtl(0, "restart", "etcd") // restart of an inactive unit starts it
	first := readReport(t, report)
	f.mustCtl(0, "restart", "etcd")
	second := readReport(t, report)
	if first.PID == second.PID || alive(first.PID) {
		t.Fatalf("restart kept pid %d alive (new %d)", first.PID, second.PID)
	}
	if got := f.show("etcd", "NRestarts"); got != "0" {
		t.Errorf("NRestarts after manual restarts = %s, want 0", got)
	}
}

func TestEnvironmentReachesProcess(t *testing.T) {
	f := newFixture(t)
	envFile := f.path("etc/default/etcd")
	if err := os.MkdirAll(f.path("etc/default"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(envFile, []byte("# comment\nFROM_FILE=\"file value\"\nOVERRIDDEN=by-file\nWORDS=a b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	report := f.path("run/env.json")
	if err := os.MkdirAll(f.path("run"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.writeUnit("env.service", `[Service]
Environment="SPACED=one two" PLAIN=yes
Environment=OVERRIDDEN=by-unit
EnvironmentFile=`+envFile+`
EnvironmentFile=-`+f.path("etc/default/missing")+`
WorkingDirectory=`+f.path("etc")+`
ExecStart=`+f.helper+` helper serve `+report+` ${PLAIN} $WORDS "x${SPACED}x" $$literal
`)
	f.mustCtl(0, "start", "env")
	rep := readReport(t, report)
	for _, want := range []string{"BASE_VAR=from-base", "SPACED=one two", "PLAIN=yes", "FROM_FILE=file value", "OVERRIDDEN=by-file"} {
		if !slices.Contains(rep.Env, want) {
			t.Errorf("environment lacks %q: %q", want, rep.Env)
		}
	}
	wantArgs := []string{f.helper, "helper", "serve", report, "yes", "a", "b", "xone twox", "$literal"}
	if !slices.Equal(rep.Args, wantArgs) {
		t.Errorf("argv %q, want %q", rep.Args, wantArgs)
	}
	if rep.Dir != f.path("etc") {
		t.Errorf("working directory %q", rep.Dir)
	}
}

func TestMissingEnvironmentFileFailsStart(t *testing.T) {
	f := newFixture(t)
	f.helperUnit("etcd", "serve", "EnvironmentFile="+f.path("etc/nothing-here"))
	r := f.mustCtl(1, "start", "etcd")
	if !strings.HasPrefix(r.stderr, "Job for etcd.service failed because of unavailable resources or another system error.\n") {
		t.Errorf("stderr %q", r.stderr)
	}
	if r := f.mustCtl(3, "is-active", "etcd"); r.stdout != "failed\n" {
		t.Errorf("is-active %q", r.stdout)
	}
	f.mustCtl(0, "is-failed", "etcd")
	f.mustCtl(0, "reset-failed", "etcd")
	f.mustCtl(1, "is-failed", "etcd")
}

func TestDaemonReloadGovernsDefinition(t *testing.T) {
	f := newFixture(t)
	report := f.helperUnit("etcd", "serve", "Environment=VERSION=1")
	f.mustCtl(0, "start", "etcd")
	readReport(t, report)

	f.helperUnit("etcd", "serve", "Environment=VERSION=2")
	if got := f.show("etcd", "NeedDaemonReload"); got != "yes" {
		t.Errorf("NeedDaemonReload=%s after editing the file", got)
	}
	r := f.mustCtl(0, "restart", "etcd")
	if !strings.Contains(r.stderr, "changed on disk. Run 'systemctl daemon-reload' to reload units.") {
		t.Errorf("no changed-on-disk warning: %q", r.stderr)
	}
	if rep := readReport(t, report); !slices.Contains(rep.Env, "VERSION=1") {
		t.Errorf("restart without daemon-reload used the new file: %q", rep.Env)
	}

	f.mustCtl(0, "daemon-reload")
	r = f.mustCtl(0, "restart", "etcd")
	if r.stderr != "" {
		t.Errorf("unexpected stderr after daemon-reload: %q", r.stderr)
	}
	if rep := readReport(t, report); !slices.Contains(rep.Env, "VERSION=2") {
		t.Errorf("restart after daemon-reload kept the old definition: %q", rep.Env)
	}
}

func TestExecStartPre(t *testing.T) {
	f := newFixture(t)
	report := f.helperUnit("ok", "serve", "ExecStartPre=-"+f.helper+" helper exit 3\nExecStartPre="+f.helper+" helper exit 0")
	f.mustCtl(0, "start", "ok")
	readReport(t, report)

	f.helperUnit("bad", "serve", "ExecStartPre="+f.helper+" helper exit 4")
	r := f.mustCtl(1, "start", "bad")
	if !strings.HasPrefix(r.stderr, "Job for bad.service failed because the control process exited with error code.\n") {
		t.Errorf("stderr %q", r.stderr)
	}
	if st := f.sup.ActiveState("bad"); st != "failed" {
		t.Errorf("state %q after failed ExecStartPre", st)
	}
}

func TestExecutableMissing(t *testing.T) {
	f := newFixture(t)
	f.writeUnit("simple.service", "[Service]\nExecStart=/nonexistent/bin/etcd\n")
	f.mustCtl(0, "start", "simple") // Type=simple reports success, then fails
	if st := f.sup.ActiveState("simple"); st != "failed" {
		t.Errorf("state %q", st)
	}
	if got := f.show("simple", "ExecMainStatus"); got != "203" {
		t.Errorf("ExecMainStatus=%s, want 203", got)
	}

	f.writeUnit("typed.service", "[Service]\nType=exec\nExecStart=/nonexistent/bin/etcd\n")
	f.mustCtl(1, "start", "typed")
}

func TestBadUnitFile(t *testing.T) {
	f := newFixture(t)
	f.writeUnit("broken.service", "[Service]\nType=simple\n")
	r := f.mustCtl(1, "start", "broken")
	if !strings.HasPrefix(r.stderr, "Failed to start broken.service: Unit broken.service has a bad unit file setting.") {
		t.Errorf("stderr %q", r.stderr)
	}
	if got := f.show("broken", "LoadState"); got != "bad-setting" {
		t.Errorf("LoadState=%s", got)
	}
}
