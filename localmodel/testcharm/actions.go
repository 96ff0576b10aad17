package main

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/gruyaume/goops"
)

func runAction(name string, rec *record) error {
	switch name {
	case "call":
		var p struct {
			Fn   string   `json:"fn"`
			Args []string `json:"args"`
		}
		if err := goops.GetActionParams(&p); err != nil {
			return fmt.Errorf("reading action params: %w", err)
		}
		result, err := invoke(p.Fn, p.Args)
		rec.add(call{Fn: p.Fn, Args: p.Args}, result, err)
		encoded, jerr := json.Marshal(result)
		if jerr != nil {
			return fmt.Errorf("encoding result of %s: %w", p.Fn, jerr)
		}
		results := map[string]string{"result": string(encoded)}
		if err != nil {
			results["error"] = err.Error()
		}
		if serr := goops.SetActionResults(results); serr != nil {
			return serr
		}
		if err != nil {
			return goops.FailActionf("%s failed: %v", p.Fn, err)
		}
		return nil
	case "fail":
		var p struct {
			Message string `json:"message"`
		}
		if err := goops.GetActionParams(&p); err != nil {
			return fmt.Errorf("reading action params: %w", err)
		}
		if err := goops.SetActionResults(map[string]string{"partial": "yes"}); err != nil {
			return err
		}
		return goops.FailActionf("%s", p.Message)
	case "echo":
		var p struct {
			Text  string `json:"text"`
			Times int    `json:"times"`
			Loud  bool   `json:"loud"`
		}
		if err := goops.GetActionParams(&p); err != nil {
			return fmt.Errorf("reading action params: %w", err)
		}
		if err := goops.ActionLogf("echoing %q %d times", p.Text, p.Times); err != nil {
			return err
		}
		return goops.SetActionResults(map[string]string{
			"text": p.Text, "times": strconv.Itoa(p.Times), "loud": strconv.FormatBool(p.Loud),
		})
	}
	return goops.FailActionf("unknown action %q", name)
}
