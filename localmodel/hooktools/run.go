package hooktools

import (
	"bytes"
	"errors"
	"sort"

	"github.com/etcd-charm/etcd/localmodel/model"
)

// Env is what a tool needs besides the hook context.
type Env struct {
	Ctx *model.Context
	// Log writes a juju-log line to the model's debug log.
	Log func(level, msg string)
}

type call struct {
	env    Env
	ctx    *model.Context
	fs     flagSet
	format *flagDef
	stdin  []byte
	out    bytes.Buffer
}

type tool func(c *call, args []string) error

var registry = map[string]tool{}

func register(name string, t tool) { registry[name] = t }

// Names lists every hook tool the package answers (systemctl is served by the controller itself).
func Names() []string {
	var out []string
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Known reports whether name is a hook tool of this package.
func Known(name string) bool {
	_, ok := registry[name]
	return ok
}

// Run executes one tool invocation in the context and returns what Juju's tool would print and its code.
func Run(env Env, name string, args []string, stdin []byte) (stdout, stderr string, code int) {
	t, ok := registry[name]
	if !ok {
		return "", "ERROR unknown command \"" + name + "\"\n", 1
	}
	c := &call{env: env, ctx: env.Ctx, stdin: stdin}
	if err := t(c, args); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			return "", "ERROR " + err.Error() + "\n", 2
		}
		return "", "ERROR " + err.Error() + "\n", 1
	}
	return c.out.String(), "", 0
}

// withFormat adds the --format flag every query tool has.
func (c *call) withFormat() {
	c.format = c.fs.str("smart", "format")
}

func (c *call) parse(args []string) error { return c.fs.parse(args) }

func (c *call) print(v any) error {
	format := "smart"
	if c.format != nil {
		format = c.format.value
	}
	s, err := render(format, v)
	if err != nil {
		return err
	}
	c.out.WriteString(s)
	return nil
}

func checkEmpty(args []string) error {
	if len(args) > 0 {
		return usagef("unrecognized args: %q", args)
	}
	return nil
}
