package etcd

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
)

// SnapshotStatus is what etcdutl's snapshot status reports about a snapshot file.
type SnapshotStatus struct {
	Hash      uint32 // crc32 over every bucket, key and value: equal hashes mean equal data
	Revision  int64
	TotalKeys int
	TotalSize int64
	Version   string // storage version of the snapshot ("" before 3.6)
}

// ErrBadSnapshot marks a file that is not a usable etcd snapshot: the operator has to supply another.
var ErrBadSnapshot = errors.New("not a valid etcd snapshot")

// SnapshotFileStatus checks the database's integrity and, when the file carries etcd's trailing sha256 (every
// snapshot taken through the snapshot API does), that the digest matches, then reports hash, revision and keys.
func SnapshotFileStatus(dbPath string) (st SnapshotStatus, err error) {
	// bbolt panics on some malformed pages; a corrupt upload must fail the action, not crash the charm.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", ErrBadSnapshot, dbPath, r)
		}
	}()
	if err := verifyTrailer(dbPath); err != nil {
		return st, err
	}
	s, err := snapshot.NewV3(zap.NewNop()).Status(dbPath)
	if err != nil {
		return st, fmt.Errorf("%w: %s: %v", ErrBadSnapshot, dbPath, err)
	}
	return SnapshotStatus{Hash: s.Hash, Revision: s.Revision, TotalKeys: s.TotalKey, TotalSize: s.TotalSize,
		Version: s.Version}, nil
}

// verifyTrailer checks the sha256 etcd appends to a streamed snapshot. A bare db file (a whole number of
// 512-byte sectors) has none and passes; the bolt integrity check still applies to it.
func verifyTrailer(dbPath string) error {
	f, err := os.Open(dbPath)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	size := fi.Size()
	switch {
	case size < 512:
		return fmt.Errorf("%w: %s is only %d bytes", ErrBadSnapshot, dbPath, size)
	case size%512 == 0:
		return nil
	case size%512 != sha256.Size:
		return fmt.Errorf("%w: %s has %d bytes, neither whole database pages nor pages plus a sha256 (truncated?)",
			ErrBadSnapshot, dbPath, size)
	}
	h := sha256.New()
	if _, err := io.CopyN(h, f, size-sha256.Size); err != nil {
		return fmt.Errorf("%w: reading %s: %v", ErrBadSnapshot, dbPath, err)
	}
	want := make([]byte, sha256.Size)
	if _, err := io.ReadFull(f, want); err != nil {
		return fmt.Errorf("%w: reading %s: %v", ErrBadSnapshot, dbPath, err)
	}
	if !bytes.Equal(h.Sum(nil), want) {
		return fmt.Errorf("%w: %s fails its own sha256 (corrupted after it was taken)", ErrBadSnapshot, dbPath)
	}
	return nil
}

// RestoreOptions describe the one-member data dir RestoreSnapshot creates.
type RestoreOptions struct {
	SnapshotPath string
	DataDir      string // must not exist or be empty
	Name         string
	PeerURL      string
	Token        string // a new initial-cluster-token: the restored cluster gets a new cluster ID
	// RevisionBump raises every revision so that clients that watched the old cluster never see the
	// revision go backwards; the bumped revisions are marked compacted, so such clients resync.
	RevisionBump uint64
}

// RestoreSnapshot writes a fresh data dir from a snapshot (etcdutl snapshot restore), verifying the
// snapshot's sha256 when it has one.
func RestoreSnapshot(o RestoreOptions) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: restoring %s: %v", ErrBadSnapshot, o.SnapshotPath, r)
		}
	}()
	fi, err := os.Stat(o.SnapshotPath)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	withHash := fi.Size()%512 == sha256.Size // etcdutl checks the digest itself when there is one
	err = snapshot.NewV3(zap.NewNop()).Restore(snapshot.RestoreConfig{
		SnapshotPath:        o.SnapshotPath,
		Name:                o.Name,
		OutputDataDir:       o.DataDir,
		PeerURLs:            []string{o.PeerURL},
		InitialCluster:      o.Name + "=" + o.PeerURL,
		InitialClusterToken: o.Token,
		SkipHashCheck:       !withHash,
		RevisionBump:        o.RevisionBump,
		MarkCompacted:       o.RevisionBump > 0,
	})
	if err != nil {
		return fmt.Errorf("restoring %s into %s: %w", o.SnapshotPath, o.DataDir, err)
	}
	return nil
}

// SnapshotArchiveName is the classic charm's name for a packed snapshot, so existing scripts find it.
func SnapshotArchiveName(t time.Time) string {
	return "etcd-snapshot-" + t.UTC().Format("2006-01-02-15.04.05") + ".tar.gz"
}

// IsSnapshotArchive reports whether a file name is one SnapshotArchiveName gives: a finished archive, never
// PackSnapshot's temporary file.
func IsSnapshotArchive(name string) bool {
	return strings.HasPrefix(name, "etcd-snapshot-") && strings.HasSuffix(name, ".tar.gz")
}

// PackSnapshot writes a gzipped tarball holding dbPath as ./db, the layout the classic charm used.
func PackSnapshot(dbPath, archive string) error {
	in, err := os.Open(dbPath)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	tmp := archive + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	gz := gzip.NewWriter(out)
	tw := tar.NewWriter(gz)
	hdr := &tar.Header{Name: "./db", Mode: 0o600, Size: fi.Size(), ModTime: fi.ModTime()}
	err = tw.WriteHeader(hdr)
	if err == nil {
		_, err = io.Copy(tw, in)
	}
	err = firstError(err, tw.Close(), gz.Close(), out.Sync(), out.Close())
	if err != nil {
		return fmt.Errorf("packing %s into %s: %w", dbPath, archive, err)
	}
	return os.Rename(tmp, archive)
}

// UnpackSnapshot returns the path of the database inside path: path itself for a bare snapshot, or the db
// extracted into dir from a tarball such as PackSnapshot (or the classic charm) writes.
func UnpackSnapshot(path, dir string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadSnapshot, err)
	}
	defer f.Close()
	magic := make([]byte, 2)
	if _, err := io.ReadFull(f, magic); err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		return path, nil // not gzip: a bare snapshot, checked by SnapshotFileStatus
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	gz, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrBadSnapshot, path, err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return "", fmt.Errorf("%w: %s has no db file inside", ErrBadSnapshot, path)
		}
		if err != nil {
			return "", fmt.Errorf("%w: %s: %v", ErrBadSnapshot, path, err)
		}
		if hdr.Typeflag != tar.TypeReg || filepath.Base(filepath.Clean(hdr.Name)) != "db" {
			continue
		}
		dst := filepath.Join(dir, "db")
		out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(out, tr)
		if err = firstError(err, out.Close()); err != nil {
			return "", fmt.Errorf("%w: extracting db from %s: %v", ErrBadSnapshot, path, err)
		}
		return dst, nil
	}
}

func firstError(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// ArchiveDir packs the tree under dir into a gzipped tarball at archive, paths relative to dir (tar's
// `-C dir .`): the backup of a data dir a restore replaces.
func ArchiveDir(dir, archive string) error {
	out, err := os.OpenFile(archive, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	gz := gzip.NewWriter(out)
	tw := tar.NewWriter(gz)
	walkErr := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name = "./" + filepath.ToSlash(rel)
		if err := tw.WriteHeader(hdr); err != nil || !fi.Mode().IsRegular() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err := firstError(walkErr, tw.Close(), gz.Close(), out.Sync(), out.Close()); err != nil {
		os.Remove(archive)
		return fmt.Errorf("archiving %s into %s: %w", dir, archive, err)
	}
	return nil
}

// FileSHA256 is the sha256 (hex) and size of a file: what a snapshot's or backup's integrity is checked by.
func FileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
