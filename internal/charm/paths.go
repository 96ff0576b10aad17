package charm

import (
	"fmt"
	"path/filepath"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/etcd"
)

// paths are the workload's files on this machine, joined under the unit's filesystem root.
type paths struct {
	etcd.Paths
	credentialsDir string // where package-client-credentials leaves its tarball, as the classic charm did
}

const serviceName = "etcd"

func workloadPaths(root string) (paths, error) {
	storage, err := dataStorageLocation()
	if err != nil {
		return paths{}, err
	}
	p := paths{Paths: etcd.NewPaths(root, storage), credentialsDir: filepath.Join(root, "/home/ubuntu")}
	if _, err := etcd.EnsureDir(p.TLSDir, etcd.ModeTLSDir); err != nil {
		return p, fmt.Errorf("creating %s: %w", p.TLSDir, err)
	}
	return p, nil
}

// dataStorageLocation is where Juju attached the data storage, or "" when none is attached.
func dataStorageLocation() (string, error) {
	ids, err := goops.ListStorage("data")
	if err != nil || len(ids) == 0 {
		return "", nil //nolint:nilerr // no storage support or none attached: use the root filesystem
	}
	info, err := goops.GetStorageByID(ids[0])
	if err != nil {
		return "", fmt.Errorf("locating storage %s: %w", ids[0], err)
	}
	return info.Location, nil
}
