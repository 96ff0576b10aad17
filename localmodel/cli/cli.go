// Package cli is the localjuju command line: verbs and flags mirror `juju` so a Juju user is at home.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/etcd-charm/etcd/localmodel/client"
)

// env carries a command's streams and parsed common flags.
type env struct {
	ctx      context.Context
	stdout   io.Writer
	stderr   io.Writer
	modelDir string
}

type command struct {
	summary string
	run     func(e *env, args []string) error
}

var commands = map[string]command{}

func register(name, summary string, run func(e *env, args []string) error) {
	commands[name] = command{summary: summary, run: run}
}

// exitError carries a specific exit code (e.g. a failed action) without printing an extra message.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs the CLI and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		usage(stdout)
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "ERROR unrecognized command: localjuju %s\n", args[0])
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &env{ctx: ctx, stdout: stdout, stderr: stderr}
	if err := cmd.run(e, args[1:]); err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue usageErr
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "ERROR %v\n", err)
			return 2
		}
		fmt.Fprintf(stderr, "ERROR %v\n", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "localjuju: a local stand-in for a Juju controller and its unit agents.")
	fmt.Fprintln(w, "\nUsage: localjuju <command> [options] [args]   (every command takes --model-dir; env LOCALJUJU_MODEL_DIR)")
	fmt.Fprintln(w, "\nCommands:")
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-20s %s\n", n, commands[n].summary)
	}
}

type usageErr struct{ msg string }

func (u usageErr) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageErr{fmt.Sprintf(format, args...)} }

// newFlags returns a flag set with the common --model-dir flag bound to e.
func newFlags(e *env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	def := os.Getenv("LOCALJUJU_MODEL_DIR")
	if def == "" {
		def = ".localjuju"
	}
	fs.StringVar(&e.modelDir, "model-dir", def, "model directory (env LOCALJUJU_MODEL_DIR)")
	return fs
}

// parse parses flags interleaved with positionals, as juju does; everything after "--" is positional.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func (e *env) connect() (*client.Model, error) {
	return client.Connect(e.modelDir)
}

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func keyValues(args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, usagef("expected key=value, got %q", a)
		}
		out[k] = v
	}
	return out, nil
}
