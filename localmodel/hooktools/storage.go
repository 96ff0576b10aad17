package hooktools

import (
	"strconv"
	"strings"
)

func init() {
	register("storage-get", storageGet)
	register("storage-list", storageList)
	register("storage-add", storageAdd)
}

func storageGet(c *call, args []string) error {
	c.withFormat()
	id := c.fs.str("", "s")
	if err := c.parse(args); err != nil {
		return err
	}
	s, err := c.ctx.Storage(id.value)
	if err != nil {
		return err
	}
	info := map[string]string{"kind": s.Kind, "location": s.Location}
	switch len(c.fs.args) {
	case 0:
		return c.print(info)
	case 1:
		v, ok := info[c.fs.args[0]]
		if !ok {
			return usagef("invalid storage attribute %q", c.fs.args[0])
		}
		return c.print(v)
	}
	return checkEmpty(c.fs.args[1:])
}

func storageList(c *call, args []string) error {
	c.withFormat()
	if err := c.parse(args); err != nil {
		return err
	}
	name := ""
	if len(c.fs.args) > 0 {
		name = c.fs.args[0]
		if err := checkEmpty(c.fs.args[1:]); err != nil {
			return err
		}
	}
	return c.print(c.ctx.StorageList(name))
}

func storageAdd(c *call, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	if len(c.fs.args) == 0 {
		return usagef("storage add requires a storage directive")
	}
	for _, a := range c.fs.args {
		name, count, hasCount := strings.Cut(a, "=")
		n := 1
		if hasCount {
			var err error
			if n, err = strconv.Atoi(count); err != nil {
				return usagef("cannot parse count %q in %q", count, a)
			}
		}
		if err := c.ctx.StorageAdd(name, n); err != nil {
			return err
		}
	}
	return nil
}
