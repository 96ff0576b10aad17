// Package bundle reads Juju bundles (the YAML of `juju deploy BUNDLE.yaml --overlay OVERLAY.yaml`) and
// turns one, with its overlays, into the ordered changes a deploy makes: deploy each application, relate,
// expose. It is pure: the client carries the changes out against the model.
//
// The format is Juju's, key for key; the local model deploys local charms only, so every application's
// charm is a path (relative to the file that names it), and what it cannot model (placement, constraints,
// devices, spaces other than its one) is accepted and left out of the changes, as docs/local-model.md says.
package bundle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Data is one bundle document (the base, or an overlay).
type Data struct {
	Type         string                  `yaml:"bundle,omitempty"`
	Name         string                  `yaml:"name,omitempty"`
	Description  string                  `yaml:"description,omitempty"`
	DefaultBase  string                  `yaml:"default-base,omitempty"`
	Series       string                  `yaml:"series,omitempty"` // older bundles; accepted
	Tags         []string                `yaml:"tags,omitempty"`
	Applications map[string]*Application `yaml:"applications,omitempty"`
	Machines     map[string]*Machine     `yaml:"machines,omitempty"`
	Saas         map[string]*Saas        `yaml:"saas,omitempty"`
	Relations    [][]string              `yaml:"relations,omitempty"`
	// dir is the directory of the file this document came from: relative charm and resource paths start there.
	dir string
}

// Application is one entry of applications.
type Application struct {
	Charm            string                     `yaml:"charm,omitempty"`
	Channel          string                     `yaml:"channel,omitempty"`
	Revision         *int                       `yaml:"revision,omitempty"`
	Base             string                     `yaml:"base,omitempty"`
	Series           string                     `yaml:"series,omitempty"`
	Resources        map[string]any             `yaml:"resources,omitempty"`
	NumUnits         int                        `yaml:"num_units,omitempty"`
	Scale            int                        `yaml:"scale,omitempty"`
	To               []string                   `yaml:"to,omitempty"`
	Placement        string                     `yaml:"placement,omitempty"`
	Expose           bool                       `yaml:"expose,omitempty"`
	ExposedEndpoints map[string]ExposedEndpoint `yaml:"exposed-endpoints,omitempty"`
	Options          map[string]any             `yaml:"options,omitempty"`
	Annotations      map[string]string          `yaml:"annotations,omitempty"`
	Constraints      string                     `yaml:"constraints,omitempty"`
	Storage          map[string]string          `yaml:"storage,omitempty"`
	Devices          map[string]string          `yaml:"devices,omitempty"`
	Bindings         map[string]string          `yaml:"bindings,omitempty"`
	Offers           map[string]*Offer          `yaml:"offers,omitempty"`
	Plan             string                     `yaml:"plan,omitempty"`
	Trust            bool                       `yaml:"trust,omitempty"`
	// dir is where Charm and Resources paths are relative to: the file that set the charm.
	dir string
}

// ExposedEndpoint is one entry of exposed-endpoints (allowed in overlays only, as in Juju).
type ExposedEndpoint struct {
	ExposeToSpaces []string `yaml:"expose-to-spaces,omitempty"`
	ExposeToCIDRs  []string `yaml:"expose-to-cidrs,omitempty"`
}

// Machine is one entry of machines; placement is not modelled, so it is only checked for shape.
type Machine struct {
	Constraints string            `yaml:"constraints,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
	Base        string            `yaml:"base,omitempty"`
	Series      string            `yaml:"series,omitempty"`
}

// Saas consumes an offer of another model.
type Saas struct {
	URL string `yaml:"url,omitempty"`
}

// Offer offers some of an application's endpoints to other models (overlay only, as in Juju).
type Offer struct {
	Endpoints []string          `yaml:"endpoints"`
	ACL       map[string]string `yaml:"acl,omitempty"`
}

// ReadFile reads a bundle file: its first document is the bundle, any further documents are overlays, as
// in Juju's multi-document bundles.
func ReadFile(path string) ([]*Data, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return parse(raw, filepath.Dir(abs), path)
}

func parse(raw []byte, dir, name string) ([]*Data, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var docs []*Data
	for i := 0; ; i++ {
		var d Data
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, i+1, err)
		}
		d.dir = dir
		for _, a := range d.Applications {
			if a != nil {
				a.dir = dir
			}
		}
		docs = append(docs, &d)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("%s: empty bundle", name)
	}
	return docs, nil
}

// Merge applies overlays to a base bundle as Juju does: an application's fields are replaced, its options
// and annotations merged key by key; an application (or machine) given no value is removed, with its
// relations; relations are added. exposed-endpoints and offers may appear in overlays only.
func Merge(base *Data, overlays ...*Data) (*Data, error) {
	for name, a := range base.Applications {
		if a != nil && (len(a.ExposedEndpoints) > 0 || len(a.Offers) > 0) {
			return nil, fmt.Errorf("application %q: exposed-endpoints and offers can only be given in an overlay", name)
		}
	}
	out := *base
	out.Applications = map[string]*Application{}
	for name, a := range base.Applications {
		if a != nil {
			c := *a
			out.Applications[name] = &c
		}
	}
	out.Relations = slices.Clone(base.Relations)
	out.Machines = cloneMap(base.Machines)
	out.Saas = cloneMap(base.Saas)
	for _, o := range overlays {
		for name, oa := range o.Applications {
			if oa == nil {
				delete(out.Applications, name)
				out.Relations = slices.DeleteFunc(out.Relations, func(r []string) bool {
					return slices.ContainsFunc(r, func(ep string) bool { return appOf(ep) == name })
				})
				continue
			}
			a, ok := out.Applications[name]
			if !ok {
				c := *oa
				out.Applications[name] = &c
				continue
			}
			overlayApplication(a, oa)
		}
		for id, m := range o.Machines {
			if m == nil {
				delete(out.Machines, id)
			} else {
				out.Machines[id] = m
			}
		}
		for name, s := range o.Saas {
			if s == nil {
				delete(out.Saas, name)
			} else {
				out.Saas[name] = s
			}
		}
		for _, r := range o.Relations {
			if !slices.ContainsFunc(out.Relations, func(have []string) bool { return sameRelation(have, r) }) {
				out.Relations = append(out.Relations, r)
			}
		}
	}
	return &out, nil
}

// overlayApplication lays an overlay's entry over an application already in the bundle.
func overlayApplication(a, o *Application) {
	if o.Charm != "" {
		a.Charm, a.dir = o.Charm, o.dir
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&a.Channel, o.Channel)
	set(&a.Base, o.Base)
	set(&a.Series, o.Series)
	set(&a.Constraints, o.Constraints)
	set(&a.Plan, o.Plan)
	if o.Revision != nil {
		a.Revision = o.Revision
	}
	if o.NumUnits != 0 {
		a.NumUnits = o.NumUnits
	}
	if o.Scale != 0 {
		a.Scale = o.Scale
	}
	if len(o.To) > 0 {
		a.To = o.To
	}
	a.Expose = a.Expose || o.Expose
	a.Trust = a.Trust || o.Trust
	a.Options = mergeMap(a.Options, o.Options)
	a.Annotations = mergeMap(a.Annotations, o.Annotations)
	a.Storage = mergeMap(a.Storage, o.Storage)
	a.Devices = mergeMap(a.Devices, o.Devices)
	a.Bindings = mergeMap(a.Bindings, o.Bindings)
	a.ExposedEndpoints = mergeMap(a.ExposedEndpoints, o.ExposedEndpoints)
	a.Offers = mergeMap(a.Offers, o.Offers)
	if len(o.Resources) > 0 {
		// A resource path in an overlay is relative to the overlay.
		for k, v := range o.Resources {
			if s, ok := v.(string); ok && !filepath.IsAbs(s) {
				v = filepath.Join(o.dir, s)
			}
			if a.Resources == nil {
				a.Resources = map[string]any{}
			}
			a.Resources[k] = v
		}
	}
}

func mergeMap[V any](dst, src map[string]V) map[string]V {
	if len(src) == 0 {
		return dst
	}
	out := make(map[string]V, len(dst)+len(src))
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		out[k] = v
	}
	return out
}

func cloneMap[V any](m map[string]V) map[string]V {
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func appOf(endpoint string) string {
	app, _, _ := strings.Cut(endpoint, ":")
	return app
}

func sameRelation(a, b []string) bool {
	if len(a) != 2 || len(b) != 2 {
		return false
	}
	return (a[0] == b[0] && a[1] == b[1]) || (a[0] == b[1] && a[1] == b[0])
}

// Deploy is one application to deploy, resolved to what the local model's deploy takes.
type Deploy struct {
	App       string
	CharmPath string
	NumUnits  int
	Config    map[string]string
	Resources map[string]string
	Storage   map[string]int
}

// Expose is one application to expose, per endpoint ("" for all).
type Expose struct {
	App       string
	Endpoints map[string]ExposedEndpoint
}

// Changes are what deploying a bundle does, in order.
type Changes struct {
	Deploys   []Deploy
	Relations [][2]string
	Exposes   []Expose
	// Ignored names what the bundle asked for that the local model does not model.
	Ignored []string
}

var appName = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]*[a-z][a-z0-9]*)*$`)

// Plan verifies a merged bundle and returns its changes. Applications deploy in name order, then relations
// in bundle order, then exposes.
func Plan(b *Data) (Changes, error) {
	var ch Changes
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if b.Type != "" && b.Type != "kubernetes" {
		bad("bundle has an invalid type %q", b.Type)
	}
	if b.Type == "kubernetes" {
		bad("kubernetes bundles are not supported: the local model is a machine model")
	}
	if len(b.Saas) > 0 {
		bad("saas (consuming offers of other models) is not supported by the local model")
	}
	if len(b.Applications) == 0 {
		bad("bundle has no applications")
	}
	names := make([]string, 0, len(b.Applications))
	for name := range b.Applications {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		a := b.Applications[name]
		if !appName.MatchString(name) {
			bad("invalid application name %q", name)
			continue
		}
		d, ignored, err := deployOf(name, a)
		if err != nil {
			bad("application %q: %v", name, err)
			continue
		}
		ch.Deploys = append(ch.Deploys, d)
		ch.Ignored = append(ch.Ignored, ignored...)
		switch {
		case a.Expose && len(a.ExposedEndpoints) > 0:
			bad("application %q: expose: true cannot be used together with exposed-endpoints", name)
		case a.Expose:
			ch.Exposes = append(ch.Exposes, Expose{App: name})
		case len(a.ExposedEndpoints) > 0:
			ch.Exposes = append(ch.Exposes, Expose{App: name, Endpoints: a.ExposedEndpoints})
		}
	}
	for _, r := range b.Relations {
		if len(r) != 2 {
			bad("relation %v does not name exactly two endpoints", r)
			continue
		}
		for _, ep := range r {
			if _, ok := b.Applications[appOf(ep)]; !ok {
				bad("relation [%s, %s] refers to application %q not defined in this bundle", r[0], r[1], appOf(ep))
			}
		}
		ch.Relations = append(ch.Relations, [2]string{r[0], r[1]})
	}
	if len(errs) > 0 {
		return Changes{}, errors.New(strings.Join(errs, "; "))
	}
	return ch, nil
}

func deployOf(name string, a *Application) (Deploy, []string, error) {
	var ignored []string
	if a.Charm == "" {
		return Deploy{}, nil, fmt.Errorf("no charm given")
	}
	if !strings.HasPrefix(a.Charm, ".") && !filepath.IsAbs(a.Charm) {
		return Deploy{}, nil, fmt.Errorf("charm %q is not a local path: the local model deploys local charms only (./name.charm)", a.Charm)
	}
	if a.NumUnits > 0 && a.Scale > 0 {
		return Deploy{}, nil, fmt.Errorf("cannot specify both scale and num_units")
	}
	if a.Placement != "" {
		return Deploy{}, nil, fmt.Errorf("placement (%s) not valid for non-Kubernetes application", a.Placement)
	}
	d := Deploy{App: name, CharmPath: a.Charm, NumUnits: max(a.NumUnits, a.Scale)}
	if !filepath.IsAbs(d.CharmPath) {
		d.CharmPath = filepath.Join(a.dir, d.CharmPath)
	}
	if len(a.Options) > 0 {
		d.Config = map[string]string{}
		for k, v := range a.Options {
			s, err := optionString(v)
			if err != nil {
				return Deploy{}, nil, fmt.Errorf("option %q: %v", k, err)
			}
			d.Config[k] = s
		}
	}
	for res, v := range a.Resources {
		path, ok := v.(string)
		if !ok {
			return Deploy{}, nil, fmt.Errorf("resource %q: revision %v needs Charmhub; give a path to a local file", res, v)
		}
		if !filepath.IsAbs(path) {
			path = filepath.Join(a.dir, path)
		}
		if d.Resources == nil {
			d.Resources = map[string]string{}
		}
		d.Resources[res] = path
	}
	for st, spec := range a.Storage {
		n, err := storageCount(spec)
		if err != nil {
			return Deploy{}, nil, fmt.Errorf("storage %q: %v", st, err)
		}
		if d.Storage == nil {
			d.Storage = map[string]int{}
		}
		d.Storage[st] = n
	}
	for ep, space := range a.Bindings {
		if space != "" && space != "alpha" {
			return Deploy{}, nil, fmt.Errorf("binding %q: space %q not found (the local model has one space, alpha)", ep, space)
		}
	}
	for what, set := range map[string]bool{"to": len(a.To) > 0, "constraints": a.Constraints != "",
		"devices": len(a.Devices) > 0, "channel": a.Channel != "", "revision": a.Revision != nil, "plan": a.Plan != ""} {
		if set {
			ignored = append(ignored, fmt.Sprintf("%s: %s", name, what))
		}
	}
	if len(a.Offers) > 0 {
		return Deploy{}, nil, fmt.Errorf("offers (cross-model relations) are not supported by the local model")
	}
	sort.Strings(ignored)
	return d, ignored, nil
}

// optionString renders a YAML option value as `juju config` takes it on the command line.
func optionString(v any) (string, error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case bool:
		return strconv.FormatBool(t), nil
	case int:
		return strconv.Itoa(t), nil
	case int64:
		return strconv.FormatInt(t, 10), nil
	case uint64:
		return strconv.FormatUint(t, 10), nil
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), nil
	case nil:
		return "", nil
	}
	return "", fmt.Errorf("value %v is not a string, number or boolean", v)
}

// storageCount reads the count out of a Juju storage directive ("pool,count,size" in any order, each
// optional): the one field that is a plain integer; 1 when none is.
func storageCount(spec string) (int, error) {
	count := 1
	seen := false
	for _, f := range strings.Split(spec, ",") {
		f = strings.TrimSpace(f)
		if n, err := strconv.Atoi(f); err == nil {
			if seen || n < 0 {
				return 0, fmt.Errorf("%q has more than one count or a negative one", spec)
			}
			count, seen = n, true
		}
	}
	return count, nil
}

// Describe lists the changes as `juju deploy --dry-run` does, one step per line.
func (ch Changes) Describe() string {
	var b strings.Builder
	b.WriteString("Changes to deploy bundle:\n")
	for _, d := range ch.Deploys {
		fmt.Fprintf(&b, "- deploy application %s from %s\n", d.App, d.CharmPath)
		if d.NumUnits > 0 {
			fmt.Fprintf(&b, "- add %d unit(s) of %s\n", d.NumUnits, d.App)
		}
	}
	for _, r := range ch.Relations {
		fmt.Fprintf(&b, "- add relation %s - %s\n", r[0], r[1])
	}
	for _, x := range ch.Exposes {
		if len(x.Endpoints) == 0 {
			fmt.Fprintf(&b, "- expose all endpoints of %s and allow access from CIDRs 0.0.0.0/0 and ::/0\n", x.App)
			continue
		}
		eps := make([]string, 0, len(x.Endpoints))
		for ep := range x.Endpoints {
			eps = append(eps, ep)
		}
		sort.Strings(eps)
		for _, ep := range eps {
			e := x.Endpoints[ep]
			name := ep
			if name == "" {
				name = "all endpoints"
			}
			fmt.Fprintf(&b, "- override expose settings for %s of %s (spaces %v, CIDRs %v)\n", name, x.App, e.ExposeToSpaces, e.ExposeToCIDRs)
		}
	}
	return b.String()
}
