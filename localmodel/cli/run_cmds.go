package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/etcd-charm/etcd/localmodel/api"
	yamlv2 "go.yaml.in/yaml/v2"
)

func init() {
	register("run", "run UNIT ACTION [k=v ...] [--format=json]: run an action and print its results", runAction)
	register("exec", "exec --unit UNIT -- COMMAND...: run a command in the unit's hook environment", execCmd)
}

// actionParams parses juju run's k=v arguments: values are YAML scalars as Juju's CLI reads them (YAML 1.1, so
// yes/no/on/off are booleans and a timestamp stays a string), or raw strings with --string-args; dotted keys
// nest.
func actionParams(args []string, rawStrings bool) (map[string]any, error) {
	out := map[string]any{}
	for _, a := range args {
		k, raw, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, usagef("argument %q must be of the form key...=value", a)
		}
		// As Juju: the raw string stands unless YAML says otherwise (an empty value stays "", null is null).
		var v any = raw
		if !rawStrings {
			if err := yamlv2.Unmarshal([]byte(raw), &v); err != nil {
				return nil, usagef("value of %q is not valid YAML (pass --string-args to send it as it is): %v", k, err)
			}
			v = conformYAML(v)
		}
		parts := strings.Split(k, ".")
		m := out
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = v
	}
	return out, nil
}

// conformYAML turns YAML 1.1's map[any]any into the string-keyed maps JSON (and the action schema) deals in.
func conformYAML(v any) any {
	switch t := v.(type) {
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, val := range t {
			out[fmt.Sprint(k)] = conformYAML(val)
		}
		return out
	case []any:
		for i := range t {
			t[i] = conformYAML(t[i])
		}
	}
	return v
}

func runAction(e *env, args []string) error {
	fs := newFlags(e, "run")
	format := fs.String("format", "plain", "output format: plain|yaml|json")
	fs.String("wait", "", "accepted for juju compatibility")
	stringArgs := fs.Bool("string-args", false, "use raw string values of CLI args")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usagef("run needs UNIT ACTION [k=v ...]")
	}
	params, err := actionParams(pos[2:], *stringArgs)
	if err != nil {
		return err
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	res, err := m.Run(e.ctx, pos[0], pos[1], params)
	if err != nil {
		return err
	}
	switch *format {
	case "json", "yaml":
		if err := printFormatted(e, *format, map[string]api.ActionResult{res.Unit: res}); err != nil {
			return err
		}
	default:
		printPlainAction(e, res)
	}
	if res.Status != "completed" {
		fmt.Fprintf(e.stderr, "ERROR the following task failed:\n id %q with return code %v\n\nuse 'juju show-task' to inspect the failure\n", res.ID, res.Results["return-code"])
		return exitError{code: 1}
	}
	return nil
}

func printPlainAction(e *env, res api.ActionResult) {
	opID := res.ID
	if n := 0; func() bool { _, err := fmt.Sscan(res.ID, &n); return err == nil }() {
		opID = fmt.Sprint(n - 1)
	}
	fmt.Fprintf(e.stderr, "Running operation %s with 1 task\n  - task %s on unit-%s\n\nWaiting for task %s...\n",
		opID, res.ID, strings.ReplaceAll(res.Unit, "/", "-"), res.ID)
	for _, l := range res.Logs {
		fmt.Fprintln(e.stderr, l)
	}
	shown := map[string]any{}
	for k, v := range res.Results {
		switch k {
		case "return-code", "stdout", "stderr":
			continue
		}
		shown[k] = v
	}
	if len(shown) > 0 {
		_ = printYAML(e, shown)
	}
	if s, ok := res.Results["stdout"].(string); ok {
		fmt.Fprint(e.stdout, s)
	}
	if s, ok := res.Results["stderr"].(string); ok {
		fmt.Fprint(e.stderr, s)
	}
	if res.Status != "completed" && res.Message != "" {
		fmt.Fprintf(e.stderr, "Action id %s failed: %s\n", res.ID, res.Message)
	}
}

func printFormatted(e *env, format string, v any) error {
	if format == "json" {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(e.stdout, string(b))
		return err
	}
	return printYAML(e, v)
}

func execCmd(e *env, args []string) error {
	fs := newFlags(e, "exec")
	unit := fs.String("unit", "", "unit to run on")
	fs.StringVar(unit, "u", "", "unit to run on")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *unit == "" || len(pos) == 0 {
		return usagef("exec needs --unit UNIT -- COMMAND")
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	res, err := m.Exec(e.ctx, *unit, pos...)
	if err != nil {
		return err
	}
	fmt.Fprint(e.stdout, res.Stdout)
	fmt.Fprint(e.stderr, res.Stderr)
	if res.Code != 0 {
		return exitError{code: res.Code}
	}
	return nil
}
