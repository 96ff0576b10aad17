package systemd

import (
	"fmt"
	"os"
	"path/filepath"
)

// openLog opens the unit's workload log for appending; the child gets its
// own descriptor, so output from every service and restart interleaves by
// line in one file, as journald would show it.
func (s *Supervisor) openLog() (*os.File, error) {
	path := s.opts.LogPath
	if path == "" {
		path = os.DevNull
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("creating log directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening workload log: %w", err)
	}
	return f, nil
}

// logMarker appends one line of our own to the workload log so a reader can
// tell restarts apart.
func (s *Supervisor) logMarker(format string, args ...any) {
	f, err := s.openLog()
	if err != nil {
		s.logf("systemd: %v", err)
		return
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "-- "+format+" --\n", args...); err != nil {
		s.logf("systemd: writing workload log: %v", err)
	}
}
