package hooktools

import (
	"fmt"
	"strings"

	"github.com/etcd-charm/etcd/localmodel/model"
)

func init() {
	register("is-leader", isLeader)
	register("config-get", configGet)
	register("juju-log", jujuLog)
	register("status-set", statusSet)
	register("status-get", statusGet)
	register("application-version-set", appVersionSet)
	register("leader-get", leaderGet)
	register("leader-set", leaderSet)
	register("unit-get", unitGet)
	register("network-get", networkGet)
	register("goal-state", goalState)
	register("resource-get", resourceGet)
	register("credential-get", credentialGet)
	register("juju-reboot", jujuReboot)
}

func isLeader(c *call, args []string) error {
	c.withFormat()
	if err := c.parse(args); err != nil {
		return err
	}
	if err := checkEmpty(c.fs.args); err != nil {
		return err
	}
	return c.print(c.ctx.Unit.IsLeader())
}

func configGet(c *call, args []string) error {
	c.withFormat()
	all := c.fs.boolean("a", "all")
	if err := c.parse(args); err != nil {
		return err
	}
	cfg := c.ctx.Config()
	switch len(c.fs.args) {
	case 0:
	case 1:
		if all.on {
			return usagef("cannot use argument --all together with key %q", c.fs.args[0])
		}
		return c.print(cfg[c.fs.args[0]])
	default:
		return checkEmpty(c.fs.args[1:])
	}
	if !all.on {
		for k, v := range cfg {
			if v == nil {
				delete(cfg, k)
			}
		}
	}
	return c.print(cfg)
}

func jujuLog(c *call, args []string) error {
	level := c.fs.str("INFO", "l", "log-level")
	debug := c.fs.boolean("debug")
	c.fs.str("", "format")
	if err := c.parse(args); err != nil {
		return err
	}
	if len(c.fs.args) == 0 {
		return usagef("no message specified")
	}
	lvl := strings.ToUpper(level.value)
	if debug.on {
		lvl = "DEBUG"
	}
	switch lvl {
	case "TRACE", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL":
	default:
		lvl = "INFO"
	}
	msg := strings.Join(c.fs.args, " ")
	if c.ctx.Event.RelationID >= 0 {
		if r, err := c.ctx.Relation(""); err == nil {
			msg = r.RelationIDString(c.ctx.Unit.App.Name) + ": " + msg
		}
	}
	if c.env.Log != nil {
		c.env.Log(lvl, msg)
	}
	return nil
}

func statusSet(c *call, args []string) error {
	app := c.fs.boolean("application")
	if err := c.parse(args); err != nil {
		return err
	}
	if len(c.fs.args) < 1 {
		return usagef("invalid args, require <status> [message] [data]")
	}
	status := c.fs.args[0]
	if !model.ValidWorkloadStatus(status) {
		return usagef("invalid status %q, expected one of [maintenance blocked waiting active]", status)
	}
	msg := ""
	if len(c.fs.args) > 1 {
		msg = c.fs.args[1]
	}
	if err := checkEmpty(c.fs.args[min(2, len(c.fs.args)):]); err != nil {
		return err
	}
	if app.on {
		return c.ctx.SetAppStatus(status, msg)
	}
	c.ctx.SetUnitStatus(status, msg)
	return nil
}

type statusDetail struct {
	Message string         `json:"message" yaml:"message"`
	Status  string         `json:"status" yaml:"status"`
	Data    map[string]any `json:"status-data" yaml:"status-data"`
}

func statusGet(c *call, args []string) error {
	c.withFormat()
	app := c.fs.boolean("application")
	include := c.fs.boolean("include-data")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := checkEmpty(c.fs.args); err != nil {
		return err
	}
	u := c.ctx.Unit
	if app.on {
		if !u.IsLeader() {
			return fmt.Errorf("finding application status: this unit is not the leader")
		}
		st := u.App.AppStatus()
		units := map[string]statusDetail{}
		for _, x := range u.App.Units() {
			units[x.Name] = statusDetail{Message: x.Workload.Message, Status: x.Workload.Current, Data: map[string]any{}}
		}
		type appOut struct {
			Message string                  `json:"message" yaml:"message"`
			Status  string                  `json:"status" yaml:"status"`
			Data    map[string]any          `json:"status-data" yaml:"status-data"`
			Units   map[string]statusDetail `json:"units" yaml:"units"`
		}
		return c.print(map[string]appOut{"application-status": {Message: st.Message, Status: st.Current, Data: map[string]any{}, Units: units}})
	}
	if !include.on {
		return c.print(u.Workload.Current)
	}
	return c.print(statusDetail{Message: u.Workload.Message, Status: u.Workload.Current, Data: map[string]any{}})
}

func appVersionSet(c *call, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	if len(c.fs.args) == 0 {
		return usagef("no version specified")
	}
	if err := checkEmpty(c.fs.args[1:]); err != nil {
		return err
	}
	c.ctx.SetVersion(c.fs.args[0])
	return nil
}

func leaderGet(c *call, args []string) error {
	c.withFormat()
	if err := c.parse(args); err != nil {
		return err
	}
	settings := c.ctx.Unit.App.LeaderSettings
	switch len(c.fs.args) {
	case 0:
		out := map[string]string{}
		for k, v := range settings {
			out[k] = v
		}
		return c.print(out)
	case 1:
		if c.fs.args[0] == "-" {
			return c.print(settings)
		}
		return c.print(settings[c.fs.args[0]])
	}
	return checkEmpty(c.fs.args[1:])
}

func leaderSet(c *call, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	kv, err := keyValues(c.fs.args)
	if err != nil {
		return err
	}
	return c.ctx.LeaderSet(kv)
}

func unitGet(c *call, args []string) error {
	c.withFormat()
	if err := c.parse(args); err != nil {
		return err
	}
	if len(c.fs.args) != 1 {
		return usagef("no setting specified")
	}
	switch c.fs.args[0] {
	case "private-address", "public-address":
		return c.print(c.ctx.Unit.Address)
	}
	return usagef("unknown setting %q", c.fs.args[0])
}

type netAddress struct {
	Hostname string `json:"hostname" yaml:"hostname"`
	Value    string `json:"value" yaml:"value"`
	CIDR     string `json:"cidr" yaml:"cidr"`
}

type bindAddress struct {
	MAC       string       `json:"mac-address" yaml:"mac-address"`
	Interface string       `json:"interface-name" yaml:"interface-name"`
	Addresses []netAddress `json:"addresses" yaml:"addresses"`
}

type networkInfo struct {
	BindAddresses    []bindAddress `json:"bind-addresses" yaml:"bind-addresses"`
	EgressSubnets    []string      `json:"egress-subnets" yaml:"egress-subnets"`
	IngressAddresses []string      `json:"ingress-addresses" yaml:"ingress-addresses"`
}

func networkGet(c *call, args []string) error {
	c.withFormat()
	rel := c.fs.str("", "r", "relation")
	primary := c.fs.boolean("primary-address")
	bind := c.fs.boolean("bind-address")
	ingress := c.fs.boolean("ingress-address")
	egress := c.fs.boolean("egress-subnets")
	if err := c.parse(args); err != nil {
		return err
	}
	binding := ""
	if len(c.fs.args) > 0 {
		binding = c.fs.args[0]
		if err := checkEmpty(c.fs.args[1:]); err != nil {
			return err
		}
	}
	if rel.set {
		r, err := c.relation(rel)
		if err != nil {
			return err
		}
		if binding == "" {
			ep, _ := r.Endpoint(c.ctx.Unit.App.Name)
			binding = ep.Name
		}
	}
	if binding == "" {
		return usagef("no arguments specified")
	}
	if err := c.ctx.Binding(binding); err != nil {
		return err
	}
	addr := c.ctx.Unit.Address
	info := networkInfo{
		BindAddresses:    []bindAddress{{Interface: "lo", Addresses: []netAddress{{Value: addr, CIDR: c.ctx.CIDR()}}}},
		EgressSubnets:    []string{addr + "/32"},
		IngressAddresses: []string{addr},
	}
	switch {
	case primary.on, bind.on:
		return c.print(addr)
	case ingress.on:
		return c.print(info.IngressAddresses)
	case egress.on:
		return c.print(info.EgressSubnets)
	}
	return c.print(info)
}

func goalState(c *call, args []string) error {
	c.withFormat()
	if err := c.parse(args); err != nil {
		return err
	}
	if err := checkEmpty(c.fs.args); err != nil {
		return err
	}
	return c.print(c.ctx.GoalState())
}

func resourceGet(c *call, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	if len(c.fs.args) != 1 {
		return usagef("missing required resource name")
	}
	p, err := c.ctx.Resource(c.fs.args[0])
	if err != nil {
		return err
	}
	c.out.WriteString(p + "\n")
	return nil
}

func credentialGet(c *call, args []string) error {
	c.withFormat()
	if err := c.parse(args); err != nil {
		return err
	}
	return fmt.Errorf("cannot access cloud credentials: application %q is not trusted", c.ctx.Unit.App.Name)
}

func jujuReboot(c *call, args []string) error {
	c.fs.boolean("now")
	if err := c.parse(args); err != nil {
		return err
	}
	if c.ctx.IsAction() {
		return fmt.Errorf("juju-reboot is not supported when running an action")
	}
	if c.env.Log != nil {
		c.env.Log("WARNING", "juju-reboot requested; the local model does not reboot machines")
	}
	return nil
}
