package cli

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/etcd-charm/etcd/localmodel/client"
	"gopkg.in/yaml.v3"
)

func init() {
	register("deploy", "deploy CHARM [APP] [-n N] [--config k=v] [--resource name=path] [--storage name=count] | deploy BUNDLE.yaml [--overlay FILE]... [--dry-run]", deploy)
	register("refresh", "refresh APP --path CHARM: replace the charm and run upgrade-charm", refresh)
	register("add-unit", "add-unit APP [-n N]", addUnit)
	register("remove-unit", "remove-unit UNIT... [--force --no-wait]", removeUnit)
	register("remove-application", "remove-application APP", removeApplication)
	register("integrate", "integrate A[:endpoint] B[:endpoint]", integrate)
	register("relate", "alias of integrate", integrate)
	register("remove-relation", "remove-relation A[:endpoint] B[:endpoint] | remove-relation ID", removeRelation)
	register("config", "config APP [key] [k=v ...] [--reset k,...]", config)
	register("resolve", "resolve UNIT [--no-retry]: clear a hook error", resolve)
	register("resolved", "alias of resolve", resolve)
}

func deploy(e *env, args []string) error {
	fs := newFlags(e, "deploy")
	n := fs.Int("n", 1, "number of units")
	fs.IntVar(n, "num-units", 1, "number of units")
	var cfg, res, sto multiFlag
	fs.Var(&cfg, "config", "k=v config value (repeatable)")
	fs.Var(&res, "resource", "name=path resource (repeatable)")
	fs.Var(&sto, "storage", "name=count storage instances per unit (repeatable; juju's pool and size are not modelled)")
	var overlays multiFlag
	fs.Var(&overlays, "overlay", "bundle overlay file (repeatable, applied in order)")
	dryRun := fs.Bool("dry-run", false, "with a bundle: print the changes and make none")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usagef("deploy needs CHARM [APP]")
	}
	if isBundle(pos[0]) {
		if len(pos) != 1 || len(cfg)+len(res)+len(sto) > 0 {
			return usagef("deploy BUNDLE takes no APP, --config, --resource or --storage: put them in the bundle or an overlay")
		}
		return deployBundle(e, pos[0], overlays, *dryRun)
	}
	if len(overlays) > 0 || *dryRun {
		return usagef("--overlay and --dry-run are for bundles (a .yaml file)")
	}
	config, err := keyValues(cfg)
	if err != nil {
		return err
	}
	resources, err := keyValues(res)
	if err != nil {
		return err
	}
	storage, err := storageCounts(sto)
	if err != nil {
		return err
	}
	opts := client.DeployOptions{NumUnits: *n, Config: config, Resources: resources, Storage: storage}
	if len(pos) == 2 {
		opts.App = pos[1]
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	units, err := m.Deploy(e.ctx, pos[0], opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Deployed %s\n", strings.Join(units, ", "))
	return nil
}

func refresh(e *env, args []string) error {
	fs := newFlags(e, "refresh")
	path := fs.String("path", "", "charm to refresh to")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *path == "" {
		return usagef("refresh needs APP --path CHARM")
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	if err := m.Refresh(e.ctx, pos[0], *path); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Added local charm %q, revision bumped, to the model\n", pos[0])
	return nil
}

func addUnit(e *env, args []string) error {
	fs := newFlags(e, "add-unit")
	n := fs.Int("n", 1, "number of units")
	fs.IntVar(n, "num-units", 1, "number of units")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("add-unit needs APP")
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	units, err := m.AddUnit(e.ctx, pos[0], *n)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Added %s\n", strings.Join(units, ", "))
	return nil
}

func removeUnit(e *env, args []string) error {
	fs := newFlags(e, "remove-unit")
	force := fs.Bool("force", false, "remove without running the unit's hooks (as when its machine dies)")
	fs.Bool("no-wait", false, "accepted with --force, as in juju")
	fs.Bool("no-prompt", true, "accepted for juju compatibility")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("remove-unit needs UNIT...")
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	if *force {
		for _, u := range pos {
			if err := m.ForceRemoveUnit(e.ctx, u); err != nil {
				return err
			}
		}
	} else if err := m.RemoveUnit(e.ctx, pos...); err != nil {
		return err
	}
	for _, u := range pos {
		fmt.Fprintf(e.stderr, "will remove unit %s\n", u)
	}
	return nil
}

func removeApplication(e *env, args []string) error {
	fs := newFlags(e, "remove-application")
	fs.Bool("no-prompt", true, "accepted for juju compatibility")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("remove-application needs APP")
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	if err := m.RemoveApplication(e.ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "will remove application %s\n", pos[0])
	return nil
}

func integrate(e *env, args []string) error {
	fs := newFlags(e, "integrate")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("integrate needs two endpoints")
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	_, err = m.Integrate(e.ctx, pos[0], pos[1])
	return err
}

func removeRelation(e *env, args []string) error {
	fs := newFlags(e, "remove-relation")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usagef("remove-relation needs two endpoints or a relation id")
	}
	b := ""
	if len(pos) == 2 {
		b = pos[1]
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	return m.RemoveRelation(e.ctx, pos[0], b)
}

func config(e *env, args []string) error {
	fs := newFlags(e, "config")
	reset := fs.String("reset", "", "comma-separated keys to reset to their defaults")
	format := fs.String("format", "yaml", "output format: yaml|json")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 {
		return usagef("config needs APP")
	}
	app := pos[0]
	m, err := e.connect()
	if err != nil {
		return err
	}
	var keys []string
	set := map[string]string{}
	for _, a := range pos[1:] {
		if k, v, ok := strings.Cut(a, "="); ok {
			set[k] = v
		} else {
			keys = append(keys, a)
		}
	}
	var resetKeys []string
	if *reset != "" {
		resetKeys = strings.Split(*reset, ",")
	}
	if len(set) > 0 && len(keys) > 0 {
		return usagef("cannot get and set config in one command")
	}
	if len(set) > 0 || len(resetKeys) > 0 {
		return m.SetConfig(e.ctx, app, set, resetKeys...)
	}
	cfg, err := m.Config(e.ctx, app)
	if err != nil {
		return err
	}
	if len(keys) == 1 {
		s, ok := cfg.Settings[keys[0]]
		if !ok {
			return fmt.Errorf("key %q not found in %q application config or charm settings", keys[0], app)
		}
		if s.Value != nil {
			fmt.Fprintln(e.stdout, s.Value)
		}
		return nil
	}
	if len(keys) > 1 {
		return usagef("can only retrieve a single value, or all values")
	}
	return printFormatted(e, *format, cfg)
}

func resolve(e *env, args []string) error {
	fs := newFlags(e, "resolve")
	noRetry := fs.Bool("no-retry", false, "do not re-run the failed hook")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("resolve needs UNIT")
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	for _, u := range pos {
		if err := m.Resolve(e.ctx, u, *noRetry); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func printYAML(e *env, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = e.stdout.Write(b)
	return err
}

// storageCounts parses --storage name=count; Juju's name=pool,size,count forms take the last field as count.
func storageCounts(flags []string) (map[string]int, error) {
	kv, err := keyValues(flags)
	if err != nil || len(kv) == 0 {
		return nil, err
	}
	out := map[string]int{}
	for name, v := range kv {
		fields := strings.Split(v, ",")
		n, err := strconv.Atoi(fields[len(fields)-1])
		if err != nil {
			return nil, usagef("--storage %s=%s: the count must be a number", name, v)
		}
		out[name] = n
	}
	return out, nil
}
