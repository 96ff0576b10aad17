package cli

import (
	"reflect"
	"testing"
)

// Juju's `juju run` reads k=v values as YAML 1.1 (gopkg.in/yaml.v2): an operator who types compact
// revision=123 sends an integer, force=yes a boolean, and a backup ID (an ISO timestamp) stays a string.
func TestGivenJujuRunArgumentsWhenParsedThenValuesAreTypedAsJujuTypesThem(t *testing.T) {
	got, err := actionParams([]string{"revision=123", "force=yes", "off=off", "backup-id=2026-12-04T10:15:30Z",
		"empty=", "none=null", "ratio=0.5", "nested.key=v", "nested.n=2", "map={a: 1}"}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"revision": 123, "force": true, "off": false, "backup-id": "2026-12-04T10:15:30Z",
		"empty": "", "none": nil, "ratio": 0.5, "nested": map[string]any{"key": "v", "n": 2},
		"map": map[string]any{"a": 1}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parsed %#v\nwant   %#v", got, want)
	}
}

func TestGivenStringArgsWhenParsedThenEveryValueIsTheRawString(t *testing.T) {
	got, err := actionParams([]string{"revision=123", "force=yes", "empty="}, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"revision": "123", "force": "yes", "empty": ""}; !reflect.DeepEqual(got, want) {
		t.Fatalf("parsed %#v, want %#v", got, want)
	}
}

func TestGivenAValueThatIsNotYAMLWhenParsedThenTheErrorSaysHowToSendItAsIs(t *testing.T) {
	if _, err := actionParams([]string{"x=[unclosed"}, false); err == nil {
		t.Fatal("a value YAML cannot parse was accepted")
	}
}
