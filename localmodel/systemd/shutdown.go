package systemd

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
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
	groups := make([]int, 0, len(victims))
	for _, v := range victims {
		groups = append(groups, v.p.pid)
	}
	for range victims {
		<-done
	}
	waitGroupsEmpty(groups, groupExitWait)
	s.settleAfterClose()
}

// Kill is machine death: SIGKILL to every process group at once, no stop
// logic, no restarts. It returns once every child has been reaped.
func (s *Supervisor) Kill() {
	s.mu.Lock()
	s.close()
	var pending []*process
	groups := make([]int, 0, len(s.live))
	for p := range s.live {
		_ = signalGroup(p, syscall.SIGKILL, true)
		pending = append(pending, p)
		groups = append(groups, p.pid)
	}
	s.mu.Unlock()
	for _, p := range pending {
		<-p.done
	}
	waitGroupsEmpty(groups, groupExitWait)
	s.settleAfterClose()
}

// groupExitWait bounds how long Shutdown and Kill wait for the rest of a killed process group.
const groupExitWait = 5 * time.Second

// waitGroupsEmpty waits, at most limit, until no live process is left in these process groups. A SIGKILL
// takes effect when its process next runs, so a service's grandchild (not our child: we cannot wait for it)
// may outlive its reaped group leader by a moment on a busy machine; a zombie counts as gone.
func waitGroupsEmpty(groups []int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for len(liveInGroups(groups)) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
}

// liveInGroups lists the pids of live (not zombie) processes whose process group is one of groups.
func liveInGroups(groups []int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var live []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fields := procStatFields(e.Name())
		if len(fields) < 3 || fields[0] == "Z" || fields[0] == "X" {
			continue
		}
		pgrp, err := strconv.Atoi(fields[2])
		if err == nil && slices.Contains(groups, pgrp) {
			live = append(live, pid)
		}
	}
	return live
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

// procStatFields are the fields of /proc/PID/stat after the command name in parentheses (state, ppid, pgrp,
// ...), or nil when the process is gone.
func procStatFields(pid string) []string {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil
	}
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}
