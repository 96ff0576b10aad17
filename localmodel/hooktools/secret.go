package hooktools

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/etcd-charm/etcd/localmodel/model"
	"gopkg.in/yaml.v3"
)

func init() {
	register("secret-add", secretAdd)
	register("secret-set", secretSet)
	register("secret-get", secretGet)
	register("secret-info-get", secretInfoGet)
	register("secret-ids", secretIDs)
	register("secret-grant", secretGrant)
	register("secret-revoke", secretRevoke)
	register("secret-remove", secretRemove)
}

type secretFlags struct {
	label, description, owner, rotate, expire, file *flagDef
}

func (c *call) secretFlags() secretFlags {
	return secretFlags{
		label:       c.fs.str("", "label"),
		description: c.fs.str("", "description"),
		owner:       c.fs.str("", "owner"),
		rotate:      c.fs.str("", "rotate"),
		expire:      c.fs.str("", "expire"),
		file:        c.fs.str("", "file"),
	}
}

func (c *call) secretArgs(f secretFlags, kvArgs []string) (model.SecretArgs, error) {
	a := model.SecretArgs{Content: map[string]string{}, Owner: f.owner.value}
	if f.label.set {
		a.Label = &f.label.value
	}
	if f.description.set {
		a.Description = &f.description.value
	}
	if f.rotate.set {
		a.Rotate = &f.rotate.value
	}
	if f.expire.set {
		t, err := parseExpire(f.expire.value)
		if err != nil {
			return a, usagef("%s", err.Error())
		}
		a.Expire = &t
	}
	if f.file.set {
		raw, err := c.readFile(f.file.value)
		if err != nil {
			return a, err
		}
		var m map[string]any
		if err := yaml.Unmarshal(raw, &m); err != nil {
			return a, fmt.Errorf("invalid secret content file: %w", err)
		}
		for k, v := range m {
			a.Content[k] = fmt.Sprint(v)
		}
	}
	kv, err := keyValues(kvArgs)
	if err != nil {
		return a, err
	}
	for k, v := range kv {
		if strings.HasSuffix(k, "#base64") {
			if _, err := base64.StdEncoding.DecodeString(v); err != nil {
				return a, fmt.Errorf("invalid base64 value for %q", k)
			}
			k = strings.TrimSuffix(k, "#base64")
		} else {
			k = strings.TrimSuffix(k, "#file")
		}
		a.Content[k] = v
	}
	return a, nil
}

func parseExpire(s string) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid expire value %q, expected a duration or RFC3339 time", s)
	}
	return t, nil
}

func secretAdd(c *call, args []string) error {
	f := c.secretFlags()
	if err := c.parse(args); err != nil {
		return err
	}
	a, err := c.secretArgs(f, c.fs.args)
	if err != nil {
		return err
	}
	uri, err := c.ctx.SecretAdd(a)
	if err != nil {
		return err
	}
	c.out.WriteString(uri + "\n")
	return nil
}

func secretSet(c *call, args []string) error {
	f := c.secretFlags()
	if err := c.parse(args); err != nil {
		return err
	}
	if len(c.fs.args) == 0 {
		return usagef("missing secret URI")
	}
	a, err := c.secretArgs(f, c.fs.args[1:])
	if err != nil {
		return err
	}
	return c.ctx.SecretSet(c.fs.args[0], a)
}

func secretGet(c *call, args []string) error {
	c.withFormat()
	label := c.fs.str("", "label")
	peek := c.fs.boolean("peek")
	refresh := c.fs.boolean("refresh")
	if err := c.parse(args); err != nil {
		return err
	}
	if peek.on && refresh.on {
		return usagef("specify one of --peek or --refresh but not both")
	}
	ref, key := "", ""
	if len(c.fs.args) > 0 {
		ref = c.fs.args[0]
	}
	if len(c.fs.args) > 1 {
		key = c.fs.args[1]
		if err := checkEmpty(c.fs.args[2:]); err != nil {
			return err
		}
	}
	if ref == "" && label.value == "" {
		return usagef("require either a secret URI or label")
	}
	content, err := c.ctx.SecretGet(ref, label.value, peek.on, refresh.on)
	if err != nil {
		return err
	}
	if key != "" {
		v, ok := content[key]
		if !ok {
			return fmt.Errorf("secret key %q not found", key)
		}
		return c.print(v)
	}
	return c.print(content)
}

type secretInfo struct {
	Revision    int            `json:"revision" yaml:"revision"`
	Label       string         `json:"label,omitempty" yaml:"label,omitempty"`
	Owner       string         `json:"owner" yaml:"owner"`
	Description string         `json:"description,omitempty" yaml:"description,omitempty"`
	Expiry      string         `json:"expiry,omitempty" yaml:"expiry,omitempty"`
	Rotation    string         `json:"rotation,omitempty" yaml:"rotation,omitempty"`
	Access      []secretAccess `json:"access,omitempty" yaml:"access,omitempty"`
}

type secretAccess struct {
	Target string `json:"target" yaml:"target"`
	Scope  string `json:"scope" yaml:"scope"`
	Role   string `json:"role" yaml:"role"`
}

func secretInfoGet(c *call, args []string) error {
	c.withFormat()
	label := c.fs.str("", "label")
	if err := c.parse(args); err != nil {
		return err
	}
	ref := ""
	if len(c.fs.args) > 0 {
		ref = c.fs.args[0]
		if err := checkEmpty(c.fs.args[1:]); err != nil {
			return err
		}
	}
	if ref == "" && label.value == "" {
		return usagef("require either a secret URI or label")
	}
	if ref != "" && label.value != "" {
		return usagef("specify either a secret URI or label but not both")
	}
	s, err := c.ctx.SecretInfo(ref, label.value)
	if err != nil {
		return err
	}
	owner := "application"
	if s.OwnerUnit != "" {
		owner = "unit"
	}
	info := secretInfo{Revision: s.Latest, Label: s.Label, Owner: owner, Description: s.Description, Rotation: s.Rotate}
	if !s.Expire.IsZero() {
		info.Expiry = s.Expire.UTC().Format(time.RFC3339)
	}
	for _, g := range s.Grants() {
		target := "application-" + g.App
		if g.Unit != "" {
			target = "unit-" + strings.ReplaceAll(g.Unit, "/", "-")
		}
		info.Access = append(info.Access, secretAccess{Target: target, Scope: "relation-" + strconv.Itoa(g.RelationID), Role: "view"})
	}
	return c.print(map[string]secretInfo{s.ID: info})
}

func secretIDs(c *call, args []string) error {
	c.withFormat()
	if err := c.parse(args); err != nil {
		return err
	}
	if err := checkEmpty(c.fs.args); err != nil {
		return err
	}
	ids := c.ctx.SecretIDs()
	if len(ids) == 0 {
		return c.print(nil)
	}
	return c.print(sortedStrings(ids))
}

func secretGrant(c *call, args []string) error {
	rel := c.fs.str("", "r", "relation")
	unit := c.fs.str("", "unit")
	if err := c.parse(args); err != nil {
		return err
	}
	if len(c.fs.args) != 1 {
		return usagef("missing secret URI")
	}
	if !rel.set {
		return usagef("missing relation")
	}
	r, err := c.relation(rel)
	if err != nil {
		return err
	}
	return c.ctx.SecretGrant(c.fs.args[0], r, unit.value)
}

func secretRevoke(c *call, args []string) error {
	rel := c.fs.str("", "r", "relation")
	app := c.fs.str("", "app")
	unit := c.fs.str("", "unit")
	if err := c.parse(args); err != nil {
		return err
	}
	if len(c.fs.args) != 1 {
		return usagef("missing secret URI")
	}
	var r *model.Relation
	if rel.set || (!app.set && !unit.set) {
		var err error
		if !rel.set && c.ctx.Event.RelationID < 0 {
			return usagef("missing relation or application or unit")
		}
		if r, err = c.relation(rel); err != nil {
			return err
		}
	}
	return c.ctx.SecretRevoke(c.fs.args[0], r, app.value, unit.value)
}

func secretRemove(c *call, args []string) error {
	rev := c.fs.str("", "revision")
	if err := c.parse(args); err != nil {
		return err
	}
	if len(c.fs.args) != 1 {
		return usagef("missing secret URI")
	}
	n := 0
	if rev.set {
		var err error
		if n, err = strconv.Atoi(rev.value); err != nil || n < 1 {
			return usagef("invalid revision %q", rev.value)
		}
	}
	return c.ctx.SecretRemove(c.fs.args[0], n)
}
