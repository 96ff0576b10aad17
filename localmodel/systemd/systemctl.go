package systemd

import (
	"fmt"
	"strings"
)

// invocation is one parsed `systemctl` command line.
type invocation struct {
	verb       string
	units      []string
	quiet      bool
	noBlock    bool
	now        bool
	value      bool
	all        bool
	properties []string
	signal     string
	killWhom   string
}

// result accumulates what one systemctl invocation prints.
type result struct {
	stdout, stderr strings.Builder
	code           int
}

func (r *result) out(format string, args ...any) { fmt.Fprintf(&r.stdout, format, args...) }
func (r *result) err(format string, args ...any) { fmt.Fprintf(&r.stderr, format, args...) }

// fail records an exit code, keeping the first failure's code like systemctl
// does when several units are named.
func (r *result) fail(code int) {
	if r.code == 0 {
		r.code = code
	}
}

var booleanFlags = map[string]func(*invocation){
	"--no-block":        func(i *invocation) { i.noBlock = true },
	"--quiet":           func(i *invocation) { i.quiet = true },
	"-q":                func(i *invocation) { i.quiet = true },
	"--now":             func(i *invocation) { i.now = true },
	"--value":           func(i *invocation) { i.value = true },
	"--all":             func(i *invocation) { i.all = true },
	"-a":                func(i *invocation) { i.all = true },
	"--no-pager":        func(*invocation) {},
	"--no-legend":       func(*invocation) {},
	"--no-ask-password": func(*invocation) {},
	"--no-reload":       func(*invocation) {},
	"--system":          func(*invocation) {},
	"--full":            func(*invocation) {},
	"-l":                func(*invocation) {},
	"--force":           func(*invocation) {},
	"-f":                func(*invocation) {},
	"--wait":            func(*invocation) {},
}

var valueFlags = map[string]func(*invocation, string){
	"--property":  func(i *invocation, v string) { i.properties = append(i.properties, strings.Split(v, ",")...) },
	"-p":          func(i *invocation, v string) { i.properties = append(i.properties, strings.Split(v, ",")...) },
	"--signal":    func(i *invocation, v string) { i.signal = v },
	"-s":          func(i *invocation, v string) { i.signal = v },
	"--kill-whom": func(i *invocation, v string) { i.killWhom = v },
	"--kill-who":  func(i *invocation, v string) { i.killWhom = v },
	"--lines":     func(*invocation, string) {},
	"-n":          func(*invocation, string) {},
	"--output":    func(*invocation, string) {},
	"-o":          func(*invocation, string) {},
}

// parseArgs reads systemctl's options wherever they appear, as getopt does.
func parseArgs(args []string) (*invocation, error) {
	inv := &invocation{}
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		if set, ok := booleanFlags[a]; ok {
			set(inv)
			continue
		}
		name, value, hasValue := strings.Cut(a, "=")
		if !strings.HasPrefix(a, "--") && len(a) > 2 {
			// Short option with an attached value: -pMainPID, -sHUP.
			name, value, hasValue = a[:2], a[2:], true
		}
		set, ok := valueFlags[name]
		if !ok {
			return nil, fmt.Errorf("systemctl: unrecognized option '%s'", a)
		}
		if !hasValue {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("systemctl: option '%s' requires an argument", a)
			}
			i++
			value = args[i]
		}
		set(inv, value)
	}
	if len(positional) > 0 {
		inv.verb, inv.units = positional[0], positional[1:]
	}
	return inv, nil
}

// Systemctl runs one `systemctl ARGS...` (args exclude the program name)
// for this unit and returns what it prints and its exit status.
func (s *Supervisor) Systemctl(args []string) (stdout, stderr string, exitCode int) {
	r := &result{}
	inv, err := parseArgs(args)
	switch {
	case err != nil:
		r.err("%v\n", err)
		r.fail(1)
	default:
		s.dispatch(inv, r)
	}
	if inv != nil && inv.quiet && inv.verb != "show" && inv.verb != "cat" {
		r.stdout.Reset()
	}
	return r.stdout.String(), r.stderr.String(), r.code
}

var verbs = map[string]struct {
	needUnits bool
	run       func(*Supervisor, *invocation, *result)
}{
	"daemon-reload":     {false, (*Supervisor).cmdDaemonReload},
	"daemon-reexec":     {false, (*Supervisor).cmdDaemonReload},
	"start":             {true, (*Supervisor).cmdStart},
	"stop":              {true, (*Supervisor).cmdStop},
	"restart":           {true, (*Supervisor).cmdRestart},
	"try-restart":       {true, (*Supervisor).cmdTryRestart},
	"reload-or-restart": {true, (*Supervisor).cmdRestart},
	"kill":              {true, (*Supervisor).cmdKill},
	"is-active":         {true, (*Supervisor).cmdIsActive},
	"is-failed":         {true, (*Supervisor).cmdIsFailed},
	"is-enabled":        {true, (*Supervisor).cmdIsEnabled},
	"enable":            {true, (*Supervisor).cmdEnable},
	"disable":           {true, (*Supervisor).cmdDisable},
	"show":              {false, (*Supervisor).cmdShow},
	"status":            {false, (*Supervisor).cmdStatus},
	"cat":               {true, (*Supervisor).cmdCat},
	"reset-failed":      {false, (*Supervisor).cmdResetFailed},
}

func (s *Supervisor) dispatch(inv *invocation, r *result) {
	if inv.verb == "" {
		r.err("systemctl: a command verb is required (listing units is not supported by the local model)\n")
		r.fail(1)
		return
	}
	v, ok := verbs[inv.verb]
	if !ok {
		r.err("Unknown command verb '%s'.\n", inv.verb)
		r.fail(1)
		return
	}
	if v.needUnits && len(inv.units) == 0 {
		r.err("Too few arguments.\n")
		r.fail(1)
		return
	}
	v.run(s, inv, r)
}
