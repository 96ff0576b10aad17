// Package client is the Go API over a local model's controller, used by tests and by the localjuju CLI:
// bootstrap and destroy a model, act on it as `juju` would, wait for idle, inspect databags, secrets,
// state and hook history, and inject faults into units and their workloads.
package client
