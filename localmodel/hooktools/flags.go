package hooktools

import (
	"fmt"
	"strings"
)

// usageError is a flag or argument error: juju/cmd reports those with exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

type flagDef struct {
	names  []string
	isBool bool
	value  string
	on     bool
	set    bool
}

// flagSet parses argv the way juju/gnuflag does: flags and positionals interleave; long flags take
// --name=value or --name value; a short flag takes the rest of its token as value, so "-r=db:3" yields
// "=db:3"; "--" ends flags; a lone "-" is a positional.
type flagSet struct {
	defs []*flagDef
	args []string
}

func (f *flagSet) str(def string, names ...string) *flagDef {
	d := &flagDef{names: names, value: def}
	f.defs = append(f.defs, d)
	return d
}

func (f *flagSet) boolean(names ...string) *flagDef {
	d := &flagDef{names: names, isBool: true}
	f.defs = append(f.defs, d)
	return d
}

func (f *flagSet) lookup(name string) *flagDef {
	for _, d := range f.defs {
		for _, n := range d.names {
			if n == name {
				return d
			}
		}
	}
	return nil
}

func (f *flagSet) parse(argv []string) error {
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		switch {
		case a == "--":
			f.args = append(f.args, argv[i+1:]...)
			return nil
		case strings.HasPrefix(a, "--"):
			name, val, hasVal := strings.Cut(a[2:], "=")
			d := f.lookup(name)
			if d == nil || len(name) < 2 {
				return usagef("flag provided but not defined: --%s", name)
			}
			d.set = true
			if d.isBool {
				d.on = true
				if hasVal {
					switch val {
					case "true", "1":
					case "false", "0":
						d.on = false
					default:
						return usagef("invalid value %q for flag --%s: parse error", val, name)
					}
				}
				continue
			}
			if !hasVal {
				if i+1 >= len(argv) {
					return usagef("flag needs an argument: --%s", name)
				}
				i++
				val = argv[i]
			}
			d.value = val
		case strings.HasPrefix(a, "-") && len(a) > 1:
			rest := a[1:]
			for len(rest) > 0 {
				name := rest[:1]
				rest = rest[1:]
				d := f.lookup(name)
				if d == nil {
					return usagef("flag provided but not defined: -%s", name)
				}
				d.set = true
				if d.isBool {
					d.on = true
					continue
				}
				if rest == "" {
					if i+1 >= len(argv) {
						return usagef("flag needs an argument: -%s", name)
					}
					i++
					rest = argv[i]
				}
				d.value = rest
				rest = ""
			}
		default:
			f.args = append(f.args, a)
		}
	}
	return nil
}
