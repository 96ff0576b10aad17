package cli

import (
	"fmt"
	"os"
	"time"

	"github.com/etcd-charm/etcd/localmodel/charmpack"
	"github.com/etcd-charm/etcd/localmodel/client"
	"github.com/etcd-charm/etcd/localmodel/controller"
)

func init() {
	register("bootstrap", "start a controller for a model in the model directory", bootstrap)
	register("destroy", "stop the controller, every hook and every workload of the model", destroy)
	register("controller", "run the controller daemon in the foreground (started by bootstrap)", runController)
	register("pack", "pack a charm: charmcraft.yaml + dispatch binary -> .charm", pack)
}

func bootstrap(e *env, args []string) error {
	fs := newFlags(e, "bootstrap")
	name := fs.String("model-name", "default", "model name")
	us := fs.Duration("update-status-interval", 5*time.Minute, "update-status hook interval")
	lease := fs.Duration("lease-duration", 30*time.Second, "time before leadership moves off a departed leader")
	retry := fs.Bool("auto-retry", false, "retry failed hooks with back-off, as Juju does")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unrecognized args: %q", pos)
	}
	m, err := client.Bootstrap(e.ctx, client.Options{Dir: e.modelDir, ModelName: *name, UpdateStatusInterval: *us,
		LeaseDuration: *lease, AutoRetry: *retry, Detach: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Bootstrapped model %q in %s (controller pid %d)\n", *name, m.Dir, m.PID())
	return nil
}

func destroy(e *env, args []string) error {
	fs := newFlags(e, "destroy")
	fs.Bool("no-prompt", true, "accepted for juju compatibility")
	fs.Bool("y", true, "accepted for juju compatibility")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	if err := m.Destroy(e.ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Destroyed model in %s\n", m.Dir)
	return nil
}

func runController(e *env, args []string) error {
	fs := newFlags(e, "controller")
	name := fs.String("model-name", "default", "model name")
	us := fs.Duration("update-status-interval", 5*time.Minute, "update-status hook interval")
	lease := fs.Duration("lease-duration", 30*time.Second, "leader lease duration")
	retry := fs.Bool("auto-retry", false, "retry failed hooks with back-off")
	withParent := fs.Bool("exit-with-parent", false, "destroy the model when the parent process exits")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return controller.Run(e.ctx, controller.Config{
		ModelDir: e.modelDir, Binary: exe, ModelName: *name, UpdateStatusInterval: *us,
		LeaseDuration: *lease, AutoRetry: *retry, ExitWithParent: *withParent,
	})
}

func pack(e *env, args []string) error {
	fs := newFlags(e, "pack")
	cc := fs.String("charmcraft", "charmcraft.yaml", "charmcraft.yaml of the charm")
	dispatch := fs.String("dispatch", "", "the charm's dispatch binary")
	out := fs.String("o", "", "output .charm path")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *dispatch == "" || *out == "" {
		return usagef("pack needs --dispatch and -o")
	}
	if err := charmpack.Pack(*cc, *dispatch, *out); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Packed %s\n", *out)
	return nil
}
