package systemd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// Options configures the supervisor of one unit.
type Options struct {
	Root    string                           // unit root: unit files are read from Root/etc/systemd/system, then Root/lib/systemd/system
	LogPath string                           // workload stdout/stderr appended here (create dirs as needed)
	Env     []string                         // base environment for services (the unit file's Environment= adds to it)
	Logf    func(format string, args ...any) // optional controller log
}

// Supervisor runs the services of one unit and answers its systemctl calls.
// All methods are safe for concurrent use.
type Supervisor struct {
	opts Options

	mu       sync.Mutex
	services map[string]*service
	live     map[*process]*service // every child not yet reaped
	closed   bool                  // after Shutdown or Kill: nothing starts again
}

// New returns a supervisor with no loaded units. It starts nothing: units
// are loaded on first use or at daemon-reload.
func New(opts Options) *Supervisor {
	return &Supervisor{
		opts:     opts,
		services: map[string]*service{},
		live:     map[*process]*service{},
	}
}

func (s *Supervisor) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// unitDirs lists the load path in priority order.
func (s *Supervisor) unitDirs() []string {
	return []string{
		filepath.Join(s.opts.Root, "etc/systemd/system"),
		filepath.Join(s.opts.Root, "lib/systemd/system"),
	}
}

// unitName turns "etcd" into "etcd.service". ok is false for names that
// could escape the unit directories.
func unitName(arg string) (name string, ok bool) {
	name = arg
	if !strings.Contains(name, ".") {
		name += ".service"
	}
	if name == "" || strings.ContainsAny(name, "/\x00") || strings.HasPrefix(name, ".") {
		return name, false
	}
	return name, true
}

// findUnitFile returns the first unit file for name on the load path.
func (s *Supervisor) findUnitFile(name string) (string, []byte, error) {
	if _, ok := unitName(name); !ok || !strings.HasSuffix(name, ".service") {
		return "", nil, fs.ErrNotExist
	}
	for _, dir := range s.unitDirs() {
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err == nil {
			return path, data, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", nil, fmt.Errorf("reading unit file %s: %w", path, err)
		}
	}
	return "", nil, fs.ErrNotExist
}

// lookup returns the service for name, loading it from disk if it is not
// loaded yet (as systemd does for a unit it has not seen). It returns nil
// when no unit file exists and nothing is known about the unit. Caller
// holds s.mu.
func (s *Supervisor) lookup(arg string) *service {
	name, ok := unitName(arg)
	if !ok {
		return nil
	}
	if svc := s.services[name]; svc != nil {
		return svc
	}
	path, data, err := s.findUnitFile(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.logf("systemd: %v", err)
		}
		return nil
	}
	svc := newService(name)
	s.load(svc, path, data)
	s.services[name] = svc
	return svc
}

// load parses a unit file into svc. A bad file keeps the previous good
// definition around so a running process can still be stopped with it.
func (s *Supervisor) load(svc *service, path string, data []byte) {
	svc.path, svc.loadSum = path, contentSum(data)
	u, err := parseUnit(svc.name, string(data), s.logf)
	if err != nil {
		s.logf("systemd: %v", err)
		svc.loadErr = err
		return
	}
	svc.unit, svc.loadErr = u, nil
	if (u.User != "" || u.Group != "") && !svc.warnedID {
		svc.warnedID = true
		s.logf("systemd: %s: User=%s Group=%s ignored; services run as the controller's user", svc.name, u.User, u.Group)
	}
}

// daemonReload re-reads every loaded unit. Units whose file is gone are
// forgotten unless something of theirs is still running.
func (s *Supervisor) daemonReload() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, svc := range s.services {
		path, data, err := s.findUnitFile(name)
		if err != nil {
			if svc.main == nil && svc.control == nil && svc.sub != "auto-restart" {
				delete(s.services, name)
			}
			continue
		}
		s.load(svc, path, data)
	}
}

// changedOnDisk reports whether the unit file differs from what was loaded.
func (s *Supervisor) changedOnDisk(svc *service) bool {
	if svc.path == "" {
		return false
	}
	path, data, err := s.findUnitFile(svc.name)
	if err != nil {
		return true
	}
	return path != svc.path || contentSum(data) != svc.loadSum
}

// Signal sends sig to the main process of service only (fault injection).
func (s *Supervisor) Signal(service string, sig syscall.Signal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, _ := unitName(service)
	svc := s.services[name]
	if svc == nil || svc.main == nil || svc.main.exited {
		return fmt.Errorf("signalling %s: no main process", name)
	}
	if err := syscall.Kill(svc.main.pid, sig); err != nil {
		return fmt.Errorf("signalling %s (pid %d) with %v: %w", name, svc.main.pid, sig, err)
	}
	return nil
}

// MainPID returns the pid of the service's main process, 0 when not running.
func (s *Supervisor) MainPID(service string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, _ := unitName(service)
	if svc := s.services[name]; svc != nil && svc.main != nil {
		return svc.main.pid
	}
	return 0
}

// ActiveState returns active, inactive, failed, activating or deactivating.
func (s *Supervisor) ActiveState(service string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	name, _ := unitName(service)
	if svc := s.services[name]; svc != nil {
		return svc.active
	}
	return "inactive"
}
