package systemd

import (
	"strconv"
	"strings"
	"testing"
)

func TestShowAndStatus(t *testing.T) {
	f := newFixture(t)
	r := f.mustCtl(0, "show", "ghost", "--property=LoadState,ActiveState,MainPID")
	if r.stdout != "LoadState=not-found\nActiveState=inactive\nMainPID=0\n" {
		t.Errorf("show of unknown unit: %q", r.stdout)
	}
	r = f.mustCtl(4, "status", "ghost")
	if r.stderr != "Unit ghost.service could not be found.\n" {
		t.Errorf("status of unknown unit: %q", r.stderr)
	}

	report := f.helperUnit("etcd", "serve", "RestartSec=2s\nTimeoutStopSec=1min 30s")
	f.mustCtl(3, "status", "etcd")
	f.mustCtl(0, "start", "etcd")
	rep := readReport(t, report)

	r = f.mustCtl(0, "show", "etcd", "-p", "MainPID", "-p", "ActiveState,SubState", "--value")
	if want := strconv.Itoa(rep.PID) + "\nactive\nrunning\n"; r.stdout != want {
		t.Errorf("show --value: %q, want %q", r.stdout, want)
	}
	r = f.mustCtl(0, "show", "etcd", "-pNRestarts,LoadState,RestartUSec,TimeoutStopUSec,KillSignal")
	if want := "NRestarts=0\nLoadState=loaded\nRestartUSec=2s\nTimeoutStopUSec=1min 30s\nKillSignal=15\n"; r.stdout != want {
		t.Errorf("show: %q, want %q", r.stdout, want)
	}
	if ts := f.show("etcd", "ExecMainStartTimestamp"); ts == "" {
		t.Error("ExecMainStartTimestamp empty for a running unit")
	}
	r = f.mustCtl(0, "status", "etcd")
	for _, want := range []string{"● etcd.service - test etcd", "Active: active (running) since ", "Main PID: " + strconv.Itoa(rep.PID)} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := f.mustCtl(0, "cat", "etcd"); !strings.Contains(r.stdout, "ExecStart="+f.helper) {
		t.Errorf("cat: %q", r.stdout)
	}
}

func TestSystemctlUsageErrors(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"frobnicate", "etcd"}, 1, "Unknown command verb 'frobnicate'.\n"},
		{[]string{"start"}, 1, "Too few arguments.\n"},
		{[]string{"--bogus", "start", "etcd"}, 1, "systemctl: unrecognized option '--bogus'\n"},
		{[]string{"stop", "etcd"}, 5, "Failed to stop etcd.service: Unit etcd.service not loaded.\n"},
		{[]string{"--no-block", "start", "etcd"}, 5, "Failed to start etcd.service: Unit etcd.service not found.\n"},
		{[]string{"start", "../../etc/passwd"}, 5, "Failed to start ../../etc/passwd: Unit ../../etc/passwd not found.\n"},
	}
	for _, c := range cases {
		r := f.ctl(c.args...)
		if r.code != c.code || r.stderr != c.stderr {
			t.Errorf("systemctl %v: exit %d stderr %q, want %d %q", c.args, r.code, r.stderr, c.code, c.stderr)
		}
	}
	f.mustCtl(0, "daemon-reload")
}

func TestNoBlock(t *testing.T) {
	f := newFixture(t)
	report := f.helperUnit("etcd", "serve", "")
	f.mustCtl(0, "start", "--no-block", "etcd")
	readReport(t, report)
	waitUntil(t, "active", func() bool { return f.sup.ActiveState("etcd") == "active" })
	f.mustCtl(0, "stop", "--no-block", "etcd")
	waitUntil(t, "inactive", func() bool { return f.sup.ActiveState("etcd") == "inactive" })
}
