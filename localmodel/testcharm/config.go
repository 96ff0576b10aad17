package main

import (
	"encoding/json"
	"fmt"
)

type config struct {
	Greeting  string   `json:"greeting"`
	Count     int      `json:"count"`
	Enabled   bool     `json:"enabled"`
	Ratio     *float64 `json:"ratio"`
	Nickname  *string  `json:"nickname"`
	FailHooks string   `json:"fail-hooks"`
	OnHook    string   `json:"on-hook"`
	Service   bool     `json:"service"`
}

type call struct {
	Fn   string   `json:"fn"`
	Args []string `json:"args"`
}

// perform runs the calls configured for this hook ("*" first), recording each outcome. A failed call does not
// stop the hook: tests assert on the recorded error, e.g. a permission denial.
func (c config) perform(hook string, rec *record) error {
	if c.OnHook == "" {
		return nil
	}
	var plan map[string][]call
	if err := json.Unmarshal([]byte(c.OnHook), &plan); err != nil {
		return fmt.Errorf("on-hook is not a JSON object of call lists: %w", err)
	}
	for _, key := range []string{"*", hook} {
		for _, cl := range plan[key] {
			result, err := invoke(cl.Fn, cl.Args)
			rec.add(cl, result, err)
		}
	}
	return nil
}
