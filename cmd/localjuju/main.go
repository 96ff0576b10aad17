// Command localjuju is the local Juju model: its CLI (verbs like juju's), its controller daemon
// (`localjuju controller`), and, when invoked through a symlink named after a hook tool or systemctl, the
// hook-tool shim that forwards to the controller.
package main

import (
	"os"
	"path/filepath"

	"github.com/etcd-charm/etcd/localmodel/cli"
	"github.com/etcd-charm/etcd/localmodel/hooktools"
	"github.com/etcd-charm/etcd/localmodel/shim"
)

func main() {
	name := filepath.Base(os.Args[0])
	if name == "systemctl" || hooktools.Known(name) {
		os.Exit(shim.Main(name, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
