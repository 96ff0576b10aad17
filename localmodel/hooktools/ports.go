package hooktools

import "github.com/etcd-charm/etcd/localmodel/model"

func init() {
	register("open-port", func(c *call, args []string) error { return portChange(c, args, true) })
	register("close-port", func(c *call, args []string) error { return portChange(c, args, false) })
	register("opened-ports", openedPorts)
}

func portChange(c *call, args []string, open bool) error {
	c.fs.str("", "endpoints")
	c.fs.str("", "format")
	if err := c.parse(args); err != nil {
		return err
	}
	if len(c.fs.args) != 1 {
		return usagef("invalid arguments, expected <port>[/<protocol>] or <from>-<to>[/<protocol>] or icmp")
	}
	p, err := model.NormalizePort(c.fs.args[0])
	if err != nil {
		return usagef("%s", err.Error())
	}
	if open {
		c.ctx.OpenPort(p)
	} else {
		c.ctx.ClosePort(p)
	}
	return nil
}

func openedPorts(c *call, args []string) error {
	c.withFormat()
	c.fs.boolean("endpoints")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := checkEmpty(c.fs.args); err != nil {
		return err
	}
	return c.print(c.ctx.OpenedPorts())
}
