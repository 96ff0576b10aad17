package charmdir

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Unpack copies the charm at src (a .charm zip or an unpacked directory) into dest, keeping file modes.
func Unpack(src, dest string) error {
	st, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("charm %s: %w", src, err)
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dest, err)
	}
	if st.IsDir() {
		return CopyDir(src, dest)
	}
	return unzip(src, dest)
}

func unzip(src, dest string) error {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return fmt.Errorf("opening charm archive %s: %w", src, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		name := filepath.Clean(f.Name)
		if filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
			return fmt.Errorf("charm archive %s: unsafe path %q", src, f.Name)
		}
		target := filepath.Join(dest, name)
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := extract(f, target); err != nil {
			return fmt.Errorf("charm archive %s: %w", src, err)
		}
	}
	return nil
}

func extract(f *zip.File, target string) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	mode := f.Mode().Perm()
	if mode == 0 {
		mode = 0o644
	}
	return writeAtomically(target, rc, mode)
}

// CopyDir copies a directory tree, replacing files atomically so a running dispatch is never overwritten in
// place (that would fail with "text file busy").
func CopyDir(src, dest string) error {
	return eachFile(src, dest, copyFile)
}

// eachFile mirrors src's directories under dest and hands every regular file to place.
func eachFile(src, dest string, place func(path, target string, mode os.FileMode) error) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dest, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		return place(path, target, info.Mode().Perm())
	})
}

func copyFile(path, target string, mode os.FileMode) error {
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeAtomically(target, in, mode)
}

func writeAtomically(target string, r io.Reader, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(target), ".tmp-"+filepath.Base(target)+"-*")
	if err != nil {
		return err
	}
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), target)
}

// LinkDir populates dest with hard links to the files of src (copying where linking fails, e.g. across
// filesystems), so every unit gets its own charm directory without duplicating a large dispatch binary.
// Existing files are replaced by rename, never rewritten in place.
func LinkDir(src, dest string) error {
	return eachFile(src, dest, func(path, target string, mode os.FileMode) error {
		tmp := filepath.Join(filepath.Dir(target), ".link-"+filepath.Base(target))
		_ = os.Remove(tmp)
		if err := os.Link(path, tmp); err == nil {
			return os.Rename(tmp, target)
		}
		return copyFile(path, target, mode)
	})
}
