package hooktools

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// render formats v as juju/cmd does for --format json, yaml or smart (the default of hook tools).
func render(format string, v any) (string, error) {
	switch format {
	case "json":
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		return string(b) + "\n", nil
	case "yaml":
		if v == nil {
			return "", nil
		}
		b, err := yaml.Marshal(v)
		if err != nil {
			return "", err
		}
		return string(b), nil
	case "smart", "":
		switch x := v.(type) {
		case nil:
			return "", nil
		case string:
			return x + "\n", nil
		case bool:
			if x {
				return "True\n", nil
			}
			return "False\n", nil
		case int, int64, float64:
			return fmt.Sprint(x) + "\n", nil
		case []string:
			return strings.Join(x, "\n") + "\n", nil
		}
		return render("yaml", v)
	}
	return "", usagef("invalid value %q for option --format: unknown format %q", format, format)
}

// keyValues parses k=v arguments, rejecting duplicates as Juju's settings parser does.
func keyValues(args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, usagef("expected \"key=value\", got %q", a)
		}
		if _, dup := out[k]; dup {
			return nil, usagef("key %q specified more than once", k)
		}
		out[k] = v
	}
	return out, nil
}

// orderedKeyValues is keyValues keeping argument order.
func orderedKeyValues(args []string) ([][2]string, error) {
	if _, err := keyValues(args); err != nil {
		return nil, err
	}
	var out [][2]string
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

func sortedStrings(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}
