package cli

import (
	"fmt"
	"strings"

	"github.com/etcd-charm/etcd/localmodel/bundle"
)

// isBundle: juju deploy takes a local YAML file as a bundle and anything else as a charm.
func isBundle(path string) bool {
	return strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")
}

func deployBundle(e *env, path string, overlayFiles []string, dryRun bool) error {
	docs, err := bundle.ReadFile(path)
	if err != nil {
		return err
	}
	for _, f := range overlayFiles {
		more, err := bundle.ReadFile(f)
		if err != nil {
			return err
		}
		docs = append(docs, more...)
	}
	merged, err := bundle.Merge(docs[0], docs[1:]...)
	if err != nil {
		return err
	}
	ch, err := bundle.Plan(merged)
	if err != nil {
		return fmt.Errorf("the bundle is not valid: %w", err)
	}
	for _, ig := range ch.Ignored {
		fmt.Fprintf(e.stderr, "ignored (not modelled by the local model): %s\n", ig)
	}
	if dryRun {
		fmt.Fprint(e.stdout, ch.Describe())
		return nil
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	units, err := m.DeployBundle(e.ctx, ch)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Deploy of bundle completed: %s\n", strings.Join(units, ", "))
	return nil
}
