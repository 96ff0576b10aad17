package charm

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/etcd"
	"github.com/etcd-charm/etcd/internal/gauges"
)

const (
	periodicSnapshotDir     = "/var/lib/etcd-snapshots"
	periodicSnapshotState   = "periodic-snapshot"
	minSnapshotInterval     = time.Minute
	periodicSnapshotTimeout = 3 * time.Minute
)

// periodicConfig holds the periodic snapshot options.
type periodicConfig struct {
	Interval  string `json:"snapshot_interval"`
	Retention int    `json:"snapshot_retention"`
}

// interval is 0 when periodic snapshots are off.
func (pc periodicConfig) interval() (time.Duration, error) {
	if strings.TrimSpace(pc.Interval) == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(pc.Interval))
	if err != nil || d < minSnapshotInterval {
		return 0, fmt.Errorf("%q is not a duration of at least 1m (e.g. 6h, 30m); empty turns periodic snapshots off", pc.Interval)
	}
	return d, nil
}

func (pc periodicConfig) problems() []Problem {
	var ps []Problem
	if _, err := pc.interval(); err != nil {
		ps = append(ps, Problem{Option: "snapshot_interval", Reason: err.Error()})
	}
	if pc.Retention < 1 || pc.Retention > 1000 {
		ps = append(ps, Problem{Option: "snapshot_retention", Reason: fmt.Sprintf("%d is outside 1-1000", pc.Retention)})
	}
	return ps
}

// periodicConfigProblems joins Config.Validate's list: a bad periodic option blocks like any other.
func (c *unitContext) periodicConfigProblems() []Problem {
	return append(c.cfg.periodicConfig.problems(), c.cfg.backupConfig.problems()...)
}

// periodicRecord is what the leader remembers about its periodic snapshots.
type periodicRecord struct {
	LastAttempt time.Time `json:"last-attempt"`
	LastGood    time.Time `json:"last-good"`
	Path        string    `json:"path,omitempty"`
	SHA256      string    `json:"sha256,omitempty"`
	Revision    int64     `json:"revision,omitempty"`
	TotalKeys   int       `json:"total-keys,omitempty"`
	Hash        uint32    `json:"hash,omitempty"`
	LastError   string    `json:"last-error,omitempty"`
	// The same snapshot sent to S3, when an s3-integrator is related.
	S3LastGood time.Time `json:"s3-last-good"`
	S3BackupID string    `json:"s3-backup-id,omitempty"`
	S3Error    string    `json:"s3-error,omitempty"`
}

func loadPeriodicRecord() periodicRecord {
	var r periodicRecord
	if raw := getState(periodicSnapshotState); raw != "" {
		_ = json.Unmarshal([]byte(raw), &r) // a damaged record only makes the next snapshot due at once
	}
	return r
}

func savePeriodicRecord(r periodicRecord) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return setState(periodicSnapshotState, string(raw))
}

// snapshotDue: a failed attempt counts too, so a broken disk is retried once per interval, not every hook.
func snapshotDue(r periodicRecord, interval time.Duration, now time.Time) bool {
	return interval > 0 && !now.Before(r.LastAttempt.Add(interval))
}

// snapshotsToPrune returns the oldest archives beyond keep, and what a snapshot killed half way left behind (its
// raw .snapshot-*.db and an archive still named .tmp): pruning runs right after this unit's own snapshot
// finished, and Juju runs one hook or action at a time on a unit, so nothing else is writing them. The names
// carry their UTC time, so name order is age order.
func snapshotsToPrune(names []string, keep int) []string {
	var archives, leftovers []string
	for _, n := range names {
		switch {
		case etcd.IsSnapshotArchive(n):
			archives = append(archives, n)
		case strings.HasPrefix(n, ".snapshot-") && strings.HasSuffix(n, ".db"),
			etcd.IsSnapshotArchive(strings.TrimSuffix(n, ".tmp")):
			leftovers = append(leftovers, n)
		}
	}
	sort.Strings(archives)
	if len(archives) > keep {
		leftovers = append(leftovers, archives[:len(archives)-keep]...)
	}
	return leftovers
}

// periodicSnapshot takes the leader's scheduled snapshot when it is due. It never fails the hook: a failure
// is recorded and shown by snapshot-status, and retried at the next interval.
func (c *unitContext) periodicSnapshot() {
	pc := c.cfg.periodicConfig
	interval, err := pc.interval()
	if err != nil || interval == 0 || !c.serviceActive() {
		return
	}
	r := loadPeriodicRecord()
	if !snapshotDue(r, interval, c.now) {
		return
	}
	r.LastAttempt = c.now
	// Bounded below the action's timeout: this runs inside an ordinary hook, ahead of the status update.
	ctx, cancel := context.WithTimeout(c.ctx, periodicSnapshotTimeout)
	defer cancel()
	dir := c.hostPath(periodicSnapshotDir)
	s, err := c.takeSnapshot(ctx, dir)
	if err != nil {
		r.LastError = err.Error()
		goops.LogWarningf("periodic snapshot failed: %v", err)
	} else {
		r.LastError = ""
		r.LastGood, r.Path, r.SHA256 = s.Taken, s.Path, s.SHA256
		r.Revision, r.TotalKeys, r.Hash = s.Status.Revision, s.Status.TotalKeys, s.Status.Hash
		c.pruneSnapshots(dir, pc.Retention)
		c.periodicBackup(s, &r)
	}
	if err := savePeriodicRecord(r); err != nil {
		goops.LogWarningf("recording the periodic snapshot: %v", err)
	}
}

func (c *unitContext) pruneSnapshots(dir string, keep int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	for _, n := range snapshotsToPrune(names, keep) {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			goops.LogWarningf("pruning old snapshot %s: %v", n, err)
		}
	}
}

func (c *unitContext) snapshotStatusAction() error {
	pc := c.cfg.periodicConfig
	interval, err := pc.interval()
	if err != nil {
		return fmt.Errorf("snapshot_interval: %v", err)
	}
	r := loadPeriodicRecord()
	res := map[string]string{"interval": "off", "retention": strconv.Itoa(pc.Retention), "directory": c.hostPath(periodicSnapshotDir)}
	if interval > 0 {
		res["interval"] = interval.String()
		res["next-due"] = r.LastAttempt.Add(interval).UTC().Format(time.RFC3339)
	}
	if !c.leader {
		res["note"] = "periodic snapshots are taken on the Juju leader; run this action there"
	}
	if !r.LastGood.IsZero() {
		res["last-good.time"] = r.LastGood.UTC().Format(time.RFC3339)
		res["last-good.path"] = r.Path
		res["last-good.sha256"] = r.SHA256
		res["last-good.revision"] = strconv.FormatInt(r.Revision, 10)
		res["last-good.total-keys"] = strconv.Itoa(r.TotalKeys)
	}
	if r.LastError != "" {
		res["last-error"] = r.LastError
	}
	if !r.S3LastGood.IsZero() {
		res["s3.last-good.time"] = r.S3LastGood.UTC().Format(time.RFC3339)
		res["s3.last-good.backup-id"] = r.S3BackupID
	}
	if r.S3Error != "" {
		res["s3.last-error"] = r.S3Error
	}
	if entries, err := os.ReadDir(c.hostPath(periodicSnapshotDir)); err == nil {
		var kept []string
		for _, e := range entries {
			if etcd.IsSnapshotArchive(e.Name()) { // not an archive still being written (.tmp)
				kept = append(kept, e.Name())
			}
		}
		res["kept"] = strings.Join(kept, ",")
	}
	return goops.SetActionResults(res)
}

// writeObservations leaves what the scrape-time gauges cannot see for themselves (the snapshot interval,
// this unit's last scheduled snapshot and S3 backup, the fsync probe taken at join) next to etcd's config; internal/gauges exports them.
// The file is rewritten only when it changes, and a failure is only logged: monitoring never fails a hook.
func (c *unitContext) writeObservations() {
	interval, _ := c.cfg.periodicConfig.interval()
	o := gauges.Observations{SnapshotIntervalSeconds: int64(interval / time.Second),
		DataDirFsyncP99Seconds: loadDiskProbe().P99.Seconds()}
	r := loadPeriodicRecord()
	for dest, at := range map[string]time.Time{"local": r.LastGood, "s3": r.S3LastGood} {
		if !at.IsZero() {
			if o.LastSuccess == nil {
				o.LastSuccess = map[string]time.Time{}
			}
			o.LastSuccess[dest] = at.UTC()
		}
	}
	if _, err := gauges.WriteObservations(c.paths.ConfigDir, o); err != nil {
		goops.LogWarningf("writing the observations the metrics gauges read: %v", err)
	}
}
