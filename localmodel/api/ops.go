package api

import "time"

// DeployRequest deploys CharmPath (absolute; a .charm zip or a charm directory) as App.
type DeployRequest struct {
	CharmPath string            `json:"charm-path"`
	App       string            `json:"app"`
	NumUnits  int               `json:"num-units"`
	Config    map[string]string `json:"config,omitempty"`
	Resources map[string]string `json:"resources,omitempty"`
	// Storage is how many instances of each storage every unit gets (juju deploy --storage name=count).
	Storage map[string]int `json:"storage,omitempty"`
}

// RefreshRequest replaces an application's charm.
type RefreshRequest struct {
	App       string `json:"app"`
	CharmPath string `json:"charm-path"`
}

// UnitsReply names units an operation created.
type UnitsReply struct {
	Units []string `json:"units"`
}

// AddUnitRequest adds N units to App.
type AddUnitRequest struct {
	App      string `json:"app"`
	NumUnits int    `json:"num-units"`
}

// RemoveUnitRequest removes units; Force removes them without running their hooks (machine death).
type RemoveUnitRequest struct {
	Units []string `json:"units"`
	Force bool     `json:"force,omitempty"`
}

// NameRequest names one application, unit or similar.
type NameRequest struct {
	Name string `json:"name"`
}

// ExposeRequest exposes App on the given endpoints ("" for all; empty map: all, to everyone).
type ExposeRequest struct {
	App       string                     `json:"app"`
	Endpoints map[string]ExposedEndpoint `json:"exposed-endpoints,omitempty"`
}

// UnexposeRequest removes the expose settings of the given endpoints, or of all when none is named.
type UnexposeRequest struct {
	App       string   `json:"app"`
	Endpoints []string `json:"endpoints,omitempty"`
}

// IntegrateRequest relates two endpoints given as app or app:endpoint.
type IntegrateRequest struct {
	A string `json:"a"`
	B string `json:"b"`
}

// IntegrateReply names the relation created.
type IntegrateReply struct {
	ID  int    `json:"id"`
	Key string `json:"key"`
}

// ConfigRequest reads, sets or resets application config. Set values are CLI strings parsed per option type.
type ConfigRequest struct {
	App   string            `json:"app"`
	Set   map[string]string `json:"set,omitempty"`
	Reset []string          `json:"reset,omitempty"`
}

// ConfigReply describes an application's config the way `juju config APP` prints it.
type ConfigReply struct {
	Application string                   `json:"application" yaml:"application"`
	Charm       string                   `json:"charm" yaml:"charm"`
	Settings    map[string]ConfigSetting `json:"settings" yaml:"settings"`
}

// ConfigSetting is one option with its value and where the value came from (default, user, unset).
type ConfigSetting struct {
	Default     any    `json:"default,omitempty" yaml:"default,omitempty"`
	Description string `json:"description" yaml:"description"`
	Source      string `json:"source" yaml:"source"`
	Type        string `json:"type" yaml:"type"`
	Value       any    `json:"value,omitempty" yaml:"value,omitempty"`
}

// RunRequest runs an action on a unit (or APP/leader).
type RunRequest struct {
	Unit   string         `json:"unit"`
	Action string         `json:"action"`
	Params map[string]any `json:"params,omitempty"`
}

// ActionResult is a finished action task, shaped like `juju run --format=json` shows a task.
type ActionResult struct {
	ID      string         `json:"id" yaml:"id"`
	Unit    string         `json:"unit" yaml:"unit"`
	Status  string         `json:"status" yaml:"status"`
	Message string         `json:"message,omitempty" yaml:"message,omitempty"`
	Results map[string]any `json:"results" yaml:"results"`
	Logs    []string       `json:"log,omitempty" yaml:"log,omitempty"`
	Timing  ActionTiming   `json:"timing" yaml:"timing"`
}

// ActionTiming is when a task was queued, started and completed.
type ActionTiming struct {
	Enqueued  string `json:"enqueued" yaml:"enqueued"`
	Started   string `json:"started" yaml:"started"`
	Completed string `json:"completed" yaml:"completed"`
}

// ExecRequest runs a command in a unit's hook environment.
type ExecRequest struct {
	Unit    string   `json:"unit"`
	Command []string `json:"command"`
}

// ExecReply is what the command printed and its exit code.
type ExecReply struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Code   int    `json:"code"`
}

// ResolveRequest clears a unit's hook error; NoRetry skips the failed hook instead of running it again.
type ResolveRequest struct {
	Unit    string `json:"unit"`
	NoRetry bool   `json:"no-retry,omitempty"`
}

// WaitRequest waits until the model (or Apps) is idle for IdlePeriod; Status additionally requires that
// workload status on every unit.
type WaitRequest struct {
	Apps       []string      `json:"apps,omitempty"`
	Status     string        `json:"status,omitempty"`
	Timeout    time.Duration `json:"timeout"`
	IdlePeriod time.Duration `json:"idle-period"`
}

// SignalRequest sends a signal to the main process of a unit's service.
type SignalRequest struct {
	Unit    string `json:"unit"`
	Service string `json:"service"`
	Signal  int    `json:"signal"`
}

// ServiceReply describes a supervised service.
type ServiceReply struct {
	ActiveState string `json:"active-state"`
	MainPID     int    `json:"main-pid"`
}

// ErrorReply is the body of every failed operation.
type ErrorReply struct {
	Error string `json:"error"`
}

// ToolRequest is one hook-tool invocation forwarded by the shim.
type ToolRequest struct {
	ContextID string   `json:"context-id"`
	Tool      string   `json:"tool"`
	Args      []string `json:"args"`
	Stdin     []byte   `json:"stdin,omitempty"`
}

// ToolReply is the tool's output and exit code.
type ToolReply struct {
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
	Code   int    `json:"code"`
}
