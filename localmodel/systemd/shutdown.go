package systemd

import (
	"context"
	"syscall"
)

// Shutdown stops every service as `systemctl stop` would (KillSignal=, then
// SIGKILL after TimeoutStopSec= or when ctx ends, whichever is first) and
// returns once every child has been reaped. Nothing starts or restarts
// afterwards.
func (s *Supervisor) Shutdown(ctx context.Context) {
	s.mu.Lock()
	s.close()
	type victim struct {
		p *process
		u *Unit
	}
	var victims []victim
	for p, svc := range s.live {
		u := svc.unit
		if u == nil {
			u = &Unit{Name: svc.name, KillSignal: syscall.SIGTERM, KillMode: "control-group", TimeoutStopSec: defaultTimeoutStopSec}
		}
		if p.main {
			svc.stopping = true
			svc.setState("deactivating", "stop-sigterm")
		}
		s.sendStopSignal(p, u)
		victims = append(victims, victim{p, u})
	}
	s.mu.Unlock()

	done := make(chan struct{})
	for _, v := range victims {
		go func() {
			defer func() { done <- struct{}{} }()
			deadline := ctx
			if v.u.TimeoutStopSec != infinity {
				var cancel context.CancelFunc
				deadline, cancel = context.WithTimeout(ctx, v.u.TimeoutStopSec)
				defer cancel()
			}
			select {
			case <-v.p.done:
				return
			case <-deadline.Done():
			}
			s.mu.Lock()
			_ = signalGroup(v.p, syscall.SIGKILL, true)
			s.mu.Unlock()
			<-v.p.done
		}()
	}
	for range victims {
		<-done
	}
	s.settleAfterClose()
}

// Kill is machine death: SIGKILL to every process group at once, no stop
// logic, no restarts. It returns once every child has been reaped.
func (s *Supervisor) Kill() {
	s.mu.Lock()
	s.close()
	var pending []*process
	for p := range s.live {
		_ = signalGroup(p, syscall.SIGKILL, true)
		pending = append(pending, p)
	}
	s.mu.Unlock()
	for _, p := range pending {
		<-p.done
	}
	s.settleAfterClose()
}

// close forbids any further start and drops pending restarts. Caller holds
// s.mu; spawns check s.closed under the same lock, so after this no new
// child can appear.
func (s *Supervisor) close() {
	s.closed = true
	for _, svc := range s.services {
		svc.cancelRestart()
		if svc.sub == "auto-restart" {
			svc.setDead(svc.result)
		}
	}
}

// settleAfterClose records the final state of services whose main process
// ended during Shutdown or Kill.
func (s *Supervisor) settleAfterClose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, svc := range s.services {
		if svc.stopping && svc.main == nil {
			svc.stopping = false
			svc.setDead("success")
		}
	}
}
