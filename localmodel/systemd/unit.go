package systemd

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Unit is the loaded definition of a service unit.
type Unit struct {
	Name        string // "etcd.service"
	Description string
	After       []string // recorded for `show`; ordering is not enforced

	Type             string // simple, exec or notify (all started alike)
	ExecStartPre     []Command
	ExecStart        Command
	Environment      []string
	EnvironmentFiles []EnvFile
	WorkingDirectory string
	WorkingDirOpt    bool // "-" prefix on WorkingDirectory=
	User, Group      string

	Restart string // no, always, on-success, on-failure, on-abnormal, on-abort
	//lint:ignore ST1011 named after the systemd directive RestartSec= it holds
	RestartSec time.Duration
	KillSignal syscall.Signal
	KillMode   string // control-group, mixed, process
	//lint:ignore ST1011 named after the systemd directive TimeoutStopSec= it holds
	TimeoutStopSec   time.Duration // infinity when disabled
	SuccessExitCodes []int
	SuccessSignals   []syscall.Signal

	StartLimitBurst    int
	StartLimitInterval time.Duration // 0 disables rate limiting

	WantedBy, RequiredBy []string
}

// Defaults of systemd-system.conf(5) and systemd.service(5).
const (
	//lint:ignore ST1011 the default of the systemd directive RestartSec=, named after it
	defaultRestartSec = 100 * time.Millisecond
	//lint:ignore ST1011 the default of the systemd directive TimeoutStopSec=, named after it
	defaultTimeoutStopSec     = 90 * time.Second
	defaultStartLimitBurst    = 5
	defaultStartLimitInterval = 10 * time.Second
)

// parseUnit builds a Unit from unit file text. Like systemd, an invalid
// setting is logged through warn and ignored; only a unit that cannot run at
// all (no usable ExecStart=, unsupported Type=) is an error, which the caller
// reports as LoadState=bad-setting.
func parseUnit(name, text string, warn func(format string, args ...any)) (*Unit, error) {
	entries, err := parseUnitFile(text)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", name, err)
	}
	u := &Unit{
		Name:               name,
		Type:               "simple",
		Restart:            "no",
		RestartSec:         defaultRestartSec,
		KillSignal:         syscall.SIGTERM,
		KillMode:           "control-group",
		TimeoutStopSec:     defaultTimeoutStopSec,
		StartLimitBurst:    defaultStartLimitBurst,
		StartLimitInterval: defaultStartLimitInterval,
	}
	var execStart []Command
	for _, e := range entries {
		bad := func(err error) {
			warn("%s:%d: ignoring %s=%s: %v", name, e.line, e.key, e.value, err)
		}
		if err := u.apply(e, &execStart); err != nil {
			bad(err)
		}
	}
	switch u.Type {
	case "simple", "exec", "notify":
	default:
		return nil, fmt.Errorf("%s: Type=%s is not supported by the local model", name, u.Type)
	}
	switch len(execStart) {
	case 0:
		return nil, fmt.Errorf("%s: service has no ExecStart= setting", name)
	case 1:
		u.ExecStart = execStart[0]
	default:
		return nil, fmt.Errorf("%s: service has more than one ExecStart= setting, which is only allowed for Type=oneshot services", name)
	}
	return u, nil
}

func (u *Unit) apply(e entry, execStart *[]Command) error {
	v := e.value
	switch e.section + "/" + e.key {
	case "Unit/Description":
		u.Description = v
	case "Unit/After":
		u.After = append(u.After, strings.Fields(v)...)
	case "Unit/StartLimitBurst":
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("not a count")
		}
		u.StartLimitBurst = n
	case "Unit/StartLimitIntervalSec", "Service/StartLimitInterval":
		d, err := parseTimeSpan(v)
		if err != nil {
			return err
		}
		if d == infinity {
			d = 0
		}
		u.StartLimitInterval = d
	case "Service/Type":
		u.Type = v
	case "Service/ExecStart":
		if v == "" {
			*execStart = nil
			return nil
		}
		cmds, err := parseCommands(v, u.Name)
		if err != nil {
			return err
		}
		*execStart = append(*execStart, cmds...)
	case "Service/ExecStartPre":
		if v == "" {
			u.ExecStartPre = nil
			return nil
		}
		cmds, err := parseCommands(v, u.Name)
		if err != nil {
			return err
		}
		u.ExecStartPre = append(u.ExecStartPre, cmds...)
	case "Service/Environment":
		if v == "" {
			u.Environment = nil
			return nil
		}
		env, err := parseEnvironment(v)
		if err != nil {
			return err
		}
		u.Environment = append(u.Environment, env...)
	case "Service/EnvironmentFile":
		if v == "" {
			u.EnvironmentFiles = nil
			return nil
		}
		f := EnvFile{Path: v}
		if strings.HasPrefix(v, "-") {
			f = EnvFile{Path: v[1:], Optional: true}
		}
		u.EnvironmentFiles = append(u.EnvironmentFiles, f)
	case "Service/WorkingDirectory":
		u.WorkingDirectory, u.WorkingDirOpt = strings.CutPrefix(v, "-")
	case "Service/User":
		u.User = v
	case "Service/Group":
		u.Group = v
	case "Service/Restart":
		switch v {
		case "no", "always", "on-success", "on-failure", "on-abnormal", "on-abort", "on-watchdog":
			u.Restart = v
		default:
			return fmt.Errorf("unknown restart policy")
		}
	case "Service/RestartSec":
		d, err := parseTimeSpan(v)
		if err != nil {
			return err
		}
		if d == infinity {
			return fmt.Errorf("infinite restart delay")
		}
		u.RestartSec = d
	case "Service/KillSignal":
		sig, err := parseSignal(v)
		if err != nil {
			return err
		}
		u.KillSignal = sig
	case "Service/KillMode":
		switch v {
		case "control-group", "mixed", "process":
			u.KillMode = v
		case "none":
			return fmt.Errorf("KillMode=none is not supported; using %s", u.KillMode)
		default:
			return fmt.Errorf("unknown kill mode")
		}
	case "Service/TimeoutStopSec", "Service/TimeoutSec":
		d, err := parseTimeSpan(v)
		if err != nil {
			return err
		}
		if d == 0 {
			// systemd: 0 disables the timeout.
			d = infinity
		}
		u.TimeoutStopSec = d
	case "Service/SuccessExitStatus":
		if v == "" {
			u.SuccessExitCodes, u.SuccessSignals = nil, nil
			return nil
		}
		for _, f := range strings.Fields(v) {
			if n, err := strconv.Atoi(f); err == nil && n >= 0 && n <= 255 {
				u.SuccessExitCodes = append(u.SuccessExitCodes, n)
				continue
			}
			sig, err := parseSignal(f)
			if err != nil {
				return fmt.Errorf("neither an exit status nor a signal: %q", f)
			}
			u.SuccessSignals = append(u.SuccessSignals, sig)
		}
	case "Install/WantedBy":
		u.WantedBy = append(u.WantedBy, strings.Fields(v)...)
	case "Install/RequiredBy":
		u.RequiredBy = append(u.RequiredBy, strings.Fields(v)...)
	default:
		// systemd ignores unknown and (for us) irrelevant settings such as
		// LimitNOFILE=, Wants=, Documentation=; so do we, silently.
	}
	return nil
}
