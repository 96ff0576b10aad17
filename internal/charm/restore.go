package charm

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/etcd"
)

// A restore or a rebuild gives the cluster a new identity that every other unit must join from scratch. The
// epoch names it: the leader publishes it in the application bag, each unit records in its own state (and its
// bag) the epoch it last joined, and a unit whose epoch is behind wipes its member and rejoins as a learner.
//
// A unit that starts a new identity records it as a request in its own bag, whether it leads or not: the
// Juju leader may change before, during or after the action, and whichever unit leads when a hook runs
// publishes the newest request it sees (plan.AdoptIdentity), its own bag included.
const (
	keyEpoch            = "epoch"                 // app and unit bags: the cluster identity joined
	keyRebuildRequest   = "rebuild-request"       // unit bag: epoch of an identity started on this unit (named when only rebuilds used it)
	keyRequestClusterID = "rebuild-cluster-id"    // unit bag: that identity's cluster ID
	keyRequestToken     = "rebuild-cluster-token" // unit bag: that identity's initial-cluster-token ("" after a rebuild)
	appliedEpochState   = "applied-epoch"
	// identityRequestState keeps the request in unit state, written before the applied epoch: a hook killed
	// between recording the epoch and writing the bag has its next hook write the bag (recordIdentityRequest).
	identityRequestState = "identity-request"
)

// revisionBumpFloor is what etcd's recovery guide suggests: a week of writes at 1500/s.
const revisionBumpFloor = 1_000_000_000

const restoreTimeout = 5 * time.Minute

// newEpoch orders epochs by time, so that the leader can tell the latest identity request from stale ones.
// It is made later than the published epoch whatever this unit's clock says: a unit whose clock runs behind
// would otherwise start an identity the leader takes for stale, and then wipe it to follow the old one.
func newEpoch(now time.Time, published string) (string, error) {
	r, err := randomToken(8)
	if err != nil {
		return "", err
	}
	nanos := now.UnixNano()
	if head, _, ok := strings.Cut(published, "-"); ok {
		if prev, err := strconv.ParseInt(head, 10, 64); err == nil && prev >= nanos {
			nanos = prev + 1
		}
	}
	return fmt.Sprintf("%020d-%s", nanos, r), nil
}

// revisionBump raises restored revisions past anything a client may have seen: the snapshot's revision plus
// the bump must exceed the current revision by the floor, so no watcher ever sees the revision go backwards.
func revisionBump(snapshotRev, currentRev int64) uint64 {
	bump := int64(revisionBumpFloor)
	if currentRev > snapshotRev {
		bump += currentRev - snapshotRev
	}
	return uint64(bump)
}

type restoreParams struct {
	Path       string `json:"path"`
	SHA256     string `json:"sha256"`
	Target     string `json:"target"`
	SkipBackup bool   `json:"skip-backup"`
	BackupID   string `json:"backup-id"`
}

// restoreAction replaces the whole cluster's data with a snapshot. Everything that can be wrong with the
// input is checked, and the new data dir is written aside, before anything is stopped.
func (c *unitContext) restoreAction() error {
	if !c.leader {
		return fmt.Errorf("restore runs on the Juju leader only: juju run %s/leader restore", appName(c.unit))
	}
	if c.peers == nil || c.peers.App[keyClusterID] == "" {
		return fmt.Errorf("the cluster has not started yet; wait until the units are active, then restore")
	}
	var p restoreParams
	if err := goops.GetActionParams(&p); err != nil {
		return err
	}
	staging, err := os.MkdirTemp(filepath.Dir(c.paths.DataDir), ".etcd-restore-")
	if err != nil {
		return fmt.Errorf("creating a staging dir next to %s: %w", c.paths.DataDir, err)
	}
	defer os.RemoveAll(staging)
	var src string
	switch p.BackupID = strings.TrimSpace(p.BackupID); {
	case p.BackupID != "" && p.Path != "":
		return fmt.Errorf("give either backup-id (a backup in S3) or path (a file on the unit), not both")
	case p.BackupID != "":
		if src, _, err = c.downloadBackup(p.BackupID, staging); err != nil {
			return fmt.Errorf("%w (nothing was changed)", err)
		}
	default:
		if src, err = c.snapshotSource(p.Path); err != nil {
			return err
		}
	}
	if p.SHA256 != "" {
		sum, _, err := etcd.FileSHA256(src)
		if err != nil {
			return err
		}
		if !strings.EqualFold(sum, strings.TrimSpace(p.SHA256)) {
			return fmt.Errorf("%s has sha256 %s, not %s; check you have the right file (nothing was changed)", src, sum, p.SHA256)
		}
	}
	db, err := etcd.UnpackSnapshot(src, staging)
	if err != nil {
		return fmt.Errorf("%w; supply a snapshot taken with the snapshot action (nothing was changed)", err)
	}
	st, err := etcd.SnapshotFileStatus(db)
	if err != nil {
		return fmt.Errorf("%w; supply a snapshot taken with the snapshot action (nothing was changed)", err)
	}
	ctx, cancel := context.WithTimeout(c.ctx, restoreTimeout)
	defer cancel()
	current := c.currentRevision(ctx)
	token, err := randomToken(16)
	if err != nil {
		return err
	}
	bump := revisionBump(st.Revision, current)
	restored := filepath.Join(staging, "data")
	if err := etcd.RestoreSnapshot(etcd.RestoreOptions{SnapshotPath: db, DataDir: restored, Name: c.memberName(),
		PeerURL: c.peerURL(), Token: token, RevisionBump: bump}); err != nil {
		return fmt.Errorf("%w (nothing was changed)", err)
	}
	if !p.SkipBackup {
		if err := writableDir(c.hostPath(p.Target)); err != nil {
			return fmt.Errorf("the backup target is not usable (%v); fix target or pass skip-backup=true (nothing was changed)", err)
		}
	}
	_ = goops.ActionLogf("snapshot verified: revision %d, %d keys; replacing the cluster", st.Revision, st.TotalKeys)

	// From here on the old cluster is taken apart: its other members are removed (so they stop serving old
	// data at once), this member is stopped and its data replaced.
	c.removeOtherMembers(ctx)
	if err := c.systemctl("stop", serviceName); err != nil {
		return err
	}
	results := map[string]string{}
	if !p.SkipBackup && !c.dataDirEmpty() {
		backup, err := c.backupDataDir(c.hostPath(p.Target))
		if err != nil {
			return fmt.Errorf("%w; etcd is stopped with its data intact: fix the target or pass skip-backup=true, "+
				"then run restore again", err)
		}
		results["backup.path"], results["backup.sha256sum"] = backup.Path, backup.SHA256
	}
	if err := os.RemoveAll(c.paths.DataDir); err != nil {
		return fmt.Errorf("removing the old data dir: %w", err)
	}
	if err := os.Rename(restored, c.paths.DataDir); err != nil {
		return fmt.Errorf("moving the restored data into %s: %w", c.paths.DataDir, err)
	}
	epoch, err := newEpoch(c.now, c.peers.App[keyEpoch])
	if err != nil {
		return err
	}
	clusterID, err := c.startAsNewCluster(ctx, token, epoch)
	if err != nil {
		return err
	}
	results["cluster-id"] = clusterID
	results["revision"] = strconv.FormatInt(st.Revision+int64(bump), 10)
	results["snapshot-revision"] = strconv.FormatInt(st.Revision, 10)
	results["total-keys"] = strconv.Itoa(st.TotalKeys)
	results["hash"] = strconv.FormatUint(uint64(st.Hash), 10)
	results["result"] = "restored; the other units rejoin as learners"
	return goops.SetActionResults(results)
}

// snapshotSource is the file to restore: the path param, else the snapshot resource.
func (c *unitContext) snapshotSource(path string) (string, error) {
	if path != "" {
		path = c.hostPath(path)
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("snapshot %s: %w; give the path of a snapshot on this unit", path, err)
		}
		return path, nil
	}
	res, err := goops.GetResource("snapshot")
	if err != nil || strings.TrimSpace(res) == "" {
		return "", fmt.Errorf("no snapshot given: pass path=<file on %s>, or attach one with "+
			"`juju attach-resource %s snapshot=<file>` (%v)", c.unit, appName(c.unit), err)
	}
	res = strings.TrimSpace(res)
	if fi, err := os.Stat(res); err != nil || fi.Size() == 0 {
		return "", fmt.Errorf("the snapshot resource is empty; attach a snapshot with `juju attach-resource %s snapshot=<file>`",
			appName(c.unit))
	}
	return res, nil
}

// currentRevision is the old cluster's revision when it answers, 0 otherwise (the bump floor then applies).
func (c *unitContext) currentRevision(ctx context.Context) int64 {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cli, err := c.dialVoters(rctx)
	if err != nil {
		return 0
	}
	defer cli.Close()
	rev, err := cli.Revision(rctx)
	if err != nil {
		goops.LogWarningf("reading the current revision before restore: %v", err)
		return 0
	}
	return rev
}

// removeOtherMembers takes every other member out of the old cluster; a removed member stops serving. When
// the old cluster has no quorum this cannot be done, and the other units stop their members when they see
// the new epoch.
func (c *unitContext) removeOtherMembers(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cli, err := c.dial(rctx, []string{c.clientURL()})
	if err != nil {
		goops.LogWarningf("not removing the old members: %v", err)
		return
	}
	defer cli.Close()
	members, err := cli.Members(rctx)
	if err != nil {
		goops.LogWarningf("not removing the old members: %v", err)
		return
	}
	for _, m := range members {
		if slices.Contains(m.PeerURLs, c.peerURL()) {
			continue
		}
		if err := cli.Remove(rctx, m.ID); err != nil {
			goops.LogWarningf("removing old member %s: %v", plan.MemberLabel(m), err)
		}
	}
}

// writableDir creates dir if needed and proves a file can be written there.
func writableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".etcd-restore-check-")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// backupDataDir keeps the replaced data as the classic charm named it.
func (c *unitContext) backupDataDir(target string) (takenSnapshot, error) {
	if err := os.MkdirAll(target, 0o700); err != nil {
		return takenSnapshot{}, fmt.Errorf("creating %s: %w", target, err)
	}
	path := filepath.Join(target, "etcd-data-"+c.now.UTC().Format("20060102-150405")+".tar.gz")
	if err := etcd.ArchiveDir(c.paths.DataDir, path); err != nil {
		return takenSnapshot{}, err
	}
	if err := c.handOver(path); err != nil {
		return takenSnapshot{}, err
	}
	sum, size, err := etcd.FileSHA256(path)
	return takenSnapshot{Path: path, SHA256: sum, Size: size}, err
}

// startAsNewCluster starts this member as the only member of a new cluster identity (the data dir is already
// in place), makes sure the charm's root user and authentication are on, and publishes the new identity. It
// returns the cluster ID.
func (c *unitContext) startAsNewCluster(ctx context.Context, token, epoch string) (string, error) {
	b := bootstrapState{State: etcd.ClusterStateNew, Token: token,
		InitialCluster: []etcd.Member{{Name: c.memberName(), PeerURL: c.peerURL()}}}
	if err := c.startAs(b); err != nil {
		return "", err
	}
	return c.publishNewIdentity(ctx, token, epoch)
}

// publishNewIdentity turns auth back on (the data may come from a cluster that had it off, or from another
// application whose root password differs), then records the identity as a request in this unit's bag, and
// publishes it at once when this unit still leads.
func (c *unitContext) publishNewIdentity(ctx context.Context, token, epoch string) (string, error) {
	cli, err := c.dial(ctx, []string{c.clientURL()})
	if err != nil {
		return "", err
	}
	defer cli.Close()
	if err := c.enableAuth(ctx, cli); err != nil {
		return "", err
	}
	resp, err := cli.Raw().MemberList(ctx)
	if err != nil {
		return "", fmt.Errorf("reading the new cluster ID: %w", err)
	}
	rec := identityRecord{Epoch: epoch, ClusterID: strconv.FormatUint(resp.Header.ClusterId, 16), Token: token}
	raw, err := json.Marshal(rec)
	if err != nil {
		return "", err
	}
	// Unit state first, then the applied epoch: from then on this unit keeps its member whatever the
	// application bag says, and any later hook can put the request in the bag if this one dies first.
	if err := setState(identityRequestState, string(raw)); err != nil {
		return "", fmt.Errorf("recording the new identity: %w", err)
	}
	if err := setState(appliedEpochState, epoch); err != nil {
		return "", fmt.Errorf("recording the new epoch: %w", err)
	}
	if err := c.recordIdentityRequest(); err != nil {
		return "", err
	}
	if c.leader {
		// Leadership may have moved since the action began: then the bag holds the request and the unit that
		// leads now publishes it in its next hook.
		if err := c.adoptIdentity(); err != nil {
			goops.LogWarningf("publishing the new identity now (the leader publishes it at its next hook): %v", err)
		}
	}
	return rec.ClusterID, nil
}

// identityRecord is the request as unit state keeps it.
type identityRecord struct {
	Epoch     string `json:"epoch"`
	ClusterID string `json:"cluster-id"`
	Token     string `json:"token,omitempty"`
}

// recordIdentityRequest puts the identity this unit started, and still runs, in its bag: as a voter of that
// epoch (so that others join through it) and as a request for the leader. Every hook calls it; it writes only
// what is missing.
func (c *unitContext) recordIdentityRequest() error {
	var rec identityRecord
	if raw := getState(identityRequestState); raw == "" || json.Unmarshal([]byte(raw), &rec) != nil {
		return nil
	}
	if rec.Epoch == "" || getState(appliedEpochState) != rec.Epoch || c.peers.App[keyEpoch] > rec.Epoch {
		return nil // not started through (the hook died before the epoch was applied), or since replaced
	}
	if c.peers.Self[keyRebuildRequest] == rec.Epoch {
		return nil
	}
	return c.peers.setUnit(map[string]string{keyMemberState: stateVoter, keyMemberName: c.memberName(),
		keyEpoch: rec.Epoch, keyRebuildRequest: rec.Epoch, keyRequestClusterID: rec.ClusterID, keyRequestToken: rec.Token})
}

// adoptIdentity (leader) publishes the newest identity any unit started, this one included, so that every
// other unit follows it.
func (c *unitContext) adoptIdentity() error {
	units, err := c.peers.Units()
	if err != nil {
		return err
	}
	requests := []plan.IdentityRequest{identityRequestOf(c.unit, c.peers.Self)}
	for u, bag := range units {
		requests = append(requests, identityRequestOf(u, bag))
	}
	req, ok := plan.AdoptIdentity(c.peers.App[keyEpoch], requests)
	if !ok {
		return nil
	}
	goops.LogInfof("publishing the cluster identity started on %s (epoch %s)", req.Unit, req.Epoch)
	app := map[string]string{keyEpoch: req.Epoch, keySeed: req.Unit}
	if req.ClusterID != "" {
		app[keyClusterID] = req.ClusterID
	}
	if req.Token != "" {
		app[keyClusterToken] = req.Token
	}
	return c.peers.setApp(app)
}

func identityRequestOf(unit string, bag map[string]string) plan.IdentityRequest {
	return plan.IdentityRequest{Unit: unit, Epoch: bag[keyRebuildRequest], ClusterID: bag[keyRequestClusterID],
		Token: bag[keyRequestToken]}
}

// followEpoch wipes this member when the cluster was restored or rebuilt since it joined; ensureMember then
// joins the new cluster as a learner, like a new unit.
func (c *unitContext) followEpoch() error {
	want := c.peers.App[keyEpoch]
	if want == "" {
		return nil
	}
	applied := getState(appliedEpochState) // a missing key means no epoch yet
	if applied >= want {
		return nil // joined this one, or rebuilt here more recently and the leader has yet to adopt it
	}
	b, err := c.loadBootstrap()
	if err != nil {
		return err
	}
	if b != nil || !c.dataDirEmpty() {
		goops.LogInfof("the cluster was restored or rebuilt (epoch %s): wiping this member to rejoin as a learner", want)
		_ = goops.SetUnitStatus(goops.StatusMaintenance, "the cluster was restored or rebuilt; rejoining as a new member")
		if err := c.stopAndWipe(); err != nil {
			return err
		}
	}
	if err := c.peers.setUnit(map[string]string{keyMemberState: "", keyEpoch: want}); err != nil {
		return err
	}
	if err := setState(appliedEpochState, want); err != nil {
		return fmt.Errorf("recording epoch %s: %w", want, err)
	}
	return nil
}

// epochVoterEndpoints are the voters that joined the current identity: right after a restore the other units
// still say voter until they have wiped, and joining through them would join the old cluster.
func (c *unitContext) epochVoterEndpoints() ([]string, error) {
	units, err := c.peers.Units()
	if err != nil {
		return nil, err
	}
	epoch := c.peers.App[keyEpoch]
	var eps []string
	for _, u := range slices.Sorted(maps.Keys(units)) {
		bag := units[u]
		if bag[keyMemberState] == stateVoter && bag[keyClientURL] != "" && bag[keyEpoch] == epoch {
			eps = append(eps, bag[keyClientURL])
		}
	}
	return eps, nil
}

// removedFromCluster reports whether the running cluster no longer lists this member. A hook that began
// before a restore or rebuild was published sees the old epoch; it must not keep restarting a member the
// leader removed (etcd exits at once) but wait for the hook that brings the new epoch.
func (c *unitContext) removedFromCluster() bool {
	endpoints, err := c.voterEndpoints(false)
	if err != nil || c.dataDirEmpty() || len(endpoints) == 0 {
		return false
	}
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
	defer cancel()
	cli, err := c.dial(ctx, endpoints)
	if err != nil {
		return false
	}
	defer cli.Close()
	members, err := cli.Members(ctx)
	if err != nil {
		return false // no verdict without a cluster that answers: start as usual
	}
	_, ok := findByPeerURL(members, c.peerURL())
	return !ok
}
