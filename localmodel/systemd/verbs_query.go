package systemd

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func (s *Supervisor) cmdIsActive(inv *invocation, r *result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := 3
	for _, arg := range inv.units {
		state := "inactive"
		if svc := s.lookup(arg); svc != nil {
			state = svc.active
		}
		r.out("%s\n", state)
		if state == "active" {
			code = 0
		}
	}
	r.fail(code)
}

func (s *Supervisor) cmdIsFailed(inv *invocation, r *result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := 1
	for _, arg := range inv.units {
		state := "inactive"
		if svc := s.lookup(arg); svc != nil {
			state = svc.active
		}
		r.out("%s\n", state)
		if state == "failed" {
			code = 0
		}
	}
	r.fail(code)
}

// property is one `systemctl show` line.
type property struct{ key, value string }

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("Mon 2006-01-02 15:04:05 MST")
}

// properties lists what `show` knows about a unit. Caller holds s.mu.
func (s *Supervisor) properties(name string, svc *service) []property {
	if svc == nil {
		return []property{
			{"Id", name}, {"Names", name}, {"LoadState", "not-found"},
			{"ActiveState", "inactive"}, {"SubState", "dead"}, {"Result", "success"},
			{"UnitFileState", ""}, {"FragmentPath", ""}, {"MainPID", "0"}, {"ControlPID", "0"},
			{"ExecMainPID", "0"}, {"ExecMainStartTimestamp", ""}, {"ExecMainExitTimestamp", ""},
			{"ExecMainCode", "0"}, {"ExecMainStatus", "0"}, {"NRestarts", "0"}, {"NeedDaemonReload", "no"},
		}
	}
	loadState := "loaded"
	if svc.loadErr != nil {
		loadState = "bad-setting"
	}
	u := svc.unit
	if u == nil {
		u = &Unit{}
	}
	pid := func(p *process) string {
		if p == nil {
			return "0"
		}
		return strconv.Itoa(p.pid)
	}
	needReload := "no"
	if s.changedOnDisk(svc) {
		needReload = "yes"
	}
	return []property{
		{"Id", name}, {"Names", name}, {"Description", u.Description},
		{"LoadState", loadState}, {"ActiveState", svc.active}, {"SubState", svc.sub},
		{"Result", svc.result}, {"UnitFileState", s.unitFileState(name)},
		{"FragmentPath", svc.path}, {"Type", u.Type},
		{"MainPID", pid(svc.main)}, {"ControlPID", pid(svc.control)},
		{"ExecMainPID", strconv.Itoa(svc.execMainPID)},
		{"ExecMainStartTimestamp", timestamp(svc.execMainStart)},
		{"ExecMainExitTimestamp", timestamp(svc.execMainExit)},
		{"ExecMainCode", strconv.Itoa(svc.execMainCode)},
		{"ExecMainStatus", strconv.Itoa(svc.execMainStatus)},
		{"NRestarts", strconv.Itoa(svc.nRestarts)},
		{"Restart", u.Restart}, {"RestartUSec", formatTimeSpan(u.RestartSec)},
		{"KillMode", u.KillMode}, {"KillSignal", strconv.Itoa(int(u.KillSignal))},
		{"TimeoutStopUSec", formatTimeSpan(u.TimeoutStopSec)},
		{"ActiveEnterTimestamp", timestamp(svc.activeEnter)},
		{"InactiveEnterTimestamp", timestamp(svc.inactiveEnter)},
		{"After", strings.Join(u.After, " ")},
		{"Environment", strings.Join(u.Environment, " ")},
		{"NeedDaemonReload", needReload},
	}
}

func (s *Supervisor) cmdShow(inv *invocation, r *result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(inv.units) == 0 {
		// The manager's own properties; little of it means anything here.
		r.out("Version=local-model\n")
		return
	}
	for i, arg := range inv.units {
		if i > 0 && !inv.value {
			r.out("\n")
		}
		name, _ := unitName(arg)
		props := s.properties(name, s.lookup(arg))
		if len(inv.properties) > 0 {
			props = selectProperties(props, inv.properties)
		}
		for _, p := range props {
			if inv.value {
				r.out("%s\n", p.value)
			} else {
				r.out("%s=%s\n", p.key, p.value)
			}
		}
	}
}

// selectProperties keeps the requested properties in the requested order;
// unknown names are skipped, as systemctl skips properties a unit lacks.
func selectProperties(props []property, want []string) []property {
	var out []property
	for _, w := range want {
		for _, p := range props {
			if p.key == w {
				out = append(out, p)
			}
		}
	}
	return out
}

func (s *Supervisor) cmdStatus(inv *invocation, r *result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(inv.units) == 0 {
		r.out("State: running\n")
		return
	}
	code := 0
	for i, arg := range inv.units {
		name, _ := unitName(arg)
		svc := s.lookup(arg)
		if svc == nil {
			r.err("Unit %s could not be found.\n", name)
			r.fail(4)
			continue
		}
		if i > 0 {
			r.out("\n")
		}
		s.writeStatus(r, name, svc)
		if svc.active != "active" {
			code = 3
		}
	}
	r.fail(code)
}

// writeStatus prints the head of `systemctl status`. Caller holds s.mu.
func (s *Supervisor) writeStatus(r *result, name string, svc *service) {
	bullet := map[string]string{"active": "●", "failed": "×"}[svc.active]
	if bullet == "" {
		bullet = "○"
	}
	desc := name
	if svc.unit != nil && svc.unit.Description != "" {
		desc = svc.unit.Description
	}
	r.out("%s %s - %s\n", bullet, name, desc)
	load := "loaded"
	if svc.loadErr != nil {
		load = "bad-setting"
	}
	r.out("     Loaded: %s (%s; %s)\n", load, svc.path, s.unitFileState(name))
	sub := svc.sub
	if svc.active == "failed" || svc.sub == "auto-restart" {
		sub = fmt.Sprintf("%s) (Result: %s", svc.sub, svc.result)
	}
	since := svc.inactiveEnter
	if svc.active == "active" || svc.active == "deactivating" {
		since = svc.activeEnter
	}
	if since.IsZero() {
		r.out("     Active: %s (%s)\n", svc.active, sub)
	} else {
		r.out("     Active: %s (%s) since %s; %s ago\n", svc.active, sub, timestamp(since), time.Since(since).Round(time.Second))
	}
	switch {
	case svc.main != nil:
		r.out("   Main PID: %d (%s)\n", svc.main.pid, processName(svc.main.pid))
	case svc.execMainPID != 0 || svc.execMainCode != 0:
		r.out("   Main PID: %d (code=%s, status=%s)\n", svc.execMainPID,
			map[int]string{1: "exited", 2: "killed", 3: "dumped"}[svc.execMainCode], mainStatus(svc))
	}
	if s.changedOnDisk(svc) {
		r.out("\n%s", changedWarning(name))
	}
}

func mainStatus(svc *service) string {
	if svc.execMainCode == 1 {
		return fmt.Sprintf("%d/%s", svc.execMainStatus, exitStatusName(svc.execMainStatus))
	}
	return fmt.Sprintf("%d/%s", svc.execMainStatus, signalName(syscall.Signal(svc.execMainStatus)))
}

func processName(pid int) string {
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(comm))
}

func (s *Supervisor) cmdCat(inv *invocation, r *result) {
	for i, arg := range inv.units {
		name, _ := unitName(arg)
		path, data, err := s.findUnitFile(name)
		if err != nil {
			r.err("No files found for %s.\n", name)
			r.fail(1)
			continue
		}
		if i > 0 {
			r.out("\n")
		}
		r.out("# %s\n%s", path, data)
	}
}
