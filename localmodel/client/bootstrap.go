package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/etcd-charm/etcd/localmodel/controller"
)

// Options configure Bootstrap.
type Options struct {
	// Dir is the model directory (created if missing).
	Dir string
	// Binary is the localjuju executable; it runs the controller and serves as every hook tool.
	Binary    string
	ModelName string
	// UpdateStatusInterval is how often update-status runs (Juju: 5m); 0 keeps the controller default of 5m.
	UpdateStatusInterval time.Duration
	// LeaseDuration is how long an application stays leaderless after its leader goes (Juju: ~30s).
	LeaseDuration time.Duration
	// AutoRetry makes failed hooks retry with back-off as Juju does; off by default so tests see errors.
	AutoRetry bool
	// Detach leaves the controller running after this process exits (the CLI's bootstrap); otherwise the
	// controller destroys the model when its parent process dies.
	Detach bool
	// StartTimeout bounds waiting for the controller to answer (default 30s).
	StartTimeout time.Duration
}

// Model is a handle on a running controller.
type Model struct {
	Dir    string
	layout controller.Layout
	c      *socketClient
	pid    int
	exited chan struct{} // closed when a controller this process started has been reaped
}

// Bootstrap starts a controller for a new model in opts.Dir and waits until it answers.
func Bootstrap(ctx context.Context, opts Options) (*Model, error) {
	if opts.Dir == "" {
		return nil, errors.New("bootstrap: no model directory")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, err
	}
	if opts.Binary == "" {
		if opts.Binary, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("bootstrap: locating localjuju: %w", err)
		}
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	layout := controller.Layout{Dir: dir}
	if pid, alive := runningPID(layout); alive {
		return nil, fmt.Errorf("bootstrap: a controller (pid %d) is already running for %s", pid, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	_ = os.Remove(layout.SocketFile())
	_ = os.Remove(layout.PIDFile())
	logf, err := os.OpenFile(layout.ControllerLog(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	defer logf.Close()
	args := []string{"controller", "--model-dir", dir}
	if opts.ModelName != "" {
		args = append(args, "--model-name", opts.ModelName)
	}
	if opts.UpdateStatusInterval > 0 {
		args = append(args, "--update-status-interval", opts.UpdateStatusInterval.String())
	}
	if opts.LeaseDuration > 0 {
		args = append(args, "--lease-duration", opts.LeaseDuration.String())
	}
	if opts.AutoRetry {
		args = append(args, "--auto-retry")
	}
	if !opts.Detach {
		args = append(args, "--exit-with-parent")
	}
	cmd := exec.Command(opts.Binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// setsid: the controller leads its own session, so it survives the CLI and its descendants can be
	// found (and killed) by session id when the model is destroyed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bootstrap: starting controller: %w", err)
	}
	m := &Model{Dir: dir, layout: layout, pid: cmd.Process.Pid, exited: make(chan struct{})}
	if opts.Detach {
		_ = cmd.Process.Release()
		m.exited = nil
	} else {
		go func() {
			_ = cmd.Wait()
			close(m.exited)
		}()
	}
	if err := m.awaitReady(ctx, opts.StartTimeout); err != nil {
		_ = syscall.Kill(-m.pid, syscall.SIGKILL)
		return nil, err
	}
	return m, nil
}

func (m *Model) awaitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if m.exitedNow() {
			return fmt.Errorf("bootstrap: controller exited: %s", tail(m.layout.ControllerLog(), 2000))
		}
		if sock, err := m.layout.ReadSocketName(); err == nil {
			m.c = newSocketClient(sock)
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			err := m.c.call(pctx, "/api/ping", struct{}{}, nil)
			cancel()
			if err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bootstrap: controller did not answer within %s: %s", timeout, tail(m.layout.ControllerLog(), 2000))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (m *Model) exitedNow() bool {
	if m.exited != nil {
		select {
		case <-m.exited:
			return true
		default:
			return false
		}
	}
	return !alive(m.pid)
}

// Connect attaches to the controller already running for dir.
func Connect(dir string) (*Model, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	layout := controller.Layout{Dir: dir}
	pid, ok := runningPID(layout)
	if !ok {
		return nil, fmt.Errorf("no controller running for model directory %s (run bootstrap first)", dir)
	}
	sock, err := layout.ReadSocketName()
	if err != nil {
		return nil, fmt.Errorf("reading controller socket: %w", err)
	}
	return &Model{Dir: dir, layout: layout, c: newSocketClient(sock), pid: pid}, nil
}

// PID is the controller's process id.
func (m *Model) PID() int { return m.pid }

// Destroy stops every hook and workload, stops the controller and waits until nothing it started runs.
// It is safe to call more than once.
func (m *Model) Destroy(ctx context.Context) error {
	if m.exitedNow() {
		killSession(m.pid)
		return nil
	}
	_ = m.c.call(ctx, "/api/destroy", struct{}{}, nil)
	deadline := time.Now().Add(45 * time.Second)
	for !m.exitedNow() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			_ = syscall.Kill(-m.pid, syscall.SIGKILL)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	killSession(m.pid)
	return nil
}

func runningPID(l controller.Layout) (int, bool) {
	raw, err := os.ReadFile(l.PIDFile())
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		return 0, false
	}
	return pid, alive(pid)
}

// alive reports whether pid runs (zombies count as gone).
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, ok := strings.Cut(string(raw), ") ")
	return ok && !strings.HasPrefix(after, "Z")
}

// SessionProcesses lists live processes in the session led by sid: the controller's hooks and workloads.
func SessionProcesses(sid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		_, after, ok := strings.Cut(string(raw), ") ")
		if !ok {
			continue
		}
		fields := strings.Fields(after)
		if len(fields) < 4 || fields[0] == "Z" {
			continue
		}
		if s, _ := strconv.Atoi(fields[3]); s == sid {
			out = append(out, pid)
		}
	}
	return out
}

// killSession SIGKILLs anything left in the controller's session; it should find nothing.
func killSession(sid int) {
	for _, pid := range SessionProcesses(sid) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

func tail(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "(no controller log)"
	}
	if len(raw) > n {
		raw = raw[len(raw)-n:]
	}
	return strings.TrimSpace(string(raw))
}
