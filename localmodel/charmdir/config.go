package charmdir

import (
	"fmt"
	"sort"
	"strconv"
)

// ConfigSchema is config.yaml.
type ConfigSchema struct {
	Options map[string]ConfigOption `yaml:"options"`
}

// ConfigOption is one option; Type is one of string, int, float, boolean, secret.
type ConfigOption struct {
	Type        string `yaml:"type"`
	Default     any    `yaml:"default"`
	Description string `yaml:"description"`
}

// ParseValue converts a CLI string for option key to its typed value, with Juju's error wording.
func (s ConfigSchema) ParseValue(key, raw string) (any, error) {
	opt, ok := s.Options[key]
	if !ok {
		return nil, fmt.Errorf("unknown option %q", key)
	}
	switch opt.Type {
	case "string", "secret", "":
		return raw, nil
	case "int":
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("option %q expected int, got %q", key, raw)
		}
		return v, nil
	case "float":
		v, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return nil, fmt.Errorf("option %q expected float, got %q", key, raw)
		}
		return v, nil
	case "boolean":
		v, err := strconv.ParseBool(raw)
		if err != nil {
			return nil, fmt.Errorf("option %q expected boolean, got %q", key, raw)
		}
		return v, nil
	}
	return nil, fmt.Errorf("option %q has unknown type %q", key, opt.Type)
}

// Normalize converts a value decoded from YAML or JSON to the option's Go type (int64, float64, bool, string).
func (s ConfigSchema) Normalize(key string, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	opt, ok := s.Options[key]
	if !ok {
		return nil, fmt.Errorf("unknown option %q", key)
	}
	switch opt.Type {
	case "string", "secret", "":
		if str, ok := v.(string); ok {
			return str, nil
		}
	case "int":
		if n, ok := asInt64(v); ok {
			return n, nil
		}
	case "float":
		if n, ok := asFloat64(v); ok {
			return n, nil
		}
	case "boolean":
		if b, ok := v.(bool); ok {
			return b, nil
		}
	}
	return nil, fmt.Errorf("option %q expected %s, got %v", key, opt.Type, v)
}

// Defaults returns every option with its default, nil where the option has none.
func (s ConfigSchema) Defaults() map[string]any {
	out := map[string]any{}
	for k := range s.Options {
		v, err := s.Normalize(k, s.Options[k].Default)
		if err != nil {
			v = s.Options[k].Default
		}
		out[k] = v
	}
	return out
}

// Keys lists option names sorted.
func (s ConfigSchema) Keys() []string {
	out := make([]string, 0, len(s.Options))
	for k := range s.Options {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// asInt64 accepts the integer forms YAML and JSON decoders produce (a JSON number arrives as a float64).
func asInt64(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case float64:
		if n == float64(int64(n)) {
			return int64(n), true
		}
	}
	return 0, false
}

// asFloat64 accepts any number a YAML or JSON decoder produces.
func asFloat64(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
