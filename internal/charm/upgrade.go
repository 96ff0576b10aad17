package charm

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-semver/semver"
	"github.com/gruyaume/goops"
	"go.etcd.io/etcd/api/v3/version"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/internal/etcd"
)

// installedVersionState is the etcd version this unit installed. The binary the service runs is a copy, so a
// refresh changes nothing until the member restarts onto it; that restart is due because the start record
// names the old version (plan.RestartReason), and it happens in turn, the raft leader last.
const installedVersionState = "etcd-version"

// checkUpgrade applies etcd's rules: patch releases either way, one minor version up at a time, no minor
// downgrade (that needs etcd's downgrade procedure, not a binary swap), never another major version.
func checkUpgrade(installed, target string) error {
	from, err := semver.NewVersion(installed)
	if err != nil {
		return fmt.Errorf("cannot read the installed etcd version %q: %v", installed, err)
	}
	to, err := semver.NewVersion(target)
	if err != nil {
		return fmt.Errorf("cannot read this charm's etcd version %q: %v", target, err)
	}
	switch {
	case from.Major != to.Major:
		return fmt.Errorf("etcd %s cannot replace %s: a different major version needs a new cluster restored from a snapshot",
			to, from)
	case to.Minor > from.Minor+1:
		return fmt.Errorf("etcd %s cannot replace %s: etcd upgrades one minor version at a time; refresh to a charm "+
			"with etcd %d.%d first", to, from, from.Major, from.Minor+1)
	case to.Minor < from.Minor:
		return fmt.Errorf("etcd %s cannot replace %s: a minor downgrade needs etcd's downgrade procedure; refresh "+
			"back to a charm with etcd %d.%d", to, from, from.Major, from.Minor)
	}
	if to.Minor == from.Minor+1 {
		if floor, ok := upgradeFloors[fmt.Sprintf("%d.%d", to.Major, to.Minor)]; ok && from.LessThan(*semver.New(floor)) {
			return fmt.Errorf("etcd %s cannot replace %s: etcd %d.%d needs every member on %s or later first; refresh "+
				"to a charm with etcd %s or later, then to this one", to, from, to.Major, to.Minor, floor, floor)
		}
	}
	return nil
}

// upgradeFloors is, per minor release, the oldest patch of the previous minor that etcd's upgrade guide lets
// roll onto it ("make sure that all of your 3.6 members are updated to 3.6.11 or later").
var upgradeFloors = map[string]string{"3.7": "3.6.11"}

// preUpgradeSnapshotDir is where a member keeps the snapshot it took before its first restart onto a new
// minor version: the way back once every member runs the new minor and etcd's downgrade is not wanted.
func preUpgradeSnapshotDir(from, to string) string {
	return filepath.Join(periodicSnapshotDir, "pre-upgrade-"+from+"-to-"+to)
}

// minorChange reports whether a restart from running to desired crosses a minor (or major) version.
func minorChange(running, desired string) bool {
	from, err1 := semver.NewVersion(running)
	to, err2 := semver.NewVersion(desired)
	if err1 != nil || err2 != nil {
		return running != desired
	}
	return from.Major != to.Major || from.Minor != to.Minor
}

// snapshotBeforeUpgrade takes the pre-upgrade snapshot into this unit's pre-upgrade directory unless one is
// there already (a hook killed after the snapshot and before the restart finds it and goes on).
func (c *unitContext) snapshotBeforeUpgrade(from, to string) error {
	dir := c.hostPath(preUpgradeSnapshotDir(from, to))
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if etcd.IsSnapshotArchive(e.Name()) {
				return nil
			}
		}
	}
	ctx, cancel := context.WithTimeout(c.ctx, snapshotTimeout)
	defer cancel()
	s, err := c.takeSnapshot(ctx, dir)
	if err != nil {
		return heldBack("restart onto etcd %s due; the snapshot taken first failed: %v", to, plan.ShortErr(err))
	}
	goops.LogInfof("snapshot before moving from etcd %s to %s: %s (revision %d)", from, to, s.Path, s.Status.Revision)
	return nil
}

// installWorkload puts this charm's etcd on the machine. On a version change it first checks the version
// rules (a refused change installs nothing and blocks); an accepted one is restarted onto by ensureMember.
func (c *unitContext) installWorkload() error {
	installed := getState(installedVersionState) // missing until the first install
	_, statErr := os.Stat(c.paths.Binary)
	fresh := statErr != nil || c.hook == "install"
	if !fresh && installed == "" {
		installed = binaryVersion(c.ctx, c.paths.Binary) // installed before versions were recorded
	}
	if fresh || installed == version.Version {
		if err := c.installBinary(fresh); err != nil {
			return err
		}
		return c.recordInstalled(fresh)
	}
	if err := checkUpgrade(installed, version.Version); err != nil {
		return blocked("%v (nothing was restarted)", err)
	}
	goops.LogInfof("installing etcd %s in place of %s; the member restarts onto it in turn", version.Version, installed)
	if err := c.installBinary(true); err != nil {
		return err
	}
	return setState(installedVersionState, version.Version)
}

func (c *unitContext) recordInstalled(fresh bool) error {
	if !fresh {
		if getState(installedVersionState) == version.Version {
			return nil
		}
	}
	return setState(installedVersionState, version.Version)
}

// membersBehind names the members, other than self, that do not run this charm's etcd version yet.
func (c *unitContext) membersBehind(ctx context.Context, cli *cluster.Client, members []cluster.Member, self uint64) []string {
	var behind []string
	for _, m := range members {
		if m.ID == self || len(m.ClientURLs) == 0 {
			continue
		}
		st, err := cli.EndpointStatus(ctx, m.ClientURLs[0])
		if err != nil || st.Version != version.Version {
			behind = append(behind, plan.UnitOfMember(m))
		}
	}
	return behind
}

// binaryVersion asks an installed etcd binary for its version ("" when it cannot tell, which checkUpgrade
// then refuses rather than guess).
func binaryVersion(ctx context.Context, path string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--version").Output()
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "etcd Version: "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// downgradeTarget checks the minor an operator asks etcd to downgrade to ("3.6", or "3.6.x" read as its
// minor; "" for the previous one) against the etcd this charm runs: exactly one minor down within the major,
// as etcd allows. It returns the version to give etcd ("3.6").
func downgradeTarget(running, requested string) (string, error) {
	from, err := semver.NewVersion(running)
	if err != nil {
		return "", fmt.Errorf("cannot read the running etcd version %q: %v", running, err)
	}
	if from.Minor == 0 {
		return "", fmt.Errorf("etcd %s is the first minor of its major: there is no minor to downgrade to", from)
	}
	if strings.TrimSpace(requested) == "" { // the only minor etcd allows
		return fmt.Sprintf("%d.%d", from.Major, from.Minor-1), nil
	}
	parts := strings.Split(strings.TrimPrefix(strings.TrimSpace(requested), "v"), ".")
	if len(parts) < 2 || len(parts) > 3 {
		return "", fmt.Errorf("version %q is not a minor version such as %d.%d", requested, from.Major, from.Minor-1)
	}
	to, err := semver.NewVersion(parts[0] + "." + parts[1] + ".0")
	if err != nil {
		return "", fmt.Errorf("version %q is not a minor version such as %d.%d", requested, from.Major, from.Minor-1)
	}
	if to.Major != from.Major || to.Minor+1 != from.Minor {
		return "", fmt.Errorf("etcd downgrades one minor version at a time: from %d.%d only to %d.%d, not %d.%d",
			from.Major, from.Minor, from.Major, from.Minor-1, to.Major, to.Minor)
	}
	return fmt.Sprintf("%d.%d", to.Major, to.Minor), nil
}

// storageDowngradeWait bounds how long the downgrade action waits for etcd to move every member's storage
// version down after enabling the downgrade; etcd takes a few seconds.
const storageDowngradeWait = time.Minute

// storageNotOn names the members whose storage version (name to version, as etcd reports it; "" when the
// member did not answer) is not on the minor target ("3.6"), sorted.
func storageNotOn(storage map[string]string, target string) []string {
	var behind []string
	for name, v := range storage {
		if !strings.HasPrefix(v, target+".") {
			behind = append(behind, name)
		}
	}
	slices.Sort(behind)
	return behind
}

// waitStorageDowngraded waits until every voting member reports its storage on target, and returns the
// members that still do not when ctx ends (nil once all do).
func (c *unitContext) waitStorageDowngraded(ctx context.Context, cli *cluster.Client, target string) []string {
	for {
		storage := map[string]string{}
		members, err := cli.Members(ctx)
		if err != nil {
			storage["the cluster's member list"] = ""
		}
		for _, m := range members {
			if m.IsLearner {
				continue
			}
			name := plan.UnitOfMember(m)
			if len(m.ClientURLs) == 0 {
				storage[name] = ""
				continue
			}
			st, err := cli.EndpointStatus(ctx, m.ClientURLs[0])
			if err != nil {
				storage[name] = ""
				continue
			}
			storage[name] = st.StorageVersion
		}
		behind := storageNotOn(storage, target)
		if len(behind) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return behind
		case <-time.After(time.Second):
		}
	}
}

type downgradeParams struct {
	Version string `json:"version"`
	Cancel  bool   `json:"cancel"`
}

// downgradeAction enables etcd's own downgrade to the previous minor (validate, then enable), or cancels it.
// It is the first half of a downgrade; the second is a refresh to the charm of that minor, whose units
// accept the older etcd only while the downgrade is enabled, and restart one at a time, the raft leader last.
func (c *unitContext) downgradeAction() error {
	var p downgradeParams
	if err := goops.GetActionParams(&p); err != nil {
		return err
	}
	return c.adminAction(func(ctx context.Context, cli *cluster.Client) error {
		if p.Cancel {
			v, err := cli.DowngradeCancel(ctx)
			if err != nil {
				return err
			}
			return goops.SetActionResults(map[string]string{"output": "etcd's downgrade is cancelled; cluster version " + v,
				"cluster-version": v})
		}
		target, err := downgradeTarget(version.Version, p.Version)
		if err != nil {
			return err
		}
		already := false
		if st, err := cli.EndpointStatus(ctx, c.clientURL()); err == nil && strings.HasPrefix(st.DowngradeTarget, target+".") {
			already = true
		} else {
			if _, err := cli.DowngradeEnable(ctx, target); err != nil {
				return err
			}
			goops.LogInfof("etcd's downgrade to %s enabled", target)
		}
		// etcd moves the cluster version down, then each member's storage version, within seconds (its version
		// monitors run every 4 s). Only then may a member restart on the older etcd, which refuses newer
		// storage; so the action says "refresh now" only when every member is there.
		wctx, cancel := context.WithTimeout(ctx, storageDowngradeWait)
		behind := c.waitStorageDowngraded(wctx, cli, target)
		cancel()
		state := "enabled"
		if already {
			state = "already enabled"
		}
		if len(behind) > 0 {
			return fmt.Errorf("etcd's downgrade to %s is %s, but etcd has not moved the storage of %s to %s within %s; "+
				"run downgrade again to check before refreshing (`downgrade cancel=true` takes it back)",
				target, state, strings.Join(behind, ", "), target, storageDowngradeWait)
		}
		return goops.SetActionResults(map[string]string{
			"output": fmt.Sprintf("etcd's downgrade to %s is %s: the cluster version and every member's storage are "+
				"on %s. Refresh to the charm's %s line (release/etcd-%s), which accepts the older etcd while the "+
				"downgrade is enabled; the members move one at a time, the raft leader last. Until then "+
				"`downgrade cancel=true` takes it back.", target, state, target, target, target),
			"target": target,
		})
	})
}
