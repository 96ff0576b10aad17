package controller

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/etcd-charm/etcd/localmodel/hooktools"
	"github.com/etcd-charm/etcd/localmodel/model"
	"github.com/etcd-charm/etcd/localmodel/systemd"
)

// Config configures a controller.
type Config struct {
	ModelDir string
	// Binary is the localjuju executable the tools/ symlinks point at (normally os.Executable()).
	Binary               string
	ModelName            string
	UpdateStatusInterval time.Duration
	LeaseDuration        time.Duration
	// AutoRetry re-runs a failed hook with back-off (5s doubling to 5m) as Juju does by default; off unless
	// asked, so tests see the error state until they resolve it.
	AutoRetry bool
	// ExitWithParent stops the controller when the process that started it dies, so tests that crash do not
	// leave controllers behind.
	ExitWithParent bool
}

// Controller is a running controller.
type Controller struct {
	cfg    Config
	layout Layout
	block  *addressBlock
	log    *debugLog
	socket string

	mu          sync.Mutex
	m           *model.Model
	runners     map[string]*unitRunner
	supervisors map[string]*systemd.Supervisor

	ctx      context.Context
	cancel   context.CancelFunc
	runnerWG sync.WaitGroup
	stopOnce sync.Once
	stopped  chan struct{}
}

// Run starts a controller for cfg.ModelDir and serves until ctx ends or a client asks it to destroy the
// model; it then stops every hook and workload and releases the model's address block.
func Run(ctx context.Context, cfg Config) error {
	c, err := start(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("unix", c.socket)
	if err != nil {
		c.teardown()
		return fmt.Errorf("listening on %s: %w", c.socket, err)
	}
	srv := &http.Server{Handler: c.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	if err := os.WriteFile(c.layout.SocketFile(), []byte(c.socket+"\n"), 0o644); err != nil {
		c.teardown()
		return fmt.Errorf("recording socket: %w", err)
	}
	if err := os.WriteFile(c.layout.PIDFile(), []byte(fmt.Sprintf("%d\n", os.Getpid())), 0o644); err != nil {
		c.teardown()
		return fmt.Errorf("recording pid: %w", err)
	}
	go c.tickLoop()
	if cfg.ExitWithParent {
		go c.watchParent()
	}
	c.log.write("machine-0", "INFO", "juju.cmd.jujud", fmt.Sprintf("controller started for model %q, addresses %s0/24", cfg.ModelName, c.block.prefix))
	select {
	case <-ctx.Done():
	case <-c.stopped:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = srv.Shutdown(shutdownCtx)
	cancel()
	c.teardown()
	return nil
}

func start(cfg Config) (*Controller, error) {
	if cfg.ModelDir == "" {
		return nil, errors.New("no model directory")
	}
	dir, err := filepath.Abs(cfg.ModelDir)
	if err != nil {
		return nil, err
	}
	cfg.ModelDir = dir
	if cfg.ModelName == "" {
		cfg.ModelName = "default"
	}
	if cfg.LeaseDuration <= 0 {
		cfg.LeaseDuration = 30 * time.Second
	}
	layout := Layout{Dir: dir}
	for _, d := range []string{dir, layout.ToolsDir(), layout.CharmsDir(), layout.ResourcesDir(), filepath.Join(dir, "units")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	if err := installTools(layout.ToolsDir(), cfg.Binary); err != nil {
		return nil, err
	}
	block, err := claimAddressBlock(dir)
	if err != nil {
		return nil, err
	}
	dl, err := openDebugLog(layout.DebugLog())
	if err != nil {
		block.release()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Controller{
		cfg: cfg, layout: layout, block: block, log: dl, socket: "@localjuju-" + randomName(),
		runners: map[string]*unitRunner{}, supervisors: map[string]*systemd.Supervisor{},
		ctx: ctx, cancel: cancel, stopped: make(chan struct{}),
	}
	c.m = model.New(model.Options{
		Name: cfg.ModelName, AddressPrefix: block.prefix, LeaseDuration: cfg.LeaseDuration,
		UpdateStatusInterval: cfg.UpdateStatusInterval,
		UnitLayout:           c.unitPaths,
		Wake:                 c.wake,
		UnitGone:             c.unitGone,
		Log:                  dl.write,
	})
	return c, nil
}

// installTools makes tools/<name> a symlink to the localjuju binary for every hook tool and systemctl.
func installTools(dir, binary string) error {
	if binary == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("locating localjuju binary: %w", err)
		}
		binary = exe
	}
	names := append(hooktools.Names(), "systemctl")
	for _, n := range names {
		link := filepath.Join(dir, n)
		_ = os.Remove(link)
		if err := os.Symlink(binary, link); err != nil {
			return fmt.Errorf("installing hook tool %s: %w", n, err)
		}
	}
	return nil
}

func (c *Controller) unitPaths(unit string) model.UnitPaths {
	d := c.layout.UnitDir(unit)
	return model.UnitPaths{Dir: d, CharmDir: filepath.Join(d, "charm"), Root: filepath.Join(d, "root"),
		WorkloadLog: filepath.Join(d, "workload.log")}
}

// stop asks Run to return.
func (c *Controller) stop() { c.stopOnce.Do(func() { close(c.stopped) }) }

// teardown stops runners (killing running hooks), shuts every unit's services down, and releases the
// model's files and address block.
func (c *Controller) teardown() {
	c.cancel()
	c.mu.Lock()
	for _, r := range c.runners {
		r.kill()
	}
	sups := make([]*systemd.Supervisor, 0, len(c.supervisors))
	for _, s := range c.supervisors {
		if !slices.Contains(sups, s) { // a subordinate shares its principal's
			sups = append(sups, s)
		}
	}
	c.mu.Unlock()
	c.runnerWG.Wait()
	var wg sync.WaitGroup
	for _, s := range sups {
		wg.Add(1)
		go func(s *systemd.Supervisor) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			s.Shutdown(ctx)
		}(s)
	}
	wg.Wait()
	c.log.write("machine-0", "INFO", "juju.cmd.jujud", "controller stopped")
	c.log.close()
	c.block.release()
	_ = os.Remove(c.layout.SocketFile())
	_ = os.Remove(c.layout.PIDFile())
}

func (c *Controller) tickLoop() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case now := <-t.C:
			c.mu.Lock()
			c.m.Tick(now)
			c.mu.Unlock()
		}
	}
}

func (c *Controller) watchParent() {
	parent := os.Getppid()
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != parent {
				c.log.write("machine-0", "WARNING", "juju.cmd.jujud", "parent process gone; destroying model")
				c.stop()
				return
			}
		}
	}
}

// wake is the model's Wake callback (called under c.mu).
func (c *Controller) wake(unit string) {
	if r, ok := c.runners[unit]; ok {
		r.poke()
	}
}

// unitGone is the model's UnitGone callback (called under c.mu): a forced removal kills the unit's
// workloads and running hook at once, as a dying machine would; a normal one stops services gracefully.
func (c *Controller) unitGone(u *model.Unit, forced bool) {
	r := c.runners[u.Name]
	sup := c.supervisors[u.Name]
	if u.Principal != "" {
		// A subordinate shares its principal's machine: its services stop with its own stop hook, the
		// machine's init system stays.
		sup = nil
	}
	if r != nil {
		if forced {
			r.kill()
		}
		r.retire()
	}
	if sup != nil {
		go func() {
			if forced {
				sup.Kill()
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			sup.Shutdown(ctx)
		}()
	}
	c.log.write("unit-"+tag(u.Name), "INFO", "juju.worker.uniter", fmt.Sprintf("unit %q shut down (forced=%v)", u.Name, forced))
}

// ensureUnits creates the directories, supervisor and runner of every unit that has none yet (under c.mu).
func (c *Controller) ensureUnits() error {
	for _, u := range c.m.Units() {
		if _, ok := c.runners[u.Name]; ok {
			continue
		}
		for _, d := range []string{u.Paths.Dir, u.Paths.CharmDir, u.Paths.Root} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("creating %s: %w", d, err)
			}
		}
		if err := linkCharm(u.App.Charm.Dir, u.Paths.CharmDir); err != nil {
			return err
		}
		if machine, ok := c.supervisors[u.Principal]; ok && u.Principal != "" {
			// One init system per machine: a subordinate's services run beside its principal's.
			c.supervisors[u.Name] = machine
		} else {
			c.supervisors[u.Name] = systemd.New(systemd.Options{
				Root: u.Paths.Root, LogPath: u.Paths.WorkloadLog, Env: c.serviceEnv(),
				Logf: func(format string, args ...any) {
					c.log.write("unit-"+tag(u.Name), "DEBUG", "localjuju.systemd", fmt.Sprintf(format, args...))
				},
			})
		}
		r := newUnitRunner(c, u.Name)
		c.runners[u.Name] = r
		c.runnerWG.Add(1)
		go r.loop()
	}
	return nil
}

func (c *Controller) serviceEnv() []string {
	return []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=/root"}
}

func randomName() string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 12)
	for i := range b {
		b[i] = letters[randInt(len(letters))]
	}
	return string(b)
}

func tag(unit string) string {
	out := []byte(unit)
	for i := range out {
		if out[i] == '/' {
			out[i] = '-'
		}
	}
	return string(out)
}
