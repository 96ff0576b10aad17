package etcdclient

import (
	"encoding/json"
	"maps"
	"slices"
	"testing"
)

// The schema file is the published contract; CheckProviderV0 reads it, and this pins what it says to the
// interface's field list so an edit to either shows up here.
func TestSchemaFileMatchesTheV0ProviderFieldList(t *testing.T) {
	var schema databagSchema
	if err := json.Unmarshal(providerV0Schema, &schema); err != nil {
		t.Fatal(err)
	}
	fields := []string{"endpoints", "secret-tls", "secret-user", "version"}
	if got := slices.Sorted(slices.Values(schema.Required)); !slices.Equal(got, fields) {
		t.Errorf("required %q, want %q", got, fields)
	}
	if got := slices.Sorted(maps.Keys(schema.Properties)); !slices.Equal(got, fields) {
		t.Errorf("properties %q, want %q", got, fields)
	}
	for name, p := range schema.Properties {
		if p.Type != "string" {
			t.Errorf("%s has type %q, want string", name, p.Type)
		}
	}
	// Every field the function requires is one the file lists, and nothing else: dropping any one fails.
	full := map[string]string{}
	for _, f := range fields {
		full[f] = "x"
	}
	if err := CheckProviderV0(full); err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		bag := maps.Clone(full)
		delete(bag, f)
		if CheckProviderV0(bag) == nil {
			t.Errorf("a databag without %s passed", f)
		}
	}
}

func TestFernetRejectsWhatIsNotAToken(t *testing.T) {
	if _, err := fernetDecrypt("a2V5", "-----BEGIN CERTIFICATE-----"); err != errNotFernet {
		t.Errorf("PEM text: %v, want errNotFernet", err)
	}
}
