// Package hooktools answers Juju's hook tools (relation-get, secret-add, status-set, ...) for a hook context
// of the local model, with Juju's argv parsing (gnuflag rules) and exact output formats: --format=json is
// the JSON encoding plus a newline, errors are "ERROR <msg>" on stderr with exit code 1, or 2 for usage errors.
package hooktools
