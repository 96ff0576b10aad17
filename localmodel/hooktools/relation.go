package hooktools

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/etcd-charm/etcd/localmodel/model"
	"gopkg.in/yaml.v3"
)

func init() {
	register("relation-ids", relationIDs)
	register("relation-list", relationList)
	register("relation-get", relationGet)
	register("relation-set", relationSet)
	register("relation-model-get", relationModelGet)
}

// relationFlag resolves -r/--relation, reporting failures the way gnuflag reports a bad flag value.
func (c *call) relation(flag *flagDef) (*model.Relation, error) {
	r, err := c.ctx.Relation(flag.value)
	if err != nil {
		if flag.value == "" {
			return nil, usagef("%s", err.Error())
		}
		return nil, usagef("invalid value %q for option -r: %s", flag.value, err.Error())
	}
	return r, nil
}

func relationIDs(c *call, args []string) error {
	c.withFormat()
	if err := c.parse(args); err != nil {
		return err
	}
	var name string
	switch len(c.fs.args) {
	case 0:
		if c.ctx.Event.RelationID < 0 {
			return usagef("no endpoint name specified")
		}
		r, err := c.ctx.Relation("")
		if err != nil {
			return usagef("%s", err.Error())
		}
		ep, _ := r.Endpoint(c.ctx.Unit.App.Name)
		name = ep.Name
	case 1:
		name = c.fs.args[0]
	default:
		return checkEmpty(c.fs.args[1:])
	}
	ids, err := c.ctx.RelationIDs(name)
	if err != nil {
		return err
	}
	return c.print(ids)
}

func relationList(c *call, args []string) error {
	c.withFormat()
	rel := c.fs.str("", "r", "relation")
	app := c.fs.boolean("app")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := checkEmpty(c.fs.args); err != nil {
		return err
	}
	r, err := c.relation(rel)
	if err != nil {
		return err
	}
	if app.on {
		return c.print(r.RemoteApp(c.ctx.Unit.App.Name))
	}
	return c.print(c.ctx.RelationUnits(r))
}

func relationGet(c *call, args []string) error {
	c.withFormat()
	rel := c.fs.str("", "r", "relation")
	app := c.fs.boolean("app")
	if err := c.parse(args); err != nil {
		return err
	}
	key, name := "", ""
	switch len(c.fs.args) {
	case 2:
		key, name = c.fs.args[0], c.fs.args[1]
	case 1:
		key = c.fs.args[0]
	case 0:
	default:
		return checkEmpty(c.fs.args[2:])
	}
	if key == "-" {
		key = ""
	}
	r, err := c.relation(rel)
	if err != nil {
		return err
	}
	if name == "" {
		name = c.ctx.Event.RemoteUnit
		if name == "" && app.on {
			name = c.ctx.Event.RemoteApp
		}
		if name == "" || c.ctx.Event.RelationID != r.ID {
			return usagef("no unit id specified")
		}
	}
	bag, err := c.ctx.RelationGet(r, name, app.on)
	if err != nil {
		if errors.Is(err, model.ErrPermissionDenied) {
			return err
		}
		return err
	}
	if key != "" {
		v, ok := bag[key]
		if !ok {
			return c.print(nil)
		}
		return c.print(v)
	}
	return c.print(bag)
}

func relationSet(c *call, args []string) error {
	rel := c.fs.str("", "r", "relation")
	app := c.fs.boolean("app")
	file := c.fs.str("", "file")
	c.fs.str("", "format") // accepted and ignored, as Juju does for relation-set
	if err := c.parse(args); err != nil {
		return err
	}
	values := map[string]string{}
	if file.set {
		raw, err := c.readFile(file.value)
		if err != nil {
			return err
		}
		var fromFile map[string]any
		if err := yaml.Unmarshal(raw, &fromFile); err != nil {
			return fmt.Errorf("cannot parse settings file: %w", err)
		}
		for k, v := range fromFile {
			if v == nil {
				values[k] = ""
			} else {
				values[k] = fmt.Sprint(v)
			}
		}
	}
	kv, err := keyValues(c.fs.args)
	if err != nil {
		return err
	}
	for k, v := range kv {
		values[k] = v
	}
	r, err := c.relation(rel)
	if err != nil {
		return err
	}
	return c.ctx.RelationSet(r, app.on, values)
}

// readFile reads a --file argument; "-" is the tool's stdin, forwarded by the shim.
func (c *call) readFile(path string) ([]byte, error) {
	if path == "-" {
		return c.stdin, nil
	}
	if !strings.HasPrefix(path, "/") {
		path = c.ctx.Unit.Paths.CharmDir + "/" + path
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %q: %w", path, err)
	}
	return b, nil
}

func relationModelGet(c *call, args []string) error {
	c.withFormat()
	rel := c.fs.str("", "r", "relation")
	if err := c.parse(args); err != nil {
		return err
	}
	if err := checkEmpty(c.fs.args); err != nil {
		return err
	}
	if _, err := c.relation(rel); err != nil {
		return err
	}
	return c.print(map[string]string{"uuid": c.ctx.Model().UUID()})
}
