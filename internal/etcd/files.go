package etcd

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File modes the charm writes with.
const (
	ModeKey        fs.FileMode = 0o600 // private keys
	ModeCert       fs.FileMode = 0o644 // certificates and the CA bundle
	ModeConfig     fs.FileMode = 0o600 // etcd.conf.yml: not secret, but only etcd (root) needs it
	ModeUnit       fs.FileMode = 0o644 // systemd units
	ModeExecutable fs.FileMode = 0o755 // wrapper scripts
	ModeDataDir    fs.FileMode = 0o700 // etcd refuses looser data dir permissions
	ModeDir        fs.FileMode = 0o755
	ModeTLSDir     fs.FileMode = 0o700
)

// WriteFile replaces path with data atomically (temporary file in the same
// directory, fsync, rename, fsync of the directory) so a crash never leaves
// etcd a half-written certificate or config. It creates missing parent
// directories with mode 0755 and reports whether the content or mode
// changed; an unchanged file is not touched, so its mtime stays meaningful.
func WriteFile(path string, data []byte, mode fs.FileMode) (changed bool, err error) {
	old, err := os.ReadFile(path)
	switch {
	case err == nil:
		if bytes.Equal(old, data) {
			info, err := os.Stat(path)
			if err != nil {
				return false, fmt.Errorf("checking %s: %w", path, err)
			}
			if info.Mode().Perm() == mode.Perm() {
				return false, nil
			}
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return false, fmt.Errorf("reading %s: %w", path, err)
	}

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, ModeDir); err != nil {
		return false, fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	// Set the mode before writing so a key never exists world-readable.
	if err := tmp.Chmod(mode.Perm()); err != nil {
		tmp.Close()
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, fmt.Errorf("syncing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("replacing %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return true, err
	}
	return true, nil
}

// EnsureDir creates dir (and parents) and sets its mode, reporting whether
// anything changed.
func EnsureDir(dir string, mode fs.FileMode) (changed bool, err error) {
	info, err := os.Stat(dir)
	switch {
	case err == nil:
		if !info.IsDir() {
			return false, fmt.Errorf("%s exists and is not a directory", dir)
		}
		if info.Mode().Perm() == mode.Perm() {
			return false, nil
		}
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, mode.Perm()); err != nil {
			return false, fmt.Errorf("creating %s: %w", dir, err)
		}
	default:
		return false, fmt.Errorf("checking %s: %w", dir, err)
	}
	// MkdirAll is subject to the umask; chmod makes the mode exact.
	if err := os.Chmod(dir, mode.Perm()); err != nil {
		return false, fmt.Errorf("setting mode of %s: %w", dir, err)
	}
	return true, nil
}

// syncDir makes a rename durable: without it a power loss can forget the
// new directory entry even though the file data reached the disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return nil
}
