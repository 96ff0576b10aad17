package hooktools

import (
	"reflect"
	"testing"
)

func TestFlagParsingFollowsGnuflag(t *testing.T) {
	cases := []struct {
		argv     []string
		rel, fmt string
		app      bool
		args     []string
		err      bool
	}{
		{argv: []string{"-r=db:3", "-", "u/0", "--format=json"}, rel: "=db:3", fmt: "json", args: []string{"-", "u/0"}},
		{argv: []string{"-r", "db:3", "--app", "key"}, rel: "db:3", app: true, args: []string{"key"}},
		{argv: []string{"key", "--relation=db:3", "u/0", "--format", "yaml"}, rel: "db:3", fmt: "yaml", args: []string{"key", "u/0"}},
		{argv: []string{"-rdb:3"}, rel: "db:3"},
		{argv: []string{"--app=false", "--", "--format=json"}, args: []string{"--format=json"}},
		{argv: []string{"--bogus"}, err: true},
		{argv: []string{"-x"}, err: true},
		{argv: []string{"-r"}, err: true},
	}
	for _, c := range cases {
		var fs flagSet
		rel := fs.str("", "r", "relation")
		app := fs.boolean("app")
		format := fs.str("smart", "format")
		err := fs.parse(c.argv)
		if c.err {
			if err == nil {
				t.Errorf("%q: expected an error", c.argv)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.argv, err)
			continue
		}
		want := c.fmt
		if want == "" {
			want = "smart"
		}
		if rel.value != c.rel || app.on != c.app || format.value != want || !reflect.DeepEqual(fs.args, c.args) {
			t.Errorf("%q: rel=%q app=%v format=%q args=%q", c.argv, rel.value, app.on, format.value, fs.args)
		}
	}
}

func TestRenderFormats(t *testing.T) {
	cases := []struct {
		format string
		v      any
		want   string
	}{
		{"json", []string{"a:1"}, "[\"a:1\"]\n"},
		{"json", nil, "null\n"},
		{"json", map[string]string{}, "{}\n"},
		{"smart", "x", "x\n"},
		{"smart", true, "True\n"},
		{"smart", nil, ""},
		{"yaml", map[string]int{"a": 1}, "a: 1\n"},
	}
	for _, c := range cases {
		got, err := render(c.format, c.v)
		if err != nil || got != c.want {
			t.Errorf("render(%s, %v) = %q, %v; want %q", c.format, c.v, got, err, c.want)
		}
	}
	if _, err := render("xml", 1); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	_, stderr, code := Run(Env{}, "relation-ids", []string{"--nope"}, nil)
	if code != 2 || stderr != "ERROR flag provided but not defined: --nope\n" {
		t.Errorf("got %q %d", stderr, code)
	}
	_, stderr, code = Run(Env{}, "no-such-tool", nil, nil)
	if code != 1 || stderr == "" {
		t.Errorf("unknown tool: %q %d", stderr, code)
	}
}
