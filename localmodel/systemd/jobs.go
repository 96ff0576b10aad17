package systemd

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// controlTimeout bounds an ExecStartPre= command, like systemd's default
// TimeoutStartSec=.
const controlTimeout = 90 * time.Second

var errShuttingDown = errors.New("the machine is shutting down")

func jobFailed(name, why string) string {
	return fmt.Sprintf("Job for %s failed%s.\nSee \"systemctl status %s\" and \"journalctl -xeu %s\" for details.\n", name, why, name, name)
}

// runStart is one start job. The caller holds svc.job but not s.mu. It
// returns what systemctl prints on stderr and its exit code.
func (s *Supervisor) runStart(svc *service, manual bool) (string, int) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Sprintf("Failed to start %s: the machine is shutting down.\n", svc.name), 1
	}
	if svc.loadErr != nil || svc.unit == nil {
		s.mu.Unlock()
		return badSetting("start", svc.name), 1
	}
	if svc.main != nil {
		s.mu.Unlock()
		return "", 0 // already running: a no-op, as in systemd
	}
	fromAutoRestart := svc.sub == "auto-restart"
	svc.cancelRestart()
	u := svc.unit
	if !svc.allowStart(u, time.Now()) {
		svc.setDead("start-limit-hit")
		s.mu.Unlock()
		s.logf("systemd: %s: start request repeated too quickly", svc.name)
		return jobFailed(svc.name, " because start of the service was attempted too often") +
			fmt.Sprintf("To force a start use \"systemctl reset-failed %s\"\nfollowed by \"systemctl start %s\" again.\n", svc.name, svc.name), 1
	}
	if manual && !fromAutoRestart {
		svc.nRestarts = 0
	}
	env, err := s.serviceEnv(u)
	if err != nil {
		s.logf("systemd: %v", err)
		svc.setDead("resources")
		s.mu.Unlock()
		return jobFailed(svc.name, " because of unavailable resources or another system error"), 1
	}
	svc.result = "success"
	if len(u.ExecStartPre) > 0 {
		svc.setState("activating", "start-pre")
	}
	s.mu.Unlock()

	for _, c := range u.ExecStartPre {
		o, err := s.runControl(svc, u, c, env)
		if (err == nil && o.clean) || (c.IgnoreFailure && !errors.Is(err, errShuttingDown)) {
			continue
		}
		s.mu.Lock()
		if err != nil {
			s.logf("systemd: %s: ExecStartPre: %v", svc.name, err)
			o = outcome{result: "exit-code"}
		}
		s.settle(svc, u, o)
		s.mu.Unlock()
		return jobFailed(svc.name, " because the control process exited with error code"), 1
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		svc.setDead("success")
		return fmt.Sprintf("Failed to start %s: the machine is shutting down.\n", svc.name), 1
	}
	p, err := s.spawn(svc, u, u.ExecStart, env, true)
	if err != nil {
		status := exitExec
		var se *spawnError
		if errors.As(err, &se) {
			status = se.status
		}
		s.logf("systemd: %s: %v", svc.name, err)
		s.logMarker("%s failed to start: %v", svc.name, err)
		svc.execMainPID, svc.execMainStart, svc.execMainExit = 0, time.Now(), time.Now()
		svc.execMainCode, svc.execMainStatus = 1, status
		s.settle(svc, u, outcome{result: "exit-code"})
		if u.Type == "simple" {
			// systemd reports success for Type=simple as soon as it has
			// forked; the failure only shows in the unit's state.
			return "", 0
		}
		return jobFailed(svc.name, " because the control process exited with error code"), 1
	}
	svc.main = p
	svc.execMainPID, svc.execMainStart = p.pid, time.Now()
	svc.execMainCode, svc.execMainStatus = 0, 0
	svc.setState("active", "running")
	s.logMarker("started %s pid %d", svc.name, p.pid)
	return "", 0
}

// runControl runs one ExecStartPre= command to completion.
func (s *Supervisor) runControl(svc *service, u *Unit, c Command, env []string) (outcome, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return outcome{}, errShuttingDown
	}
	p, err := s.spawn(svc, u, c, env, false)
	if err != nil {
		s.mu.Unlock()
		return outcome{}, err
	}
	svc.control = p
	s.mu.Unlock()

	timer := time.NewTimer(controlTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		s.mu.Lock()
		_ = signalGroup(p, syscall.SIGKILL, true)
		s.mu.Unlock()
		<-p.done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	svc.control = nil
	return classify(u, p.status, 0), nil
}

// runStop is one stop job: KillSignal= (plus SIGCONT, so a paused process
// can act on it), then SIGKILL after TimeoutStopSec=. It never leads to an
// automatic restart. The caller holds svc.job but not s.mu.
func (s *Supervisor) runStop(svc *service) {
	s.mu.Lock()
	if svc.sub == "auto-restart" {
		svc.cancelRestart()
		svc.setDead(svc.result)
		s.mu.Unlock()
		return
	}
	p := svc.main
	if p == nil {
		s.mu.Unlock()
		return
	}
	u := svc.unit
	svc.stopping = true
	svc.setState("deactivating", "stop-sigterm")
	s.sendStopSignal(p, u)
	s.mu.Unlock()

	timedOut := !waitFor(p.done, u.TimeoutStopSec)
	if timedOut {
		s.mu.Lock()
		s.logf("systemd: %s: stop timed out after %s, killing", svc.name, formatTimeSpan(u.TimeoutStopSec))
		svc.setState("deactivating", "stop-sigkill")
		_ = signalGroup(p, syscall.SIGKILL, u.KillMode != "process")
		s.mu.Unlock()
		<-p.done
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	svc.stopping = false
	switch o := classify(u, p.status, u.KillSignal); {
	case timedOut:
		svc.setDead("timeout")
	default:
		svc.setDead(o.result)
	}
}

// sendStopSignal delivers KillSignal= according to KillMode=. Caller holds
// s.mu.
func (s *Supervisor) sendStopSignal(p *process, u *Unit) {
	group := u.KillMode == "control-group"
	if err := signalGroup(p, u.KillSignal, group); err != nil {
		s.logf("systemd: %s: sending %s to pid %d: %v", u.Name, signalName(u.KillSignal), p.pid, err)
	}
	if u.KillSignal != syscall.SIGKILL && u.KillSignal != syscall.SIGCONT {
		_ = signalGroup(p, syscall.SIGCONT, group)
	}
}

// waitFor waits for done up to d (forever when d is infinity) and reports
// whether done was closed.
func waitFor(done <-chan struct{}, d time.Duration) bool {
	if d == infinity {
		<-done
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		return false
	}
}

func badSetting(verb, name string) string {
	return fmt.Sprintf("Failed to %s %s: Unit %s has a bad unit file setting.\nSee system logs and 'systemctl status %s' for details.\n", verb, name, name, name)
}
