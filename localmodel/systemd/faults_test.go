package systemd

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRestartAfterSIGKILLHonoursDelay(t *testing.T) {
	f := newFixture(t)
	const delay = 400 * time.Millisecond
	report := f.helperUnit("etcd", "serve", "Restart=always\nRestartSec=400ms")
	f.mustCtl(0, "start", "etcd")
	first := readReport(t, report)

	if err := f.sup.Signal("etcd", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "auto-restart state", func() bool {
		return f.show("etcd", "SubState") == "auto-restart"
	})
	if r := f.mustCtl(3, "is-active", "etcd"); r.stdout != "activating\n" {
		t.Errorf("is-active during restart delay: %q", r.stdout)
	}
	second := readReport(t, report)
	if second.PID == first.PID {
		t.Fatal("no new process after SIGKILL")
	}
	waitUntil(t, "active again", func() bool { return f.sup.ActiveState("etcd") == "active" })
	if got := f.show("etcd", "NRestarts"); got != "1" {
		t.Errorf("NRestarts=%s, want 1", got)
	}
	f.sup.mu.Lock()
	svc := f.sup.services["etcd.service"]
	gap := svc.execMainStart.Sub(svc.execMainExit)
	f.sup.mu.Unlock()
	// A lower bound only: the restart may come late on a busy machine but
	// never before RestartSec=.
	if gap < delay {
		t.Errorf("restarted %v after the kill, before RestartSec=%v", gap, delay)
	}
	log, err := os.ReadFile(f.log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(log), "pid "+strconv.Itoa(first.PID)+" exited, code=killed, status=9/KILL") {
		t.Errorf("no exit marker for pid %d in log:\n%s", first.PID, log)
	}
}

func TestStopNeverRestarts(t *testing.T) {
	f := newFixture(t)
	report := f.helperUnit("etcd", "serve", "Restart=always\nRestartSec=10ms")
	f.mustCtl(0, "start", "etcd")
	readReport(t, report)
	f.mustCtl(0, "stop", "etcd")
	f.sup.mu.Lock()
	svc := f.sup.services["etcd.service"]
	pending := svc.restartTimer != nil
	state := svc.active + "/" + svc.sub
	f.sup.mu.Unlock()
	if pending || state != "inactive/dead" {
		t.Fatalf("after stop: state %s, restart pending %v", state, pending)
	}
	// Another unit's full start/stop cycle takes longer than RestartSec=10ms,
	// so a wrongly scheduled restart would have happened by now.
	other := f.helperUnit("other", "serve", "")
	f.mustCtl(0, "start", "other")
	readReport(t, other)
	f.mustCtl(0, "stop", "other")
	if _, err := os.Stat(report); err == nil {
		t.Fatal("etcd restarted after a stop")
	}
	if st := f.sup.ActiveState("etcd"); st != "inactive" {
		t.Fatalf("state %q", st)
	}
}

func TestRestartPolicies(t *testing.T) {
	f := newFixture(t)
	f.writeUnit("fails.service", "[Unit]\nStartLimitBurst=3\n[Service]\nExecStart="+f.helper+" helper exit 3\nRestart=on-failure\nRestartSec=1ms\n")
	f.mustCtl(0, "start", "fails")
	waitUntil(t, "start limit", func() bool { return f.show("fails", "Result") == "start-limit-hit" })
	if st := f.sup.ActiveState("fails"); st != "failed" {
		t.Errorf("state %q after start limit", st)
	}
	if got := f.show("fails", "NRestarts"); got != "3" {
		t.Errorf("NRestarts=%s, want 3 (like systemd, the refused attempt counts)", got)
	}
	r := f.mustCtl(1, "start", "fails")
	if !strings.Contains(r.stderr, "start of the service was attempted too often") {
		t.Errorf("stderr %q", r.stderr)
	}
	f.mustCtl(0, "reset-failed", "fails")
	f.mustCtl(0, "start", "fails")

	f.writeUnit("clean.service", "[Service]\nExecStart="+f.helper+" helper exit 0\nRestart=on-failure\nRestartSec=1ms\n")
	f.mustCtl(0, "start", "clean")
	waitUntil(t, "clean exit", func() bool { return f.show("clean", "ExecMainCode") == "1" })
	if st := f.sup.ActiveState("clean"); st != "inactive" {
		t.Errorf("clean exit under on-failure: state %q", st)
	}
	if got := f.show("clean", "NRestarts"); got != "0" {
		t.Errorf("clean exit restarted: NRestarts=%s", got)
	}
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	f := newFixture(t)
	report := f.helperUnit("stubborn", "ignore-term", "TimeoutStopSec=300ms")
	f.mustCtl(0, "start", "stubborn")
	rep := readReport(t, report)
	f.mustCtl(0, "stop", "stubborn")
	if alive(rep.PID) {
		t.Fatalf("pid %d survived stop", rep.PID)
	}
	if got := f.show("stubborn", "Result"); got != "timeout" {
		t.Errorf("Result=%s, want timeout", got)
	}
	if got := f.show("stubborn", "ExecMainStatus"); got != "9" {
		t.Errorf("ExecMainStatus=%s, want 9 (SIGKILL)", got)
	}
	if st := f.sup.ActiveState("stubborn"); st != "failed" {
		t.Errorf("state %q", st)
	}
}

func TestKillSignalAndKillVerb(t *testing.T) {
	f := newFixture(t)
	report := f.helperUnit("rec", "record", "KillSignal=SIGINT")
	f.mustCtl(0, "start", "rec")
	readReport(t, report)

	f.mustCtl(0, "kill", "--signal=SIGHUP", "rec")
	f.mustCtl(0, "kill", "-s", "USR1", "rec.service")
	// Two signals sent back to back may reach the process's handler in either order (Go's signal
	// delivery does not keep the kernel's order), so only the set is checked.
	waitUntil(t, "HUP and USR1 recorded", func() bool {
		data, _ := os.ReadFile(report + ".sig")
		return string(data) == "1\n10\n" || string(data) == "10\n1\n"
	})
	if st := f.sup.ActiveState("rec"); st != "active" {
		t.Fatalf("state %q after HUP", st)
	}
	f.mustCtl(0, "stop", "rec")
	data, err := os.ReadFile(report + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	if got := string(data); got != "1\n10\n2\n" && got != "10\n1\n2\n" {
		t.Errorf("signals received %q, want HUP, USR1, then KillSignal=SIGINT", data)
	}

	f.mustCtl(1, "kill", "--signal=NOPE", "rec")
	f.mustCtl(1, "kill", "-s", "9", "ghost")

	report = f.helperUnit("victim", "serve", "")
	f.mustCtl(0, "start", "victim")
	rep := readReport(t, report)
	f.mustCtl(0, "kill", "-s", "9", "victim")
	waitUntil(t, "victim failed", func() bool { return f.sup.ActiveState("victim") == "failed" })
	if alive(rep.PID) {
		t.Error("victim still alive")
	}
	if got := f.show("victim", "Result"); got != "signal" {
		t.Errorf("Result=%s", got)
	}
}

func TestPausedProcessStaysActive(t *testing.T) {
	f := newFixture(t)
	report := f.helperUnit("etcd", "serve", "Restart=always")
	f.mustCtl(0, "start", "etcd")
	rep := readReport(t, report)
	if err := f.sup.Signal("etcd", syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "process stopped", func() bool {
		stat, _ := os.ReadFile("/proc/" + strconv.Itoa(rep.PID) + "/stat")
		return procState(stat) == "T"
	})
	f.mustCtl(0, "is-active", "etcd")
	if err := f.sup.Signal("etcd", syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "process resumed", func() bool {
		stat, _ := os.ReadFile("/proc/" + strconv.Itoa(rep.PID) + "/stat")
		return procState(stat) == "S" || procState(stat) == "R"
	})
	f.mustCtl(0, "is-active", "etcd")
	if f.sup.MainPID("etcd") != rep.PID {
		t.Error("MainPID changed across SIGSTOP/SIGCONT")
	}

	// A paused process still stops promptly: systemd follows the stop
	// signal with SIGCONT.
	if err := f.sup.Signal("etcd", syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	f.mustCtl(0, "stop", "etcd")
	if got := f.show("etcd", "Result"); got != "success" {
		t.Errorf("Result=%s after stopping a paused process", got)
	}
}

func TestStopKillsProcessGroup(t *testing.T) {
	f := newFixture(t)
	report := f.path("run/parent.json")
	childReport := f.path("run/child.json")
	if err := os.MkdirAll(f.path("run"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.writeUnit("tree.service", "[Service]\nExecStart="+f.helper+" helper fork "+report+" "+childReport+"\n")
	f.mustCtl(0, "start", "tree")
	parent := readReport(t, report)
	child := readReport(t, childReport)
	f.mustCtl(0, "stop", "tree")
	waitUntil(t, "child gone", func() bool { return !alive(child.PID) })
	if alive(parent.PID) {
		t.Error("parent alive")
	}
}
