package charm

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// operatorHome is where the files an operator copies off a unit go by default (the credentials tarball,
// snapshots, the data kept by a restore), as the classic charm put them. `juju scp` logs in as the ubuntu
// user, so a file there that root owns with mode 0600 cannot be copied.
const operatorHome = "/home/ubuntu"

// handOver gives a file written under the operator's home, and the folders between, to the owner of that
// home: readable by that user alone, as the files are 0600 and the folders 0700. A path elsewhere (an
// operator-chosen target) and a machine without that home are left as they are.
func (c *unitContext) handOver(path string) error {
	home := c.hostPath(operatorHome)
	rel, err := filepath.Rel(home, path)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil
	}
	info, err := os.Stat(home)
	if err != nil {
		return nil
	}
	owner, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	p := home
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		p = filepath.Join(p, part)
		if err := os.Lchown(p, int(owner.Uid), int(owner.Gid)); err != nil {
			return fmt.Errorf("handing %s to the owner of %s: %w", p, home, err)
		}
	}
	return nil
}
