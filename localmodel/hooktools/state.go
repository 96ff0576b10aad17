package hooktools

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

func init() {
	register("state-get", stateGet)
	register("state-set", stateSet)
	register("state-delete", stateDelete)
}

func stateGet(c *call, args []string) error {
	c.withFormat()
	strict := c.fs.boolean("strict")
	if err := c.parse(args); err != nil {
		return err
	}
	switch len(c.fs.args) {
	case 0:
		return c.print(c.ctx.StateAll())
	case 1:
		v, ok := c.ctx.StateGet(c.fs.args[0])
		if !ok && strict.on {
			return fmt.Errorf("key %q not found", c.fs.args[0])
		}
		return c.print(v)
	}
	return checkEmpty(c.fs.args[1:])
}

func stateSet(c *call, args []string) error {
	file := c.fs.str("", "file")
	if err := c.parse(args); err != nil {
		return err
	}
	values := map[string]string{}
	if file.set {
		raw, err := c.readFile(file.value)
		if err != nil {
			return err
		}
		if err := yaml.Unmarshal(raw, &values); err != nil {
			return fmt.Errorf("cannot parse state file: %w", err)
		}
	}
	kv, err := keyValues(c.fs.args)
	if err != nil {
		return err
	}
	for k, v := range kv {
		values[k] = v
	}
	for k, v := range values {
		if v == "" {
			c.ctx.StateDelete(k)
		} else {
			c.ctx.StateSet(k, v)
		}
	}
	return nil
}

func stateDelete(c *call, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	if len(c.fs.args) != 1 {
		return usagef("expected exactly one key")
	}
	c.ctx.StateDelete(c.fs.args[0])
	return nil
}
