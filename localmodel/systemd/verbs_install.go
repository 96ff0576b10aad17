package systemd

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// installTargets reads [Install] straight from the unit file on disk, as
// systemctl enable does (it does not use the loaded definition).
func installTargets(data []byte) (wants, requires []string) {
	entries, err := parseUnitFile(string(data))
	if err != nil {
		return nil, nil
	}
	for _, e := range entries {
		switch e.section + "/" + e.key {
		case "Install/WantedBy":
			wants = append(wants, strings.Fields(e.value)...)
		case "Install/RequiredBy":
			requires = append(requires, strings.Fields(e.value)...)
		}
	}
	return wants, requires
}

// inRoot shows a host path the way the charm sees it, relative to its root.
func (s *Supervisor) inRoot(path string) string {
	rel, err := filepath.Rel(s.opts.Root, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path
	}
	return "/" + rel
}

// enableLinks lists the symlinks that mark name as enabled.
func (s *Supervisor) enableLinks(name string) []string {
	var links []string
	for _, pattern := range []string{"*.wants", "*.requires"} {
		dirs, _ := filepath.Glob(filepath.Join(s.opts.Root, "etc/systemd/system", pattern))
		for _, dir := range dirs {
			link := filepath.Join(dir, name)
			if _, err := os.Lstat(link); err == nil {
				links = append(links, link)
			}
		}
	}
	return links
}

// unitFileState is what is-enabled prints: enabled, disabled, static, or
// "" when there is no unit file.
func (s *Supervisor) unitFileState(name string) string {
	_, data, err := s.findUnitFile(name)
	if err != nil {
		return ""
	}
	if len(s.enableLinks(name)) > 0 {
		return "enabled"
	}
	if wants, requires := installTargets(data); len(wants)+len(requires) == 0 {
		return "static"
	}
	return "disabled"
}

const noInstallNotice = `The unit files have no installation config (WantedBy=, RequiredBy=, Also=,
Alias= settings in the [Install] section, and DefaultInstance= for template
units). This means they are not meant to be enabled or disabled using systemctl.
`

func (s *Supervisor) cmdEnable(inv *invocation, r *result) {
	for _, arg := range inv.units {
		name, ok := unitName(arg)
		path, data, err := s.findUnitFile(name)
		if !ok || err != nil {
			r.err("Failed to enable unit: Unit file %s does not exist.\n", name)
			r.fail(1)
			return
		}
		wants, requires := installTargets(data)
		if len(wants)+len(requires) == 0 {
			r.err("%s", noInstallNotice)
			continue
		}
		for _, target := range append(suffixed(wants, ".wants"), suffixed(requires, ".requires")...) {
			dir := filepath.Join(s.opts.Root, "etc/systemd/system", target)
			link := filepath.Join(dir, name)
			if _, err := os.Lstat(link); err == nil {
				continue
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				r.err("Failed to enable unit: %v\n", err)
				r.fail(1)
				return
			}
			if err := os.Symlink(path, link); err != nil {
				r.err("Failed to enable unit: %v\n", err)
				r.fail(1)
				return
			}
			r.err("Created symlink %s → %s.\n", s.inRoot(link), s.inRoot(path))
		}
	}
	// systemctl enable reloads the manager unless --no-reload.
	s.daemonReload()
	if inv.now {
		s.cmdStart(inv, r)
	}
}

func suffixed(targets []string, suffix string) []string {
	out := make([]string, len(targets))
	for i, t := range targets {
		out[i] = t + suffix
	}
	return out
}

func (s *Supervisor) cmdDisable(inv *invocation, r *result) {
	for _, arg := range inv.units {
		name, ok := unitName(arg)
		if _, _, err := s.findUnitFile(name); !ok || err != nil {
			r.err("Failed to disable unit: Unit file %s does not exist.\n", name)
			r.fail(1)
			return
		}
		for _, link := range s.enableLinks(name) {
			if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
				r.err("Failed to disable unit: %v\n", err)
				r.fail(1)
				return
			}
			r.err("Removed \"%s\".\n", s.inRoot(link))
		}
	}
	s.daemonReload()
	if inv.now {
		s.cmdStop(inv, r)
	}
}

func (s *Supervisor) cmdIsEnabled(inv *invocation, r *result) {
	code := 1
	for _, arg := range inv.units {
		name, _ := unitName(arg)
		state := s.unitFileState(name)
		if state == "" {
			r.err("Failed to get unit file state for %s: No such file or directory\n", name)
			continue
		}
		r.out("%s\n", state)
		if state == "enabled" || state == "static" {
			code = 0
		}
	}
	r.fail(code)
}
