package etcd

import (
	"fmt"
	"os"
	"path/filepath"
)

// Credentials are the client TLS material the classic interfaces carry: PEM text, sent as raw strings.
type Credentials struct {
	ClientCert string
	ClientKey  string
	ClientCA   string
}

// Complete reports whether all three PEMs are present, the condition classic requirers call tls.available.
func (c Credentials) Complete() bool {
	return c.ClientCert != "" && c.ClientKey != "" && c.ClientCA != ""
}

// Save writes the three PEMs, the key readable by its owner only. The argument order follows the classic
// reactive interface (key, cert, ca) so code ported from it keeps its meaning.
func (c Credentials) Save(keyPath, certPath, caPath string) error {
	files := []struct {
		path, content string
		mode          os.FileMode
	}{
		{keyPath, c.ClientKey, 0o600},
		{certPath, c.ClientCert, 0o644},
		{caPath, c.ClientCA, 0o644},
	}
	for _, f := range files {
		if err := writeFileAtomic(f.path, []byte(f.content), f.mode); err != nil {
			return fmt.Errorf("saving etcd client credentials: %w", err)
		}
	}
	return nil
}

// writeFileAtomic replaces path in one rename, so a reader never sees half a PEM or a key with loose
// permissions.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("creating a temporary file for %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("setting the mode of %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	return nil
}
