package api

import "time"

// HookFault arms the SIGKILL of a unit's hook runs: test tooling for crash safety, Juju has no such thing.
// The run is killed once its AfterToolCalls-th hook tool call (systemctl included) has been answered, or
// with Random at a kill point drawn from Seed; Times runs are killed before the fault disarms itself.
type HookFault struct {
	Unit string `json:"unit" yaml:"unit"`
	// Hook is a hook or action name; empty means every hook (never an action).
	Hook           string `json:"hook,omitempty" yaml:"hook,omitempty"`
	AfterToolCalls int    `json:"after-tool-calls,omitempty" yaml:"after-tool-calls,omitempty"`
	Random         bool   `json:"random,omitempty" yaml:"random,omitempty"`
	Seed           int64  `json:"seed,omitempty" yaml:"seed,omitempty"`
	// Times is how many runs to kill (default 1); in a listing, how many kills are left.
	Times int `json:"times,omitempty" yaml:"times,omitempty"`
}

// HookFaultRequest arms a unit's fault (replacing any), or with Clear disarms it.
type HookFaultRequest struct {
	HookFault
	Clear bool `json:"clear,omitempty"`
}

// HookKill is one hook (or action) run a fault killed.
type HookKill struct {
	Unit   string `json:"unit" yaml:"unit"`
	Hook   string `json:"hook,omitempty" yaml:"hook,omitempty"`
	Action string `json:"action,omitempty" yaml:"action,omitempty"`
	// ToolCalls is how many hook tool calls the run had made when it was killed.
	ToolCalls int       `json:"tool-calls" yaml:"tool-calls"`
	Random    bool      `json:"random,omitempty" yaml:"random,omitempty"`
	Seed      int64     `json:"seed,omitempty" yaml:"seed,omitempty"`
	Time      time.Time `json:"time" yaml:"time"`
}

// HookFaultsReply lists the armed faults and every kill performed so far, oldest first.
type HookFaultsReply struct {
	Armed []HookFault `json:"armed" yaml:"armed"`
	Kills []HookKill  `json:"kills" yaml:"kills"`
}
