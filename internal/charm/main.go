// Package charm is the etcd charm: it reads the model through goops, decides what the member and the cluster
// should look like, and acts.
package charm

import (
	"github.com/gruyaume/goops"
)

// Main runs one hook or action and returns the process exit code: non-zero tells Juju the hook failed.
func Main() int {
	if err := Dispatch(); err != nil {
		goops.LogErrorf("%v", err)
		return 1
	}
	return 0
}
