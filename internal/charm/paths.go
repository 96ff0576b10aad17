package charm

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/etcd"
)

// paths are the workload's files on this machine, joined under the unit's filesystem root.
type paths struct {
	etcd.Paths
	credentialsDir string // where package-client-credentials leaves its tarball, as the classic charm did
}

const serviceName = "etcd"

func workloadPaths(root, hook string) (paths, error) {
	storage, err := dataStorageLocation(hook)
	if err != nil {
		return paths{}, err
	}
	p := paths{Paths: etcd.NewPaths(root, storage), credentialsDir: filepath.Join(root, "/home/ubuntu")}
	if _, err := etcd.EnsureDir(p.TLSDir, etcd.ModeTLSDir); err != nil {
		return p, fmt.Errorf("creating %s: %w", p.TLSDir, err)
	}
	return p, nil
}

// dataStorageLocation is where Juju attached the data storage, or "" when none is attached. A unit's storage
// only changes in the data-storage hooks, so the answer is kept in unit state and asked again only there.
func dataStorageLocation(hook string) (string, error) {
	const key, none = "data-storage", "none"
	if loc := getState(key); loc != "" && !strings.HasPrefix(hook, "data-storage-") {
		if loc == none {
			return "", nil
		}
		return loc, nil
	}
	loc := none
	ids, err := goops.ListStorage("data")
	if err == nil && len(ids) > 0 { // otherwise no storage support or none attached: the root filesystem
		info, err := goops.GetStorageByID(ids[0])
		if err != nil {
			return "", fmt.Errorf("locating storage %s: %w", ids[0], err)
		}
		loc = info.Location
	}
	if hook != "" { // actions read it but leave unit state to hooks
		if err := setState(key, loc); err != nil {
			return "", err
		}
	}
	if loc == none {
		return "", nil
	}
	return loc, nil
}
