// Package systemd is the local model's stand-in for systemd: it supervises the
// services of one unit as real child processes of the controller and answers
// `systemctl` invocations the way systemd does wherever a charm could notice
// (messages, exit codes, state names, restart policy, stop escalation).
//
// Unit files are read from the unit's root and, as with systemd, their content
// only takes effect at `daemon-reload` (or when a never-loaded unit is first
// used). Paths inside unit files are host paths: the charm already joins them
// under its root, so nothing here rewrites them.
package systemd
