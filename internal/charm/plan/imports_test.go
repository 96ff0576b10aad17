package plan

import (
	"go/build"
	"strings"
	"testing"
)

// TestThePlanCannotAct: the decisions import nothing that acts (hook tools, the etcd client, the operating
// system, processes, the network), so a plan can only be returned, never carried out by accident.
func TestThePlanCannotAct(t *testing.T) {
	forbidden := []string{"github.com/gruyaume/goops", "go.etcd.io/etcd/client", "os", "os/exec", "net/http", "syscall"}
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkg.GoFiles) == 0 || len(pkg.Imports) == 0 {
		t.Fatalf("nothing to check: files %v, imports %v", pkg.GoFiles, pkg.Imports)
	}
	for _, path := range pkg.Imports {
		for _, bad := range forbidden {
			if path == bad || strings.HasPrefix(path, bad+"/") {
				t.Errorf("the plan package imports %s", path)
			}
		}
	}
}
