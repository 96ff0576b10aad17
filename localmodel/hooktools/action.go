package hooktools

import (
	"fmt"
	"strings"
)

func init() {
	register("action-get", actionGet)
	register("action-set", actionSet)
	register("action-fail", actionFail)
	register("action-log", actionLog)
}

func actionGet(c *call, args []string) error {
	c.withFormat()
	if err := c.parse(args); err != nil {
		return err
	}
	params, err := c.ctx.ActionParams()
	if err != nil {
		return err
	}
	if len(c.fs.args) == 0 {
		return c.print(params)
	}
	var v any = params
	for _, k := range strings.Split(c.fs.args[0], ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return c.print(nil)
		}
		v = m[k]
	}
	return c.print(v)
}

func actionSet(c *call, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	if len(c.fs.args) == 0 {
		return usagef("no action results specified")
	}
	kv, err := orderedKeyValues(c.fs.args)
	if err != nil {
		return err
	}
	return c.ctx.ActionSet(kv)
}

func actionFail(c *call, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	msg := "action failed without reason given, check action for errors"
	if len(c.fs.args) > 0 {
		msg = c.fs.args[0]
		if err := checkEmpty(c.fs.args[1:]); err != nil {
			return err
		}
	}
	return c.ctx.ActionFail(msg)
}

func actionLog(c *call, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	if len(c.fs.args) == 0 {
		return usagef("no message specified")
	}
	msg := strings.Join(c.fs.args, " ")
	if err := c.ctx.ActionLog(msg); err != nil {
		return err
	}
	if c.env.Log != nil {
		c.env.Log("INFO", fmt.Sprintf("action-log: %s", msg))
	}
	return nil
}
