package robustness

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"
)

// DefaultCheckTimeout bounds the linearizability search; a search that runs out is reported as
// inconclusive, never as a pass.
const DefaultCheckTimeout = 2 * time.Minute

// CheckOptions says how to check a history.
type CheckOptions struct {
	Timeout time.Duration
	// Visualization is the file the porcupine HTML visualisation is written to when the history is not
	// linearizable. Empty writes none.
	Visualization string
}

// Report is the verdict on one history.
type Report struct {
	Linearizability porcupine.CheckResult
	// Violations lists every broken property in words; empty means the history passed.
	Violations []string
	// Visualization is the path of the HTML written for a non-linearizable history.
	Visualization string
	CheckTime     time.Duration
	Stats         Stats
}

// OK reports whether every check passed.
func (r Report) OK() bool { return len(r.Violations) == 0 }

// Check runs the history checks: linearizability against the key-value model, acknowledged writes that
// survive in the final reads, and revisions that never go back for any one client.
func Check(h History, opts CheckOptions) Report {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultCheckTimeout
	}
	r := Report{Stats: h.Stats()}
	began := time.Now()
	model := kvModel.ToModel()
	result, info := porcupine.CheckOperationsVerbose(model, porcupineHistory(h), opts.Timeout)
	r.CheckTime = time.Since(began)
	r.Linearizability = result
	switch result {
	case porcupine.Illegal:
		msg := "history is not linearizable"
		if opts.Visualization != "" {
			if err := writeVisualization(model, info, opts.Visualization); err != nil {
				msg += fmt.Sprintf(" (writing the visualisation: %v)", err)
			} else {
				r.Visualization = opts.Visualization
				msg += "; see " + opts.Visualization
			}
		}
		r.Violations = append(r.Violations, msg)
	case porcupine.Unknown:
		r.Violations = append(r.Violations, fmt.Sprintf("linearizability check inconclusive after %s", opts.Timeout))
	}
	r.Violations = append(r.Violations, lostWrites(h)...)
	r.Violations = append(r.Violations, revisionRegressions(h)...)
	return r
}

func writeVisualization(model porcupine.Model, info porcupine.LinearizationInfo, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return porcupine.VisualizePath(model, info, path)
}

// lostWrites checks each key's final read against the writes: the value that survived must come from a
// write that was acknowledged or might have been applied, and no acknowledged write may have started
// after that write had returned (that later write would have to be the survivor). A key that reads absent
// must never have had an acknowledged write.
func lostWrites(h History) []string {
	if !h.FinalReads {
		return []string{"no final reads after recovery, so surviving writes were not checked"}
	}
	final := map[string]Operation{}
	writers := map[string]Operation{} // value -> the write that wrote it
	var ackedWrites []Operation
	for _, op := range h.Operations {
		switch {
		case op.Client == h.Clients:
			final[op.Request.Key] = op
		case !op.IsWrite():
		case op.Request.Kind == CAS && op.Acknowledged() && !op.Response.Succeeded:
		default:
			writers[op.Request.Value] = op
			if op.Acknowledged() {
				ackedWrites = append(ackedWrites, op)
			}
		}
	}
	var out []string
	keys := append([]string(nil), h.Keys...)
	sort.Strings(keys)
	for _, key := range keys {
		read, ok := final[key]
		if !ok {
			out = append(out, fmt.Sprintf("key %s has no final read", key))
			continue
		}
		survivor, known := writers[read.Response.Value]
		if read.Response.Value != "" && (!known || survivor.Request.Key != key) {
			out = append(out, fmt.Sprintf("key %s holds %q, which no client wrote to it", key, read.Response.Value))
			continue
		}
		var lost []Operation
		for _, w := range ackedWrites {
			if w.Request.Key == key && w.Request.Value != read.Response.Value &&
				(read.Response.Value == "" || w.Call > survivor.Return) {
				lost = append(lost, w)
			}
		}
		if len(lost) > 0 {
			w := lost[len(lost)-1]
			out = append(out, fmt.Sprintf("%d acknowledged write(s) lost on key %s, the last %s by client %d returning at %s; the key ends as %q",
				len(lost), key, w, w.Client, w.Return.Round(time.Millisecond), read.Response.Value))
		}
	}
	return out
}

// revisionRegressions: each client issues one request at a time, so the store revisions in its answers
// must never decrease, whichever member answers.
func revisionRegressions(h History) []string {
	ops := append([]Operation(nil), h.Operations...)
	sort.SliceStable(ops, func(i, j int) bool { return ops[i].Call < ops[j].Call })
	last := map[int]Operation{}
	var out []string
	for _, op := range ops {
		if !op.Acknowledged() || op.Response.Revision == 0 {
			continue
		}
		prev, ok := last[op.Client]
		if ok && op.Call > prev.Return && op.Response.Revision < prev.Response.Revision {
			out = append(out, fmt.Sprintf("client %d saw revision %d after %d: %s after %s",
				op.Client, op.Response.Revision, prev.Response.Revision, op, prev))
		}
		last[op.Client] = op
	}
	return out
}
