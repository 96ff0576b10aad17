package charm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gruyaume/goops"
	"go.etcd.io/etcd/api/v3/version"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/s3backup"
)

// Backups in S3 object storage, through the s3 interface of an s3-integrator (1.x answers in plain relation
// data, 2.x puts the credentials in a secret named by secret-extra; both are read here). The Juju leader
// takes them: the periodic snapshots go there when related, create-backup takes one on demand, and restore
// takes a backup-id. The relation's state (not related, waiting, bad data, refused, working) is the leader's
// status to show.
const (
	s3Endpoint = "s3-credentials"
	// s3CheckState remembers the last look at the bucket: for which location, when, and what it said.
	s3CheckState = "s3-check"
	// A location that failed its check is looked at again this often (not in every hook: an unreachable
	// endpoint costs a timeout each time).
	s3RecheckFailed  = 5 * time.Minute
	s3CheckTimeout   = 20 * time.Second
	s3UploadTimeout  = 10 * time.Minute
	s3ListTimeout    = time.Minute
	s3RestoreTimeout = 15 * time.Minute
	s3UploadDir      = "/var/lib/etcd-snapshots/.s3-upload"
	// orphanAge is how old an archive without a manifest must be before retention deletes it: far beyond
	// any upload's time.
	orphanAge = 24 * time.Hour
)

// backupConfig holds the bucket retention options.
type backupConfig struct {
	Retention     int `json:"backup_retention"`
	RetentionDays int `json:"backup_retention_days"`
}

func (bc backupConfig) problems() []Problem {
	var ps []Problem
	if bc.Retention < 1 || bc.Retention > 10000 {
		ps = append(ps, Problem{Option: "backup_retention", Reason: fmt.Sprintf("%d is outside 1-10000", bc.Retention)})
	}
	if bc.RetentionDays < 0 || bc.RetentionDays > 36500 {
		ps = append(ps, Problem{Option: "backup_retention_days", Reason: fmt.Sprintf("%d is outside 0-36500 (0: no age limit)", bc.RetentionDays)})
	}
	return ps
}

// retention joins the charm's options with the provider's delete-older-than-days: the stricter age wins.
func (bc backupConfig) retention(l s3backup.Location) s3backup.Retention {
	days := bc.RetentionDays
	if l.MaxAgeDays > 0 && (days == 0 || l.MaxAgeDays < days) {
		days = l.MaxAgeDays
	}
	return s3backup.Retention{Keep: bc.Retention, MaxAge: time.Duration(days) * 24 * time.Hour}
}

// s3Relation is what the s3-credentials relation says now. Related is false when there is none; Err is an
// s3backup.Incomplete while the provider has not answered, or what is wrong with its answer.
type s3Relation struct {
	Related    bool
	RelationID string
	Location   s3backup.Location
	Err        error
}

func (r s3Relation) usable() bool { return r.Related && r.Err == nil }

// readS3 reads the provider's application bag (and its secret, for 2.x providers).
func (c *unitContext) readS3() (s3Relation, error) {
	ids, err := c.optionalRelationIDs(s3Endpoint)
	if err != nil || len(ids) == 0 {
		return s3Relation{}, err
	}
	r := s3Relation{Related: true, RelationID: ids[0]}
	bag, err := remoteAppBag(r.RelationID)
	if err != nil {
		return s3Relation{}, err
	}
	var secret map[string]string
	if uri := strings.TrimSpace(bag[s3backup.KeySecretExtra]); uri != "" {
		if len(uri) > 256 || !strings.HasPrefix(uri, "secret:") {
			r.Err = s3backup.ProviderError{Reason: "secret-extra is not a Juju secret URI; check the s3-integrator's credentials option"}
			return r, nil
		}
		// refresh: follow the provider's credential rotation (a new revision comes with secret-changed).
		if secret, err = goops.GetSecretByID(uri, false, true); err != nil {
			r.Err = s3backup.ProviderError{Reason: fmt.Sprintf("cannot read the credentials secret %s (%s); the s3-integrator must grant it to this relation", uri, plan.ShortErr(err))}
			return r, nil
		}
	}
	r.Location, r.Err = s3backup.ParseLocation(bag, secret)
	return r, nil
}

// remoteAppBag reads the other application's bag on a relation, by a remote unit's name when one is known.
func remoteAppBag(relationID string) (map[string]string, error) {
	units, err := goops.ListRelationUnits(relationID)
	if err != nil {
		return nil, fmt.Errorf("listing the units of relation %s: %w", relationID, err)
	}
	var name string
	if len(units) > 0 {
		name = units[0]
	} else if name, err = goops.GetRelationApp(relationID); err != nil {
		return nil, fmt.Errorf("naming the application on relation %s: %w", relationID, err)
	}
	bag, err := goops.GetAppRelationData(relationID, name)
	if err != nil {
		return nil, fmt.Errorf("reading the provider's bag on relation %s: %w", relationID, err)
	}
	return bag, nil
}

// requestS3 is the leader's side of the handshake. s3-integrator 1.x answers only once `bucket` appears in
// our bag (its library writes relation-<id>; so do we); 2.x reads requested-secrets to send the credentials
// in a secret, and honours the bucket.
func (c *unitContext) requestS3(relationID string) error {
	_, n, _ := strings.Cut(relationID, ":")
	data := map[string]string{
		s3backup.KeyBucket:           "relation-" + n,
		s3backup.KeyRequestedSecrets: `["access-key", "secret-key"]`,
		s3backup.KeyLibVersion:       "1.0",
	}
	raw, _ := json.Marshal(data)
	return onceUntilChanged("s3-request", relationID+" "+string(raw), func() error {
		return goops.SetAppRelationData(relationID, data)
	})
}

// s3Check is the leader's last look at the bucket.
type s3Check struct {
	Fingerprint string    `json:"fingerprint"`
	At          time.Time `json:"at"`
	Err         string    `json:"error,omitempty"`
}

func loadS3Check() s3Check {
	var ch s3Check
	if raw := getState(s3CheckState); raw != "" {
		_ = json.Unmarshal([]byte(raw), &ch) // a damaged record only makes the next hook look again
	}
	return ch
}

func saveS3Check(ch s3Check) {
	raw, _ := json.Marshal(ch)
	if err := setState(s3CheckState, string(raw)); err != nil {
		goops.LogWarningf("recording the S3 check: %v", err)
	}
}

// recordS3 keeps the outcome of any S3 operation as the latest look at that location, and returns it.
func (c *unitContext) recordS3(l s3backup.Location, err error) s3Check {
	ch := s3Check{Fingerprint: l.Fingerprint(), At: c.now}
	if err != nil {
		ch.Err = err.Error()
	}
	saveS3Check(ch)
	return ch
}

// s3Due says whether the leader should look at the bucket now: a location it has not checked, or a failed
// check that is old enough to try again.
func s3Due(ch s3Check, fingerprint string, now time.Time) bool {
	return ch.Fingerprint != fingerprint || (ch.Err != "" && now.Sub(ch.At) >= s3RecheckFailed)
}

// tendS3 is the leader's chore for the relation: ask, check the bucket when the location is new (or failed a
// while ago), and return the problem to show, if any. It never fails the hook: the cluster does not depend
// on its backups' bucket.
func (c *unitContext) tendS3() (st goops.StatusName, msg string) {
	r, err := c.readS3()
	if err != nil {
		goops.LogWarningf("reading %s: %v", s3Endpoint, err)
		return "", ""
	}
	if !r.Related {
		return "", ""
	}
	if err := c.requestS3(r.RelationID); err != nil {
		goops.LogWarningf("asking for S3 credentials: %v", err)
	}
	var inc s3backup.Incomplete
	switch {
	case errors.As(r.Err, &inc):
		return goops.StatusActive, "backups: waiting for the s3-integrator's " + strings.Join(inc.Missing, ", ")
	case r.Err != nil:
		return goops.StatusBlocked, s3Endpoint + ": " + r.Err.Error()
	}
	ch := loadS3Check()
	if s3Due(ch, r.Location.Fingerprint(), c.now) {
		err := c.checkS3(r.Location)
		if err != nil {
			goops.LogWarningf("S3 check: %v", err)
		}
		ch = c.recordS3(r.Location, err)
	}
	if ch.Err != "" {
		return goops.StatusBlocked, s3Endpoint + ": " + ch.Err
	}
	return "", ""
}

func (c *unitContext) checkS3(l s3backup.Location) error {
	store, err := s3backup.Open(l)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.ctx, s3CheckTimeout)
	defer cancel()
	return store.Check(ctx)
}

// s3Store opens the related location for an action, or says how to get one.
func (c *unitContext) s3Store() (*s3backup.Store, error) {
	r, err := c.readS3()
	if err != nil {
		return nil, err
	}
	if !r.Related {
		return nil, fmt.Errorf("no object storage: relate an s3-integrator first (juju integrate %s:%s s3-integrator)", appName(c.unit), s3Endpoint)
	}
	if r.Err != nil {
		return nil, fmt.Errorf("%s: %v", s3Endpoint, r.Err)
	}
	return s3backup.Open(r.Location)
}

// uploadBackup sends a packed, verified snapshot to the bucket as a backup of the given kind.
func (c *unitContext) uploadBackup(ctx context.Context, store *s3backup.Store, s takenSnapshot, kind string) (s3backup.Manifest, error) {
	m := s3backup.Manifest{
		ID: s.Taken.UTC().Format(s3backup.IDLayout), Revision: s.Status.Revision, TotalKeys: s.Status.TotalKeys,
		Hash: s.Status.Hash, StorageVersion: s.Status.Version, EtcdVersion: version.Version,
		ClusterID: c.peers.App[keyClusterID], Model: c.getenv("JUJU_MODEL_UUID"), Application: appName(c.unit),
		Unit: c.unit, Kind: kind, Taken: s.Taken.UTC(),
	}
	m, err := store.Upload(ctx, s.Path, m)
	c.recordS3(store.Location(), err)
	return m, err
}

// pruneBackups applies retention to this application's scheduled backups.
func (c *unitContext) pruneBackups(ctx context.Context, store *s3backup.Store) {
	ms, _, err := store.List(ctx)
	if err != nil {
		goops.LogWarningf("listing backups to prune: %v", err)
		return
	}
	owner := s3backup.Owner{Model: c.getenv("JUJU_MODEL_UUID"), Application: appName(c.unit)}
	for _, m := range s3backup.ToPrune(ms, owner, c.cfg.backupConfig.retention(store.Location()), c.now) {
		if err := store.Delete(ctx, m.ID); err != nil {
			goops.LogWarningf("pruning backup %s: %v", m.ID, err)
			return
		}
		goops.LogInfof("pruned backup %s (retention)", m.ID)
	}
	// Archives whose manifest never came (the upload was killed) are this application's to clean up once
	// no upload could still be finishing them.
	orphans, err := store.Orphans(ctx, owner, orphanAge, c.now)
	if err != nil {
		goops.LogWarningf("listing unfinished uploads: %v", err)
		return
	}
	for _, id := range orphans {
		if err := store.DeleteOrphan(ctx, id); err != nil {
			goops.LogWarningf("deleting the unfinished upload %s: %v", id, err)
			return
		}
		goops.LogInfof("deleted the unfinished upload %s (it never got its manifest)", id)
	}
}

// periodicBackup sends the periodic snapshot just taken to the bucket, when one is related and usable.
func (c *unitContext) periodicBackup(s takenSnapshot, r *periodicRecord) {
	rel, err := c.readS3()
	if err != nil || !rel.usable() {
		return
	}
	store, err := s3backup.Open(rel.Location)
	if err == nil {
		ctx, cancel := context.WithTimeout(c.ctx, s3UploadTimeout)
		defer cancel()
		var m s3backup.Manifest
		if m, err = c.uploadBackup(ctx, store, s, s3backup.KindScheduled); err == nil {
			r.S3LastGood, r.S3BackupID, r.S3Error = s.Taken, m.ID, ""
			c.pruneBackups(ctx, store)
			return
		}
	}
	r.S3Error = err.Error()
	goops.LogWarningf("periodic backup to S3 failed: %v", err)
}

// createBackupAction takes a snapshot and stores it in the bucket as a manual backup (never pruned).
func (c *unitContext) createBackupAction() error {
	if !c.leader {
		return fmt.Errorf("create-backup runs on the Juju leader only: juju run %s/leader create-backup", appName(c.unit))
	}
	store, err := c.s3Store()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.ctx, snapshotTimeout+s3UploadTimeout)
	defer cancel()
	// The directory holds only the archive being uploaded: what an action killed mid-upload left goes now.
	dir := c.hostPath(s3UploadDir)
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clearing %s: %w", dir, err)
	}
	s, err := c.takeSnapshot(ctx, dir)
	if err != nil {
		return err
	}
	defer os.Remove(s.Path)
	_ = goops.ActionLogf("snapshot verified: revision %d, %d keys, %s; uploading to %s", s.Status.Revision,
		s.Status.TotalKeys, humanSize(s.Size), store.Location())
	m, err := c.uploadBackup(ctx, store, s, s3backup.KindManual)
	if err != nil {
		return err
	}
	return goops.SetActionResults(map[string]string{
		"backup-id":  m.ID,
		"location":   store.Location().String(),
		"object":     m.Object,
		"size":       humanSize(m.Size),
		"size-bytes": strconv.FormatInt(m.Size, 10),
		"sha256":     m.SHA256,
		"revision":   strconv.FormatInt(m.Revision, 10),
		"total-keys": strconv.Itoa(m.TotalKeys),
	})
}

// listBackupsAction lists the backups in the bucket, newest first, in charmed-etcd's table with more columns.
func (c *unitContext) listBackupsAction() error {
	store, err := c.s3Store()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.ctx, s3ListTimeout)
	defer cancel()
	ms, skipped, err := store.List(ctx)
	if err != nil {
		return err
	}
	res := map[string]string{
		"backups":  backupTable(ms, c.now),
		"count":    strconv.Itoa(len(ms)),
		"location": store.Location().String(),
	}
	if skipped > 0 {
		res["damaged-manifests"] = strconv.Itoa(skipped)
	}
	return goops.SetActionResults(res)
}

func backupTable(ms []s3backup.Manifest, now time.Time) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 1, ' ', 0)
	fmt.Fprintln(w, "backup-id\t| backup-status\t| size\t| revision\t| keys\t| age\t| kind\t| application\t| cluster-id")
	fmt.Fprintln(w, "---------\t|--------------\t|-----\t|---------\t|-----\t|----\t|-----\t|------------\t|-----------")
	for _, m := range ms {
		fmt.Fprintf(w, "%s\t| finished\t| %s\t| %d\t| %d\t| %s\t| %s\t| %s\t| %s\n", m.ID, humanSize(m.Size), m.Revision,
			m.TotalKeys, age(now.Sub(m.Taken)), m.Kind, m.Application, m.ClusterID)
	}
	w.Flush()
	return strings.TrimRight(b.String(), "\n")
}

// age is a rough duration for people: 45s, 12m, 5h, 3d.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", max(0, int(d.Seconds())))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// downloadBackup fetches backup id into dir for restore, verified against its manifest.
func (c *unitContext) downloadBackup(id, dir string) (string, s3backup.Manifest, error) {
	store, err := c.s3Store()
	if err != nil {
		return "", s3backup.Manifest{}, err
	}
	ctx, cancel := context.WithTimeout(c.ctx, s3RestoreTimeout)
	defer cancel()
	path, m, err := store.Download(ctx, id, dir)
	if err != nil {
		return "", s3backup.Manifest{}, err
	}
	_ = goops.ActionLogf("backup %s downloaded from %s and verified (sha256 %s)", id, store.Location(), m.SHA256)
	return path, m, nil
}
