package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/etcd-charm/etcd/localmodel/charmdir"
	"github.com/etcd-charm/etcd/localmodel/model"
)

// unitRunner is a unit agent's hook loop: it runs the unit's events one at a time.
type unitRunner struct {
	c      *Controller
	unit   string
	wakeCh chan struct{}
	done   chan struct{}
	once   sync.Once

	mu   sync.Mutex
	proc *os.Process

	retries int
}

func newUnitRunner(c *Controller, unit string) *unitRunner {
	return &unitRunner{c: c, unit: unit, wakeCh: make(chan struct{}, 1), done: make(chan struct{})}
}

func (r *unitRunner) poke() {
	select {
	case r.wakeCh <- struct{}{}:
	default:
	}
}

// retire ends the loop once the current run (if any) has finished.
func (r *unitRunner) retire() { r.once.Do(func() { close(r.done) }) }

// kill SIGKILLs the running hook's process group and reports whether there was one to kill.
func (r *unitRunner) kill() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.proc != nil && syscall.Kill(-r.proc.Pid, syscall.SIGKILL) == nil
}

func (r *unitRunner) loop() {
	defer r.c.runnerWG.Done()
	for {
		if r.c.ctx.Err() != nil {
			return
		}
		r.c.mu.Lock()
		r.c.m.SetNow(time.Now())
		run := r.c.m.NextRun(r.unit)
		r.c.mu.Unlock()
		if run == nil {
			select {
			case <-r.wakeCh:
				continue
			case <-r.done:
				return
			case <-r.c.ctx.Done():
				return
			}
		}
		stdout, stderr, code := r.execute(run)
		if r.c.ctx.Err() != nil {
			// The controller is shutting down: a killed hook commits nothing and reports nothing.
			return
		}
		r.c.mu.Lock()
		r.c.m.SetNow(time.Now())
		if t := run.Event.Task; t != nil {
			t.Stdout, t.Stderr = stdout, stderr
		}
		r.c.m.FinishRun(run, code, stdout+stderr)
		failed := run.Unit.Failed() == run.Event
		r.c.mu.Unlock()
		if x := run.Event.Exec; x != nil {
			x.Reply <- model.ExecResult{Stdout: stdout, Stderr: stderr, Code: code}
		}
		r.report(run, stdout, stderr, code)
		if failed && r.c.cfg.AutoRetry {
			r.scheduleRetry(run.Event)
		} else if code == 0 {
			r.retries = 0
		}
	}
}

// scheduleRetry re-runs a failed hook after Juju's back-off: 5s, doubling, at most 5 minutes.
func (r *unitRunner) scheduleRetry(e *model.Event) {
	delay := 5 * time.Second << min(r.retries, 6)
	if delay > 5*time.Minute {
		delay = 5 * time.Minute
	}
	r.retries++
	time.AfterFunc(delay, func() {
		r.c.mu.Lock()
		defer r.c.mu.Unlock()
		if u, err := r.c.m.Unit(r.unit); err == nil && u.Failed() == e {
			_ = r.c.m.Resolve(r.unit, true)
		}
	})
}

func (r *unitRunner) report(run *model.Run, stdout, stderr string, code int) {
	entity := "unit-" + tag(r.unit)
	name := run.Event.Name()
	if stdout != "" {
		r.c.log.write(entity, "DEBUG", "unit."+r.unit+"."+name, stdout)
	}
	if stderr != "" {
		r.c.log.write(entity, "WARNING", "unit."+r.unit+"."+name, stderr)
	}
	switch {
	case run.Event.Task != nil:
		r.c.log.write(entity, "INFO", "juju.worker.uniter.operation", fmt.Sprintf("ran %q action (exit code %d)", name, code))
	case run.Event.Exec != nil:
		r.c.log.write(entity, "INFO", "juju.worker.uniter.operation", fmt.Sprintf("ran juju-exec command (exit code %d)", code))
	case code == 0:
		r.c.log.write(entity, "INFO", "juju.worker.uniter.operation", fmt.Sprintf("ran %q hook (via hook dispatching script: dispatch)", name))
	}
}

// execute runs one event's process: dispatch for hooks and actions, the command for exec.
func (r *unitRunner) execute(run *model.Run) (stdout, stderr string, code int) {
	u := run.Unit
	if err := r.prepare(run); err != nil {
		return "", err.Error() + "\n", 1
	}
	var cmd *exec.Cmd
	if x := run.Event.Exec; x != nil {
		cmd = exec.Command("/bin/sh", "-c", strings.Join(x.Command, " "))
	} else {
		cmd = exec.Command(filepath.Join(u.Paths.CharmDir, "dispatch"))
	}
	cmd.Dir = u.Paths.CharmDir
	cmd.Env = append(r.c.baseEnv(u.Paths.Root), run.Env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r.mu.Lock()
	started := time.Now()
	if err := startRetryingBusy(cmd); err != nil {
		r.mu.Unlock()
		return "", fmt.Sprintf("cannot run %s: %v\n", cmd.Path, err), 1
	}
	r.proc = cmd.Process
	r.mu.Unlock()
	// A hook must not outlive the controller: teardown cancels the context and the whole process group goes.
	stopKiller := context.AfterFunc(r.c.ctx, func() { r.kill() })
	defer stopKiller()
	err := cmd.Wait()
	run.Usage = usageOf(started, cmd.ProcessState)
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		run.Signal = ws.Signal().String()
	}
	r.mu.Lock()
	r.proc = nil
	r.mu.Unlock()
	code = 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
		if code < 0 {
			code = 1
		}
	case err != nil:
		code = 1
	}
	return out.String(), errOut.String(), code
}

// usageOf is the wall time, CPU time and peak memory of a finished process. Linux reports ru_maxrss in KiB.
func usageOf(started time.Time, ps *os.ProcessState) model.Usage {
	u := model.Usage{Started: started, Wall: time.Since(started)}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok && ru != nil {
		u.MaxRSSKiB = ru.Maxrss
		u.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return u
}

// prepare readies the unit's filesystem for the event: storage locations exist, and an upgrade-charm
// installs the new charm first.
func (r *unitRunner) prepare(run *model.Run) error {
	for _, s := range run.Unit.Storage {
		if err := os.MkdirAll(s.Location, 0o755); err != nil {
			return fmt.Errorf("attaching storage %s: %w", s.ID, err)
		}
	}
	if ch := run.Event.Charm; ch != nil {
		if err := linkCharm(ch.Dir, run.Unit.Paths.CharmDir); err != nil {
			return err
		}
	}
	return nil
}

func linkCharm(src, dest string) error {
	if err := charmdir.LinkDir(src, dest); err != nil {
		return fmt.Errorf("installing charm into %s: %w", dest, err)
	}
	return nil
}

// baseEnv is the process environment under the hook variables: hook tools first on PATH, then the unit
// root's own bin directories, then the controller's PATH.
func (c *Controller) baseEnv(root string) []string {
	path := strings.Join([]string{c.layout.ToolsDir(), filepath.Join(root, "usr/local/sbin"),
		filepath.Join(root, "usr/local/bin"), os.Getenv("PATH")}, ":")
	env := []string{
		"PATH=" + path, "HOME=" + filepath.Join(root, "root"), "LANG=C.UTF-8",
		"JUJU_AGENT_SOCKET_ADDRESS=" + c.socket, "JUJU_AGENT_SOCKET_NETWORK=unix",
	}
	if tmp := os.Getenv("TMPDIR"); tmp != "" {
		env = append(env, "TMPDIR="+tmp)
	}
	return env
}

// startRetryingBusy starts cmd, retrying while exec reports ETXTBSY. A charm binary just copied into a unit's
// charm dir can be "busy" for a moment: a process forked elsewhere in the controller at the same time holds
// the copy's write descriptor until it execs (the fork/exec race of golang.org/issue/22315).
func startRetryingBusy(cmd *exec.Cmd) error {
	for attempt := 0; ; attempt++ {
		err := cmd.Start()
		if err == nil || !errors.Is(err, syscall.ETXTBSY) || attempt == 50 {
			return err
		}
		time.Sleep(20 * time.Millisecond)
		// An exec.Cmd cannot be started twice; a fresh copy keeps everything the caller set.
		retry := exec.Command(cmd.Path, cmd.Args[1:]...)
		retry.Dir, retry.Env, retry.Stdout, retry.Stderr, retry.SysProcAttr = cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr, cmd.SysProcAttr
		*cmd = *retry
	}
}
