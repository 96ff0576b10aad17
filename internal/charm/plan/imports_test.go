package plan

import (
	"go/parser"
	"go/token"
	"io/fs"
	"strconv"
	"strings"
	"testing"
)

// TestThePlanCannotAct: the decisions import nothing that acts (hook tools, the etcd client, the operating
// system, processes, the network), so a plan can only be returned, never carried out by accident.
func TestThePlanCannotAct(t *testing.T) {
	forbidden := []string{"github.com/gruyaume/goops", "go.etcd.io/etcd/client", "os", "os/exec", "net/http", "syscall"}
	pkgs, err := parser.ParseDir(token.NewFileSet(), ".", func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, parser.ImportsOnly)
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, pkg := range pkgs {
		for name, f := range pkg.Files {
			files++
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range forbidden {
					if path == bad || strings.HasPrefix(path, bad+"/") {
						t.Errorf("%s imports %s", name, path)
					}
				}
			}
		}
	}
	if files == 0 {
		t.Fatal("no files parsed")
	}
}
