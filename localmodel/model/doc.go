// Package model holds the state of one local Juju model and Juju's rules over it: applications, units,
// relations and their databags with permissions, leadership, secrets, stored state, ports, storage, statuses,
// the per-hook transaction, and the generation of Juju's hook sequences into per-unit queues; and, beyond
// Juju, the hook faults tests arm to kill a hook at a chosen tool call.
//
// It is pure logic with no processes and no locking: the controller serialises every call under one lock and
// runs the hooks this package schedules.
package model
