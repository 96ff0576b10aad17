package systemd

import (
	"fmt"
	"syscall"
)

func changedWarning(name string) string {
	return fmt.Sprintf("Warning: The unit file, source configuration file or drop-ins of %s changed on disk. Run 'systemctl daemon-reload' to reload units.\n", name)
}

// resolve looks up a unit for a lifecycle verb and reports the warning
// systemd gives when its file was edited without daemon-reload.
func (s *Supervisor) resolve(arg string, r *result) (*service, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, _ := unitName(arg)
	svc := s.lookup(arg)
	if svc != nil && s.changedOnDisk(svc) {
		r.err("%s", changedWarning(name))
	}
	return svc, name
}

// runJob runs a job under the unit's job lock, in the background for
// --no-block (whose outcome systemctl does not wait for either).
func (s *Supervisor) runJob(inv *invocation, svc *service, r *result, job func() (string, int)) {
	locked := func() (string, int) {
		svc.job.Lock()
		defer svc.job.Unlock()
		return job()
	}
	if inv.noBlock {
		go locked()
		return
	}
	msg, code := locked()
	r.err("%s", msg)
	r.fail(code)
}

func (s *Supervisor) cmdDaemonReload(_ *invocation, _ *result) {
	s.daemonReload()
}

func (s *Supervisor) cmdStart(inv *invocation, r *result) {
	for _, arg := range inv.units {
		svc, name := s.resolve(arg, r)
		if svc == nil {
			r.err("Failed to start %s: Unit %s not found.\n", name, name)
			r.fail(5)
			continue
		}
		s.runJob(inv, svc, r, func() (string, int) { return s.runStart(svc, true) })
	}
}

func (s *Supervisor) cmdStop(inv *invocation, r *result) {
	for _, arg := range inv.units {
		svc, name := s.resolve(arg, r)
		if svc == nil {
			r.err("Failed to stop %s: Unit %s not loaded.\n", name, name)
			r.fail(5)
			continue
		}
		s.runJob(inv, svc, r, func() (string, int) { s.runStop(svc); return "", 0 })
	}
}

func (s *Supervisor) cmdRestart(inv *invocation, r *result) {
	s.restart(inv, r, false)
}

func (s *Supervisor) cmdTryRestart(inv *invocation, r *result) {
	s.restart(inv, r, true)
}

func (s *Supervisor) restart(inv *invocation, r *result, onlyIfActive bool) {
	verb := "restart"
	if onlyIfActive {
		verb = "try-restart"
	}
	for _, arg := range inv.units {
		svc, name := s.resolve(arg, r)
		if svc == nil {
			r.err("Failed to %s %s: Unit %s not found.\n", verb, name, name)
			r.fail(5)
			continue
		}
		s.mu.Lock()
		bad := svc.loadErr != nil
		s.mu.Unlock()
		if bad {
			r.err("%s", badSetting(verb, name))
			r.fail(1)
			continue
		}
		s.runJob(inv, svc, r, func() (string, int) {
			s.mu.Lock()
			running := svc.main != nil || svc.sub == "auto-restart"
			s.mu.Unlock()
			if onlyIfActive && !running {
				return "", 0
			}
			s.runStop(svc)
			return s.runStart(svc, true)
		})
	}
}

func (s *Supervisor) cmdKill(inv *invocation, r *result) {
	sig := syscall.SIGTERM
	if inv.signal != "" {
		parsed, err := parseSignal(inv.signal)
		if err != nil {
			r.err("Failed to parse signal string %s.\n", inv.signal)
			r.fail(1)
			return
		}
		sig = parsed
	}
	whom := inv.killWhom
	if whom == "" {
		whom = "all"
	}
	if whom != "all" && whom != "main" && whom != "control" {
		r.err("Unknown kill whom argument '%s'.\n", whom)
		r.fail(1)
		return
	}
	for _, arg := range inv.units {
		s.mu.Lock()
		name, _ := unitName(arg)
		svc := s.lookup(arg)
		switch {
		case svc == nil:
			r.err("Failed to kill unit %s: Unit %s not loaded.\n", name, name)
			r.fail(1)
		case whom == "main" && svc.main == nil:
			r.err("Failed to kill unit %s: No main process to kill\n", name)
			r.fail(1)
		case whom == "control" && svc.control == nil:
			r.err("Failed to kill unit %s: No control process to kill\n", name)
			r.fail(1)
		default:
			for _, p := range []*process{svc.main, svc.control} {
				if p == nil || (whom == "main" && !p.main) || (whom == "control" && p.main) {
					continue
				}
				if err := signalGroup(p, sig, whom == "all"); err != nil {
					r.err("Failed to kill unit %s: %v\n", name, err)
					r.fail(1)
				}
			}
		}
		s.mu.Unlock()
	}
}

func (s *Supervisor) cmdResetFailed(inv *invocation, r *result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reset := func(svc *service) {
		if svc.active == "failed" {
			svc.setDead("success")
		}
		svc.result = "success"
		svc.starts = nil
		svc.nRestarts = 0
	}
	if len(inv.units) == 0 {
		for _, svc := range s.services {
			reset(svc)
		}
		return
	}
	for _, arg := range inv.units {
		name, _ := unitName(arg)
		svc := s.services[name]
		if svc == nil {
			r.err("Failed to reset failed state of unit %s: Unit %s not loaded.\n", name, name)
			r.fail(1)
			continue
		}
		reset(svc)
	}
}
