package cli

import (
	"flag"
	"fmt"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// Hook faults are test tooling with no juju counterpart: they prove a charm survives dying mid-hook.
func init() {
	register("inject-hook-fault", "inject-hook-fault UNIT [--hook NAME] (--after-tool-calls N | --random [--seed S]) [--times K] | UNIT --clear: SIGKILL hook runs (test tooling)", injectHookFault)
	register("hook-faults", "hook-faults [--format=yaml|json]: armed hook faults and the kills they performed", hookFaults)
}

func injectHookFault(e *env, args []string) error {
	fs := newFlags(e, "inject-hook-fault")
	hook := fs.String("hook", "", "hook or action name to kill (default: every hook, never an action)")
	after := fs.Int("after-tool-calls", 0, "kill once the run's Nth hook tool call (systemctl included) is answered")
	random := fs.Bool("random", false, "kill at a seeded random tool call within the hook")
	seed := fs.Int64("seed", 0, "seed for --random (default: a random one, printed)")
	times := fs.Int("times", 1, "how many runs to kill before the fault disarms itself")
	clear := fs.Bool("clear", false, "disarm the unit's fault")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("inject-hook-fault needs exactly one UNIT")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	delete(set, "model-dir")
	switch {
	case *clear && len(set) > 1:
		return usagef("--clear takes no other option")
	case *clear:
	case (*after > 0) == *random:
		return usagef("inject-hook-fault needs one of --after-tool-calls N (N >= 1) and --random")
	case set["seed"] && !*random:
		return usagef("--seed needs --random")
	case *times < 1:
		return usagef("--times must be at least 1")
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	if *clear {
		return m.ClearHookFault(e.ctx, pos[0])
	}
	f, err := m.InjectHookFault(e.ctx, pos[0], client.HookFaultOptions{Hook: *hook, AfterToolCalls: *after,
		Random: *random, Seed: *seed, Times: *times})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Armed hook fault on %s: %s\n", f.Unit, describeFault(f))
	return nil
}

func describeFault(f api.HookFault) string {
	what := "every hook"
	if f.Hook != "" {
		what = f.Hook
	}
	where := fmt.Sprintf("after %d hook tool calls", f.AfterToolCalls)
	if f.Random {
		where = fmt.Sprintf("at a random hook tool call (seed %d)", f.Seed)
	}
	return fmt.Sprintf("SIGKILL %s %s, %d time(s)", what, where, f.Times)
}

func hookFaults(e *env, args []string) error {
	fs := newFlags(e, "hook-faults")
	format := fs.String("format", "yaml", "output format: yaml|json")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	reply, err := m.HookFaults(e.ctx)
	if err != nil {
		return err
	}
	return printFormatted(e, *format, reply)
}
