package charmdir

import (
	"fmt"
	"sort"
	"strings"
)

// ActionSpec is one action of actions.yaml. Params is a JSON schema "properties" map.
type ActionSpec struct {
	Description          string         `yaml:"description"`
	Params               map[string]any `yaml:"params"`
	Required             []string       `yaml:"required"`
	AdditionalProperties *bool          `yaml:"additionalProperties"`
}

// Validate checks params against the action schema and returns them with schema defaults filled in, as Juju
// does before it queues the task.
func (a ActionSpec) Validate(params map[string]any) (map[string]any, error) {
	out := map[string]any{}
	for k, v := range params {
		out[k] = v
	}
	for name, raw := range a.Params {
		prop, _ := raw.(map[string]any)
		if _, ok := out[name]; !ok {
			if def, has := prop["default"]; has {
				out[name] = def
			}
		}
	}
	for _, req := range a.Required {
		if _, ok := out[req]; !ok {
			return nil, fmt.Errorf("validation failed: (root) : %q property is missing and required, given {}", req)
		}
	}
	var keys []string
	for k := range out {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		raw, declared := a.Params[k]
		if !declared {
			if a.AdditionalProperties != nil && !*a.AdditionalProperties {
				return nil, fmt.Errorf("validation failed: (root) : additional property %q is not allowed, given %v", k, formatParams(params))
			}
			continue
		}
		prop, _ := raw.(map[string]any)
		v, err := checkType(k, prop, out[k])
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

func formatParams(p map[string]any) string {
	var parts []string
	for k, v := range p {
		parts = append(parts, fmt.Sprintf("%q:%v", k, v))
	}
	sort.Strings(parts)
	return "{" + strings.Join(parts, ", ") + "}"
}

// checkType validates v against a JSON schema property, converting YAML integers to the JSON number forms.
func checkType(key string, prop map[string]any, v any) (any, error) {
	typ, _ := prop["type"].(string)
	bad := func() error {
		return fmt.Errorf("validation failed: (root).%s : invalid type. Expected: %s, given: %s", key, typ, jsonType(v))
	}
	switch typ {
	case "", "any":
		return v, nil
	case "string":
		if _, ok := v.(string); !ok {
			return nil, bad()
		}
	case "integer":
		if n, ok := asInt64(v); ok {
			return n, nil
		}
		return nil, bad()
	case "number":
		if n, ok := asFloat64(v); ok {
			return n, nil
		}
		return nil, bad()
	case "boolean":
		if _, ok := v.(bool); !ok {
			return nil, bad()
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return nil, bad()
		}
		if items, ok := prop["items"].(map[string]any); ok {
			for i, item := range arr {
				conv, err := checkType(fmt.Sprintf("%s.%d", key, i), items, item)
				if err != nil {
					return nil, err
				}
				arr[i] = conv
			}
		}
	case "object":
		if _, ok := v.(map[string]any); !ok {
			return nil, bad()
		}
	}
	if enum, ok := prop["enum"].([]any); ok {
		for _, e := range enum {
			if fmt.Sprint(e) == fmt.Sprint(v) {
				return v, nil
			}
		}
		return nil, fmt.Errorf("validation failed: (root).%s : %s must be one of the following: %v", key, key, enum)
	}
	return v, nil
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int, int64:
		return "integer"
	case float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
