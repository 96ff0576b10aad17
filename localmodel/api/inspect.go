package api

import "time"

// UnitInfo is where a unit lives on this machine.
type UnitInfo struct {
	Name        string `json:"name"`
	Dir         string `json:"dir"`
	CharmDir    string `json:"charm-dir"`
	Root        string `json:"root"`
	Address     string `json:"address"`
	WorkloadLog string `json:"workload-log"`
	Leader      bool   `json:"leader"`
	Life        string `json:"life"`
}

// HookRun is one completed run of a hook, action or exec on a unit.
type HookRun struct {
	Hook     string            `json:"hook"`
	Action   string            `json:"action,omitempty"`
	Env      map[string]string `json:"env"`
	ExitCode int               `json:"exit-code"`
	// Signal names the signal that killed the process ("killed"), empty when it exited.
	Signal string `json:"signal,omitempty"`
	Output string `json:"output,omitempty"`
	// ToolCalls is how many hook tool calls (systemctl included) the run made, so a crash-safety test can
	// sweep a kill over every one of them; FaultKilled says a hook fault killed the run after that many.
	ToolCalls   int  `json:"tool-calls"`
	FaultKilled bool `json:"fault-killed,omitempty"`
	// Started, Duration (wall time), CPU (user plus system time) and MaxRSSKiB (peak resident memory) of
	// the process and the hook tools it ran measure what the run cost.
	Started   time.Time     `json:"started"`
	Duration  time.Duration `json:"duration-ns"`
	CPU       time.Duration `json:"cpu-ns"`
	MaxRSSKiB int64         `json:"max-rss-kib"`
}

// BagRequest reads a relation databag: of Unit when App is empty, else of the application.
type BagRequest struct {
	RelationID int    `json:"relation-id"`
	Unit       string `json:"unit,omitempty"`
	App        string `json:"app,omitempty"`
}

// RelationInfo describes a relation.
type RelationInfo struct {
	ID        int      `json:"id"`
	Key       string   `json:"key"`
	Endpoints []string `json:"endpoints"`
	Interface string   `json:"interface"`
	Life      string   `json:"life"`
}

// SecretInfo is the controller's view of a secret: owner, revisions, grants and who tracks which revision.
type SecretInfo struct {
	ID          string            `json:"id"`
	URI         string            `json:"uri"`
	Owner       string            `json:"owner"`
	Label       string            `json:"label,omitempty"`
	Description string            `json:"description,omitempty"`
	Rotate      string            `json:"rotate,omitempty"`
	Revisions   []SecretRevision  `json:"revisions"`
	Latest      int               `json:"latest"`
	Grants      []SecretGrant     `json:"grants,omitempty"`
	Tracking    map[string]int    `json:"tracking,omitempty"`
	Labels      map[string]string `json:"consumer-labels,omitempty"`
}

// SecretRevision is one revision's content.
type SecretRevision struct {
	Revision int               `json:"revision"`
	Content  map[string]string `json:"content"`
}

// SecretGrant gives an application (Unit empty) or one unit access through a relation.
type SecretGrant struct {
	RelationID int    `json:"relation-id"`
	App        string `json:"app,omitempty"`
	Unit       string `json:"unit,omitempty"`
}
