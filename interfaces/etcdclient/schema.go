package etcdclient

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// providerV0Schema is our JSON Schema of the provider application databag of etcd_client v0, written from the
// interface's published field list (endpoints, version, secret-tls, secret-user: required strings).
//
//go:embed schema/provider-v0.json
var providerV0Schema []byte

type databagSchema struct {
	Required   []string `json:"required"`
	Properties map[string]struct {
		Type string `json:"type"`
	} `json:"properties"`
}

// CheckProviderV0 validates a provider databag against the etcd_client v0 provider schema: every required
// field present and non-empty, and every typed field a string. Databag values are text; one that parses
// as JSON of another type (a number, list, object, boolean or null) is not a string to a requirer that
// decodes values as JSON, so it is rejected.
func CheckProviderV0(databag map[string]string) error {
	var schema databagSchema
	if err := json.Unmarshal(providerV0Schema, &schema); err != nil {
		return fmt.Errorf("reading the embedded etcd_client v0 schema: %w", err)
	}
	var errs []error
	for _, field := range schema.Required {
		if databag[field] == "" {
			errs = append(errs, fmt.Errorf("required field %q is missing", field))
		}
	}
	for _, field := range slices.Sorted(maps.Keys(schema.Properties)) {
		v, ok := databag[field]
		if !ok || schema.Properties[field].Type != "string" {
			continue
		}
		var decoded any
		if json.Unmarshal([]byte(v), &decoded) == nil {
			if _, isString := decoded.(string); !isString {
				errs = append(errs, fmt.Errorf("field %q must be a string, got JSON %s", field, strings.TrimSpace(v)))
			}
		}
	}
	return errors.Join(errs...)
}
