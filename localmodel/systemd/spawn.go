package systemd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Exit statuses systemd reports when it cannot even run a service's command.
const (
	exitChdir  = 200
	exitStdout = 209
	exitExec   = 203
)

// spawnError is a failure to start a command; status is the exit status
// systemd would record for it.
type spawnError struct {
	status int
	err    error
}

func (e *spawnError) Error() string { return e.err.Error() }
func (e *spawnError) Unwrap() error { return e.err }

// serviceEnv assembles the environment: base, then Environment=, then
// EnvironmentFile= (which systemd reads at every start and lets win).
func (s *Supervisor) serviceEnv(u *Unit) ([]string, error) {
	lists := [][]string{s.opts.Env}
	if _, ok := envMap(s.opts.Env)["PATH"]; !ok {
		lists = append(lists, []string{"PATH=" + defaultExecPath})
	}
	lists = append(lists, u.Environment)
	for _, f := range u.EnvironmentFiles {
		env, err := readEnvFile(f)
		if err != nil {
			return nil, fmt.Errorf("%s: EnvironmentFile=%s: %w", u.Name, f.Path, err)
		}
		lists = append(lists, env)
	}
	return mergeEnv(lists...), nil
}

// spawn starts c for svc as a new process group leader and starts watching
// it. Caller holds s.mu and has checked s.closed, so Kill and Shutdown
// either see the process in s.live or it never starts.
func (s *Supervisor) spawn(svc *service, u *Unit, c Command, env []string, main bool) (*process, error) {
	path, err := c.resolvePath()
	if err != nil {
		return nil, &spawnError{exitExec, err}
	}
	dir, err := workingDir(u, env)
	if err != nil {
		return nil, &spawnError{exitChdir, err}
	}
	logFile, err := s.openLog()
	if err != nil {
		return nil, &spawnError{exitStdout, err}
	}
	defer logFile.Close()
	cmd := &exec.Cmd{
		Path:   path,
		Args:   c.argv(envMap(env)),
		Env:    env,
		Dir:    dir,
		Stdout: logFile,
		Stderr: logFile,
		SysProcAttr: &syscall.SysProcAttr{
			Setpgid:   true,
			Pdeathsig: syscall.SIGKILL,
		},
	}
	if err := startOnLockedThread(cmd); err != nil {
		return nil, &spawnError{exitExec, fmt.Errorf("executing %s: %w", path, err)}
	}
	p := &process{pid: cmd.Process.Pid, cmd: cmd, main: main, done: make(chan struct{})}
	s.live[p] = svc
	go s.watch(svc, p)
	return p, nil
}

func workingDir(u *Unit, env []string) (string, error) {
	dir := u.WorkingDirectory
	if dir == "" {
		return "", nil
	}
	if dir == "~" || strings.HasPrefix(dir, "~/") {
		dir = filepath.Join(envMap(env)["HOME"], strings.TrimPrefix(dir, "~"))
	}
	st, err := os.Stat(dir)
	switch {
	case err == nil && st.IsDir():
		return dir, nil
	case u.WorkingDirOpt && (err == nil || errors.Is(err, os.ErrNotExist)):
		return "", nil
	case err == nil:
		return "", fmt.Errorf("WorkingDirectory=%s is not a directory", dir)
	}
	return "", fmt.Errorf("changing to WorkingDirectory=%s: %w", dir, err)
}

// watch waits for p to terminate, cleans up what is left of its process
// group while its pid still pins the group id, then reaps it.
func (s *Supervisor) watch(svc *service, p *process) {
	waitTerminated(p.pid)
	s.mu.Lock()
	p.exited = true
	killMode := "control-group"
	if svc.unit != nil {
		killMode = svc.unit.KillMode
	}
	if killMode != "process" || s.closed {
		// systemd kills what remains of a service's cgroup once its main
		// process is gone; a process group is our cgroup.
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	}
	s.mu.Unlock()

	// A non-zero exit is not an error here: the status is in ProcessState.
	// Only a failed wait leaves ProcessState nil; report that as SIGKILL
	// rather than inventing a clean exit.
	waitErr := p.cmd.Wait()
	ws := syscall.WaitStatus(syscall.SIGKILL)
	if p.cmd.ProcessState != nil {
		ws, _ = p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	} else {
		s.logf("systemd: %s: waiting for pid %d: %v", svc.name, p.pid, waitErr)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	p.status = ws
	delete(s.live, p)
	close(p.done)
	if !p.main || svc.main != p {
		return
	}
	svc.main = nil
	svc.recordExit(ws)
	s.logMarker("%s pid %d exited, %s", svc.name, p.pid, describeExit(ws))
	if svc.stopping {
		return // the stop job decides the final state
	}
	u := svc.unit
	if u == nil {
		u = &Unit{Restart: "no"}
	}
	o := classify(u, ws, 0)
	s.logf("systemd: %s: main process %d exited unexpectedly (%s), result %s", svc.name, p.pid, describeExit(ws), o.result)
	s.settle(svc, u, o)
}

// settle moves a service whose main process (or start attempt) ended on its
// own into its next state: an automatic restart after RestartSec=, or dead.
// Caller holds s.mu.
func (s *Supervisor) settle(svc *service, u *Unit, o outcome) {
	if s.closed || !shouldRestart(u.Restart, o) {
		svc.setDead(o.result)
		return
	}
	svc.result = o.result
	svc.setState("activating", "auto-restart")
	svc.cancelRestart()
	generation := svc.restartGeneration
	svc.restartTimer = time.AfterFunc(u.RestartSec, func() { s.autoRestart(svc, generation) })
}

func (s *Supervisor) autoRestart(svc *service, generation int) {
	svc.job.Lock()
	defer svc.job.Unlock()
	s.mu.Lock()
	if s.closed || svc.restartGeneration != generation || svc.sub != "auto-restart" {
		s.mu.Unlock()
		return
	}
	svc.restartTimer = nil
	svc.nRestarts++
	s.mu.Unlock()
	if msg, code := s.runStart(svc, false); code != 0 {
		s.logf("systemd: %s: automatic restart failed: %s", svc.name, strings.TrimSpace(msg))
	}
}

func describeExit(ws syscall.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("code=exited, status=%d/%s", ws.ExitStatus(), exitStatusName(ws.ExitStatus()))
	case ws.CoreDump():
		return fmt.Sprintf("code=dumped, status=%d/%s", int(ws.Signal()), signalName(ws.Signal()))
	case ws.Signaled():
		return fmt.Sprintf("code=killed, status=%d/%s", int(ws.Signal()), signalName(ws.Signal()))
	}
	return "status unknown"
}

func exitStatusName(code int) string {
	switch code {
	case 0:
		return "SUCCESS"
	case 1:
		return "FAILURE"
	case 2:
		return "INVALIDARGUMENT"
	case exitChdir:
		return "CHDIR"
	case exitExec:
		return "EXEC"
	case exitStdout:
		return "STDOUT"
	}
	return "n/a"
}
