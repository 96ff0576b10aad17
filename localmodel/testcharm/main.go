// Command testcharm is the local model's test charm: a goops charm whose hooks do exactly what the test
// configured, and which records every hook and action it runs.
package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/gruyaume/goops"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "serve" {
		if err := serve(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := dispatch(); err != nil {
		goops.LogErrorf("testcharm: %v", err)
		os.Exit(1)
	}
}

// serve is the workload the charm runs under systemd when the service option is on.
func serve(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	return http.ListenAndServe(addr, mux)
}

func dispatch() error {
	env := goops.ReadEnv()
	rec := newRecord(env)
	var err error
	if env.ActionName != "" {
		err = runAction(env.ActionName, rec)
	} else {
		err = runHook(env.HookName, rec)
	}
	if werr := rec.write(); werr != nil && err == nil {
		err = werr
	}
	return err
}

func runHook(hook string, rec *record) error {
	var cfg config
	if err := goops.GetConfig(&cfg); err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	if err := cfg.perform(hook, rec); err != nil {
		return err
	}
	if err := defaultBehaviour(hook, cfg); err != nil {
		return err
	}
	for _, h := range strings.Split(cfg.FailHooks, ",") {
		if strings.TrimSpace(h) == hook {
			return fmt.Errorf("hook %s fails on purpose (fail-hooks)", hook)
		}
	}
	return nil
}

// defaultBehaviour is all the charm does unasked: report active once started, and run its service when the
// service option says so.
func defaultBehaviour(hook string, cfg config) error {
	switch hook {
	case "start", "config-changed":
		if cfg.Service {
			if err := startService(); err != nil {
				return err
			}
		}
		return goops.SetUnitStatus(goops.StatusActive, "")
	case "stop":
		return stopService()
	}
	return nil
}
