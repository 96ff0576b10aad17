// Package plan is where the etcd charm decides. Each function takes the facts one hook observed (the model's
// bags and config, and what etcd and its process really run with) and returns what to do, or what to tell
// the operator; it never acts. The charm gathers the facts, asks here, applies the answer, and lets the next
// hook check again, so a step that failed or was killed half way is found and finished from the facts alone.
//
// The package may import internal/cluster's types and the standard library's pure packages; it imports no
// hook tools (goops), no etcd client and no os, so that nothing here can act by accident (the charm's tests
// check the imports).
package plan
