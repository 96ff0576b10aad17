package cli

import (
	"strings"

	"github.com/etcd-charm/etcd/localmodel/api"
)

func init() {
	register("expose", "expose APP [--endpoints e1,e2] [--to-spaces s1,..] [--to-cidrs c1,..]", expose)
	register("unexpose", "unexpose APP [--endpoints e1,e2]", unexpose)
}

// commaList splits a flag value as juju does: comma-separated, blanks dropped.
func commaList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func expose(e *env, args []string) error {
	fs := newFlags(e, "expose")
	endpoints := fs.String("endpoints", "", "expose only the ports opened for these endpoints")
	spaces := fs.String("to-spaces", "", "spaces whose addresses may reach the ports")
	cidrs := fs.String("to-cidrs", "", "CIDRs that may reach the ports")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("expose needs APP")
	}
	entry := api.ExposedEndpoint{ExposeToSpaces: commaList(*spaces), ExposeToCIDRs: commaList(*cidrs)}
	eps := map[string]api.ExposedEndpoint{}
	names := commaList(*endpoints)
	if len(names) == 0 {
		names = []string{""}
	}
	for _, ep := range names {
		eps[ep] = entry
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	return m.Expose(e.ctx, pos[0], eps)
}

func unexpose(e *env, args []string) error {
	fs := newFlags(e, "unexpose")
	endpoints := fs.String("endpoints", "", "unexpose only these endpoints")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("unexpose needs APP")
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	return m.Unexpose(e.ctx, pos[0], commaList(*endpoints)...)
}
