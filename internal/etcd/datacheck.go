package etcd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// ErrDataInUse means another process (etcd itself) holds the database, so it could not be checked.
var ErrDataInUse = errors.New("the database is held by a running etcd")

// dataLockWait bounds how long CheckData waits for etcd's lock on the database: a member between two of
// systemd's restarts may start again while it is being checked.
const dataLockWait = 2 * time.Second

// CheckData checks a stopped member's data as etcd reads it at start, after an unclean exit: the WAL reads
// from its newest snapshot to its end with every record's crc intact (DataDirIdentity), and the bbolt
// database opens and every page it reaches reads back as the page it should be. It returns ErrNoData for a data
// dir that holds nothing, ErrDataInUse when etcd holds the database, and otherwise the first fault found.
// A flipped byte inside a value passes both; etcd's initial corruption check against its peers finds that
// one when the member starts.
func CheckData(dataDir string) (err error) {
	if _, _, err := DataDirIdentity(dataDir); err != nil {
		return err
	}
	db := filepath.Join(dataDir, "member", "snap", "db")
	if _, err := os.Stat(db); err != nil {
		return fmt.Errorf("the WAL is there but the database %s is not: %w", db, err)
	}
	// bbolt panics on some malformed pages; a corrupt database must be reported, not crash the charm.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("database %s is corrupt: %v", db, r)
		}
	}()
	b, err := bolt.Open(db, 0o400, &bolt.Options{ReadOnly: true, Timeout: dataLockWait})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return ErrDataInUse
	}
	if err != nil {
		return fmt.Errorf("database %s does not open: %w", db, err)
	}
	defer b.Close()
	return b.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, bucket *bolt.Bucket) error {
			return walkBucket(bucket)
		})
	})
}

// walkBucket reads every key and value under bucket, nested buckets included, so that bbolt visits every
// page the database reaches; a torn page makes bbolt panic, in this goroutine, where CheckData recovers it.
// (bbolt's own Tx.Check panics in a goroutine of its own on such pages, which no caller can recover.)
func walkBucket(bucket *bolt.Bucket) error {
	return bucket.ForEach(func(k, v []byte) error {
		if v == nil {
			if nested := bucket.Bucket(k); nested != nil {
				return walkBucket(nested)
			}
		}
		return nil
	})
}
