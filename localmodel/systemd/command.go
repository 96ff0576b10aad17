package systemd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Command is one parsed Exec*= command line. Args holds argv (argv[0]
// included) before environment-variable expansion, which happens at each
// start because EnvironmentFile= is read then.
type Command struct {
	Path          string
	Args          []string
	IgnoreFailure bool // "-" prefix: a failing exit status counts as success
	NoExpand      bool // ":" prefix: no $VAR expansion
}

// defaultExecPath is where systemd looks up an ExecStart= given as a bare file
// name (it never uses the service's $PATH for this).
const defaultExecPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// parseCommands parses an Exec*= value into one or more commands separated
// by lone ";" words, handling the "@-:+!" prefixes and unit specifiers.
func parseCommands(value, unitName string) ([]Command, error) {
	words, err := splitWords(value)
	if err != nil {
		return nil, err
	}
	var cmds []Command
	for len(words) > 0 {
		end := 0
		for end < len(words) && !words[end].separator {
			end++
		}
		if end > 0 {
			cmd, err := parseCommand(words[:end], unitName)
			if err != nil {
				return nil, err
			}
			cmds = append(cmds, cmd)
		}
		if end == len(words) {
			break
		}
		words = words[end+1:]
	}
	return cmds, nil
}

func parseCommand(words []word, unitName string) (Command, error) {
	var cmd Command
	texts := make([]string, len(words))
	for i, w := range words {
		t, err := expandSpecifiers(w.text, unitName)
		if err != nil {
			return cmd, err
		}
		texts[i] = t
	}
	first := texts[0]
	ownArgv0 := false
	for first != "" && strings.ContainsRune("@-:+!|", rune(first[0])) {
		switch first[0] {
		case '@':
			ownArgv0 = true
		case '-':
			cmd.IgnoreFailure = true
		case ':':
			cmd.NoExpand = true
		case '+', '!':
			// Privilege adjustments: every service already runs as the
			// controller's user here, so they change nothing.
		case '|':
			return cmd, fmt.Errorf("the '|' (login shell) prefix is not supported")
		}
		first = first[1:]
	}
	if first == "" {
		return cmd, fmt.Errorf("empty executable path")
	}
	if !filepath.IsAbs(first) && strings.Contains(first, "/") {
		return cmd, fmt.Errorf("executable path %q is neither absolute nor a plain file name", first)
	}
	cmd.Path = first
	rest := texts[1:]
	if ownArgv0 {
		if len(rest) == 0 {
			return cmd, fmt.Errorf("'@' prefix given but no argv[0] follows %q", first)
		}
		cmd.Args = rest
	} else {
		cmd.Args = append([]string{first}, rest...)
	}
	return cmd, nil
}

// expandSpecifiers resolves the unit specifiers a service file can
// meaningfully use here; anything else is rejected so a typo does not turn
// into a silently wrong argument.
func expandSpecifiers(s, unitName string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	prefix := strings.TrimSuffix(unitName, ".service")
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("dangling %% specifier in %q", s)
		}
		i++
		switch s[i] {
		case '%':
			b.WriteByte('%')
		case 'n':
			b.WriteString(unitName)
		case 'N', 'p', 'P':
			b.WriteString(prefix)
		case 'i', 'I':
			// Not a template instance: the instance name is empty.
		default:
			return "", fmt.Errorf("unsupported specifier %%%c in %q", s[i], s)
		}
	}
	return b.String(), nil
}

// argv expands $VAR and ${VAR} in the arguments (argv[0] is left alone, like
// the executable path). A word that is exactly "$VAR" becomes the variable's
// whitespace-separated words; anywhere else the value is substituted as is.
func (c Command) argv(env map[string]string) []string {
	out := []string{c.Args[0]}
	for _, a := range c.Args[1:] {
		if c.NoExpand {
			out = append(out, a)
			continue
		}
		if name, ok := loneVariable(a); ok {
			out = append(out, strings.Fields(env[name])...)
			continue
		}
		out = append(out, substitute(a, env))
	}
	return out
}

// resolvePath finds the executable for a bare file name.
func (c Command) resolvePath() (string, error) {
	if filepath.IsAbs(c.Path) {
		return c.Path, nil
	}
	for _, dir := range filepath.SplitList(defaultExecPath) {
		p := filepath.Join(dir, c.Path)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: executable not found in %s", c.Path, defaultExecPath)
}

func loneVariable(s string) (string, bool) {
	if len(s) < 2 || s[0] != '$' {
		return "", false
	}
	name := s[1:]
	if n := varNameLen(name); n == len(name) {
		return name, true
	}
	return "", false
}

func varNameLen(s string) int {
	n := 0
	for n < len(s) {
		c := s[n]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || n > 0 && c >= '0' && c <= '9' {
			n++
			continue
		}
		break
	}
	return n
}

func substitute(s string, env map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			b.WriteString(env[s[i+2:i+2+end]])
			i += 2 + end
		default:
			n := varNameLen(s[i+1:])
			if n == 0 {
				b.WriteByte('$')
				continue
			}
			b.WriteString(env[s[i+1:i+1+n]])
			i += n
		}
	}
	return b.String()
}
