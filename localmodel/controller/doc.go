// Package controller is the local model's controller daemon: it owns one model, runs each unit's hooks as
// Juju's unit agent would (one at a time per unit, units concurrently), answers hook tools over an abstract
// unix socket, supervises every unit's services, and serves the client API on the same socket.
package controller
