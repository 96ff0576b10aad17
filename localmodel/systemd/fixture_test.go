package systemd

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const waitLimit = 20 * time.Second

// fixture is one unit root with its own supervisor, killed at cleanup.
type fixture struct {
	t      *testing.T
	root   string
	log    string
	helper string
	sup    *Supervisor
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	helper, err := os.Executable()
	if err != nil {
		t.Fatalf("locating test binary: %v", err)
	}
	root := t.TempDir()
	f := &fixture{t: t, root: root, log: filepath.Join(root, "var/log/juju/workload.log"), helper: helper}
	var mu sync.Mutex
	done := false
	t.Cleanup(func() { mu.Lock(); done = true; mu.Unlock() })
	f.sup = New(Options{
		Root:    root,
		LogPath: f.log,
		Env:     []string{"PATH=" + os.Getenv("PATH"), "BASE_VAR=from-base"},
		Logf: func(format string, args ...any) {
			// Goroutines may log after the test ends; t.Logf would panic.
			mu.Lock()
			defer mu.Unlock()
			if !done {
				t.Logf(format, args...)
			}
		},
	})
	t.Cleanup(f.sup.Kill)
	return f
}

func (f *fixture) path(rel string) string { return filepath.Join(f.root, rel) }

func (f *fixture) writeUnit(name, text string) string {
	f.t.Helper()
	path := f.path("etc/systemd/system/" + name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return path
}

// helperUnit writes a unit running the helper in mode with report file
// FILE (returned) and extra [Service] lines.
func (f *fixture) helperUnit(name, mode, service string) string {
	report := f.path("run/" + name + ".json")
	if err := os.MkdirAll(filepath.Dir(report), 0o755); err != nil {
		f.t.Fatal(err)
	}
	f.writeUnit(name+".service", "[Unit]\nDescription=test "+name+"\n\n[Service]\nExecStart="+f.helper+" helper "+mode+" "+report+"\n"+service+"\n[Install]\nWantedBy=multi-user.target\n")
	return report
}

type outcomeOf struct {
	stdout, stderr string
	code           int
}

func (f *fixture) ctl(args ...string) outcomeOf {
	f.t.Helper()
	o, e, c := f.sup.Systemctl(args)
	return outcomeOf{o, e, c}
}

// mustCtl runs systemctl and requires exit code want.
func (f *fixture) mustCtl(want int, args ...string) outcomeOf {
	f.t.Helper()
	r := f.ctl(args...)
	if r.code != want {
		f.t.Fatalf("systemctl %s: exit %d, want %d (stdout %q, stderr %q)", strings.Join(args, " "), r.code, want, r.stdout, r.stderr)
	}
	return r
}

func (f *fixture) show(unit, prop string) string {
	f.t.Helper()
	return strings.TrimSpace(f.mustCtl(0, "show", unit, "-p", prop, "--value").stdout)
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readReport waits for a helper's report file, removing it so the next
// start of the same unit can be told apart.
func readReport(t *testing.T, path string) helperReport {
	t.Helper()
	var data []byte
	waitUntil(t, "helper report "+filepath.Base(path), func() bool {
		var err error
		data, err = os.ReadFile(path)
		return err == nil
	})
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	var r helperReport
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("decoding helper report: %v", err)
	}
	return r
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if errors.Is(err, fs.ErrNotExist) || err != nil {
		return false
	}
	return procState(stat) != "Z"
}

// procState is the state letter of a /proc/PID/stat line.
func procState(stat []byte) string {
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+3 > len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

// children lists live processes whose parent is the test process.
func children(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	self := strconv.Itoa(os.Getpid())
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if fields := procStatFields(e.Name()); len(fields) > 1 && fields[1] == self {
			out = append(out, pid)
		}
	}
	return out
}
