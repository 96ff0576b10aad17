package controller

import (
	"os"
	"path/filepath"
	"strings"
)

// Layout names the files of a model directory.
type Layout struct{ Dir string }

// SocketFile holds the controller's abstract socket name.
func (l Layout) SocketFile() string { return filepath.Join(l.Dir, "controller.sock") }

// PIDFile holds the controller's process id.
func (l Layout) PIDFile() string { return filepath.Join(l.Dir, "controller.pid") }

// ControllerLog is the daemon's own output.
func (l Layout) ControllerLog() string { return filepath.Join(l.Dir, "controller.log") }

// DebugLog is the model's debug log (hook runs, juju-log lines, hook errors).
func (l Layout) DebugLog() string { return filepath.Join(l.Dir, "debug.log") }

// ToolsDir holds the hook-tool symlinks put first on every hook's PATH.
func (l Layout) ToolsDir() string { return filepath.Join(l.Dir, "tools") }

// CharmsDir holds each deployed charm revision, unpacked.
func (l Layout) CharmsDir() string { return filepath.Join(l.Dir, "charms") }

// ResourcesDir holds resources passed at deploy.
func (l Layout) ResourcesDir() string { return filepath.Join(l.Dir, "resources") }

// UnitDir is a unit's own directory: units/<app>-<n>.
func (l Layout) UnitDir(unit string) string {
	return filepath.Join(l.Dir, "units", strings.ReplaceAll(unit, "/", "-"))
}

// ReadSocketName returns the abstract socket address recorded in a model directory.
func (l Layout) ReadSocketName() (string, error) {
	b, err := os.ReadFile(l.SocketFile())
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
