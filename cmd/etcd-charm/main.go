// Command etcd-charm is the etcd charm's one binary. Packed as `dispatch`, Juju runs it for every hook and
// action. Installed on the machine it is also etcd itself, etcdctl, etcdutl and the NRPE plugin check_etcd,
// chosen by the name it was run under or by its first argument, so the charm ships the exact etcd it
// operates and needs no snap store.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"go.etcd.io/etcd/api/v3/version"
	"go.etcd.io/etcd/etcdctl/v3/ctlv3"
	"go.etcd.io/etcd/etcdutl/v3/etcdutl"
	"go.etcd.io/etcd/pkg/v3/cobrautl"
	"go.etcd.io/etcd/server/v3/etcdmain"

	"github.com/etcd-charm/etcd/internal/charm"
	"github.com/etcd-charm/etcd/internal/etcd"
	"github.com/etcd-charm/etcd/internal/gauges"
	"github.com/etcd-charm/etcd/internal/nagios"
)

func main() {
	tool, args := selectTool(os.Args)
	switch tool {
	case "etcd":
		if cfg := configFileArg(args); cfg != "" {
			// Record what this process starts with, so the charm can tell what etcd runs with from what
			// it merely wrote to disk.
			if err := etcd.RecordStart(cfg, version.Version); err != nil {
				fmt.Fprintf(os.Stderr, "etcd charm: recording the start: %v\n", err)
				os.Exit(1)
			}
			// The charm's own gauges ride on etcd's /metrics (etcd serves the default registry).
			if err := prometheus.Register(gauges.New(cfg)); err != nil {
				fmt.Fprintf(os.Stderr, "etcd charm: registering the charm's gauges: %v\n", err)
			}
		}
		etcdmain.Main(args)
	case "etcdctl":
		os.Args = args
		ctlv3.MustStart()
	case "etcdutl":
		os.Args = args
		if err := etcdutlCommand().Execute(); err != nil {
			cobrautl.ExitWithError(cobrautl.ExitError, err)
		}
	case "check_etcd":
		// The NRPE plugin of the nrpe-external-master relation.
		os.Exit(nagios.Run(context.Background(), args[1:], os.Stdout))
	default:
		os.Exit(charm.Main())
	}
}

// selectTool picks the personality: a first argument naming a tool wins over the program name, so the one
// installed file serves `etcd etcdctl get k` as well as an `etcdctl` symlink.
func selectTool(argv []string) (string, []string) {
	if len(argv) > 1 {
		switch argv[1] {
		case "etcd", "etcdctl", "etcdutl", "check_etcd":
			return argv[1], argv[1:]
		}
	}
	return filepath.Base(argv[0]), argv
}

// configFileArg is the value of etcd's --config-file flag, "" without one.
func configFileArg(args []string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--config-file="); ok {
			return v
		}
		if a == "--config-file" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// etcdutlCommand assembles etcdutl's commands under a root command; etcd ships that root only in its own
// main package, which cannot be imported.
func etcdutlCommand() *cobra.Command {
	root := &cobra.Command{Use: "etcdutl", Short: "An administrative command line tool for etcd3."}
	root.PersistentFlags().StringVarP(&etcdutl.OutputFormat, "write-out", "w", "simple",
		"set the output format (fields, json, protobuf, simple, table)")
	root.AddCommand(
		etcdutl.NewDefragCommand(),
		etcdutl.NewSnapshotCommand(),
		etcdutl.NewHashKVCommand(),
		etcdutl.NewVersionCommand(),
		etcdutl.NewMigrateCommand(),
	)
	return root
}
