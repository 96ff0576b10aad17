// Package charmdir reads a charm the way Juju does: from a packed .charm archive or an unpacked directory
// holding metadata.yaml, config.yaml, actions.yaml and dispatch.
package charmdir

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// Charm is a charm unpacked on disk with its parsed metadata, config schema and action schemas.
type Charm struct {
	Dir      string
	Meta     Metadata
	Config   ConfigSchema
	Actions  map[string]ActionSpec
	Revision int
}

// Load parses the charm unpacked at dir. It insists on an executable dispatch because Juju runs nothing else.
func Load(dir string) (*Charm, error) {
	c := &Charm{Dir: dir, Actions: map[string]ActionSpec{}}
	if err := readYAML(filepath.Join(dir, "metadata.yaml"), &c.Meta, true); err != nil {
		return nil, err
	}
	if c.Meta.Name == "" {
		return nil, fmt.Errorf("charm at %s: metadata.yaml has no name", dir)
	}
	if err := readYAML(filepath.Join(dir, "config.yaml"), &c.Config, false); err != nil {
		return nil, err
	}
	if c.Config.Options == nil {
		c.Config.Options = map[string]ConfigOption{}
	}
	if err := readYAML(filepath.Join(dir, "actions.yaml"), &c.Actions, false); err != nil {
		return nil, err
	}
	st, err := os.Stat(filepath.Join(dir, "dispatch"))
	if err != nil {
		return nil, fmt.Errorf("charm at %s: %w", dir, err)
	}
	if st.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("charm at %s: dispatch is not executable", dir)
	}
	return c, nil
}

func readYAML(path string, into any, required bool) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		if !required && os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("reading %s: %w", path, err)
	}
	if err := yaml.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("parsing %s: %w", path, err)
	}
	return nil
}
