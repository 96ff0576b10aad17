// Package api holds the types the controller, the client and the CLI exchange: the request and reply of
// every operation and the status document, whose JSON is shaped like `juju status --format=json`.
package api
