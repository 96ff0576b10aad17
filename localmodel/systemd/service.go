package systemd

import (
	"crypto/sha256"
	"slices"
	"sync"
	"syscall"
	"time"
)

// service is the runtime state of one unit. job serialises start, stop and
// restart jobs, as systemd's job queue does; every other field is guarded
// by Supervisor.mu.
type service struct {
	name string
	job  sync.Mutex

	unit     *Unit    // last successfully loaded definition; nil if never
	loadErr  error    // non-nil: LoadState=bad-setting
	path     string   // unit file the definition came from
	loadSum  [32]byte // content hash at load, to detect edits without daemon-reload
	warnedID bool     // User=/Group= ignored notice already logged

	active, sub, result string
	main                *process
	control             *process
	stopping            bool // a stop job owns the main process's exit

	execMainPID       int
	execMainStart     time.Time
	execMainExit      time.Time
	execMainCode      int // CLD_EXITED=1, CLD_KILLED=2, CLD_DUMPED=3
	execMainStatus    int
	activeEnter       time.Time
	inactiveEnter     time.Time
	nRestarts         int
	starts            []time.Time // for StartLimitBurst=
	restartTimer      *time.Timer
	restartGeneration int
}

func newService(name string) *service {
	return &service{name: name, active: "inactive", sub: "dead", result: "success"}
}

func (svc *service) setState(active, sub string) {
	now := time.Now()
	if active == "active" && svc.active != "active" {
		svc.activeEnter = now
	}
	if (active == "inactive" || active == "failed") && svc.active != active {
		svc.inactiveEnter = now
	}
	svc.active, svc.sub = active, sub
}

// setDead ends up inactive after success and failed otherwise, as systemd
// does when a service leaves its running states.
func (svc *service) setDead(result string) {
	svc.result = result
	if result == "success" {
		svc.setState("inactive", "dead")
		return
	}
	svc.setState("failed", "failed")
}

// cancelRestart invalidates a pending automatic restart.
func (svc *service) cancelRestart() {
	svc.restartGeneration++
	if svc.restartTimer != nil {
		svc.restartTimer.Stop()
		svc.restartTimer = nil
	}
}

// allowStart applies StartLimitIntervalSec=/StartLimitBurst=, which systemd
// applies to every start, manual or automatic.
func (svc *service) allowStart(u *Unit, now time.Time) bool {
	if u.StartLimitInterval <= 0 || u.StartLimitBurst <= 0 {
		return true
	}
	svc.starts = slices.DeleteFunc(svc.starts, func(t time.Time) bool {
		return now.Sub(t) >= u.StartLimitInterval
	})
	if len(svc.starts) >= u.StartLimitBurst {
		return false
	}
	svc.starts = append(svc.starts, now)
	return true
}

func (svc *service) recordExit(ws syscall.WaitStatus) {
	svc.execMainExit = time.Now()
	switch {
	case ws.Exited():
		svc.execMainCode, svc.execMainStatus = 1, ws.ExitStatus()
	case ws.CoreDump():
		svc.execMainCode, svc.execMainStatus = 3, int(ws.Signal())
	case ws.Signaled():
		svc.execMainCode, svc.execMainStatus = 2, int(ws.Signal())
	}
}

// outcome describes how a main process ended, in systemd's terms.
type outcome struct {
	result   string // success, exit-code, signal, core-dump
	clean    bool
	signaled bool // killed by a signal (clean or not)
}

// classify judges an exit against the unit's success criteria. During a
// stop, death by the stop signal itself is expected and clean.
func classify(u *Unit, ws syscall.WaitStatus, stopSignal syscall.Signal) outcome {
	switch {
	case ws.Exited():
		code := ws.ExitStatus()
		if code == 0 || slices.Contains(u.SuccessExitCodes, code) {
			return outcome{result: "success", clean: true}
		}
		return outcome{result: "exit-code"}
	case ws.Signaled():
		sig := ws.Signal()
		switch {
		case stopSignal != 0 && sig == stopSignal,
			sig == syscall.SIGHUP, sig == syscall.SIGINT, sig == syscall.SIGTERM, sig == syscall.SIGPIPE,
			slices.Contains(u.SuccessSignals, sig):
			return outcome{result: "success", clean: true, signaled: true}
		case ws.CoreDump():
			return outcome{result: "core-dump", signaled: true}
		}
		return outcome{result: "signal", signaled: true}
	}
	return outcome{result: "exit-code"}
}

// shouldRestart implements the Restart= table of systemd.service(5).
func shouldRestart(policy string, o outcome) bool {
	switch policy {
	case "always":
		return true
	case "on-success":
		return o.clean
	case "on-failure":
		return !o.clean
	case "on-abnormal", "on-abort":
		return !o.clean && o.signaled
	}
	return false
}

func contentSum(data []byte) [32]byte { return sha256.Sum256(data) }
