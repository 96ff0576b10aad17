package cli

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/etcd-charm/etcd/localmodel/client"
)

func init() {
	register("debug-log", "debug-log [--replay] [-n N] [--no-tail] [--include UNIT] [--level L]", debugLog)
	register("scp", "scp [-r] UNIT:PATH DEST | SRC UNIT:PATH: copy files to or from a unit's filesystem root", scp)
}

var levels = map[string]int{"TRACE": 0, "DEBUG": 1, "INFO": 2, "WARNING": 3, "ERROR": 4, "CRITICAL": 5}

func debugLog(e *env, args []string) error {
	fs := newFlags(e, "debug-log")
	replay := fs.Bool("replay", false, "show the whole log")
	lines := fs.Int("n", 10, "show this many recent lines")
	fs.IntVar(lines, "lines", 10, "show this many recent lines")
	noTail := fs.Bool("no-tail", false, "exit instead of following the log")
	include := fs.String("include", "", "only this entity (app/0 or unit-app-0)")
	level := fs.String("level", "", "minimum level")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	f, err := os.Open(m.DebugLogPath())
	if err != nil {
		return fmt.Errorf("opening debug log: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var all []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			break
		}
		all = append(all, strings.TrimRight(line, "\n"))
	}
	shown := keep(client.FilterLog(all, *include), *level)
	if !*replay && len(shown) > *lines {
		shown = shown[len(shown)-*lines:]
	}
	for _, l := range shown {
		fmt.Fprintln(e.stdout, l)
	}
	if *noTail {
		return nil
	}
	var partial string
	for {
		select {
		case <-e.ctx.Done():
			return nil
		case <-time.After(200 * time.Millisecond):
		}
		for {
			chunk, err := r.ReadString('\n')
			partial += chunk
			if err != nil {
				break
			}
			for _, l := range keep(client.FilterLog([]string{strings.TrimRight(partial, "\n")}, *include), *level) {
				fmt.Fprintln(e.stdout, l)
			}
			partial = ""
		}
	}
}

func keep(lines []string, level string) []string {
	min, ok := levels[strings.ToUpper(level)]
	if !ok {
		return lines
	}
	var out []string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 3 && levels[f[2]] >= min {
			out = append(out, l)
		}
	}
	return out
}

func scp(e *env, args []string) error {
	fs := newFlags(e, "scp")
	recursive := fs.Bool("r", false, "copy directories recursively")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("scp needs SOURCE and DEST")
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	src, err := resolveRemote(e, m, pos[0])
	if err != nil {
		return err
	}
	dst, err := resolveRemote(e, m, pos[1])
	if err != nil {
		return err
	}
	return copyPath(src, dst, *recursive)
}

// resolveRemote maps UNIT:PATH to the path under the unit's root (relative paths from /home/ubuntu, the
// default user's home on a Juju machine); other arguments are local paths.
func resolveRemote(e *env, m *client.Model, arg string) (string, error) {
	unit, p, ok := strings.Cut(arg, ":")
	if !ok || !strings.Contains(unit, "/") {
		return arg, nil
	}
	u, err := m.Unit(e.ctx, unit)
	if err != nil {
		return "", err
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join("/home/ubuntu", p)
	}
	return filepath.Join(u.Root, filepath.Clean(p)), nil
}

func copyPath(src, dst string, recursive bool) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if d, err := os.Stat(dst); err == nil && d.IsDir() {
		dst = filepath.Join(dst, filepath.Base(src))
	}
	if !st.IsDir() {
		return copyFile(src, dst, st.Mode().Perm())
	}
	if !recursive {
		return fmt.Errorf("%s is a directory (use -r)", src)
	}
	return filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		return copyFile(p, target, info.Mode().Perm())
	})
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
