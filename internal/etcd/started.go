package etcd

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// StartRecord is what the running etcd was started with: digests of its config file and of its client trust
// bundle as they were when it started, and the etcd version of the binary that started. etcd reads both files
// only at start, so the files on disk say what etcd will run with after its next start, and only this record
// says what it runs with now. The charm compares it with what it wants and restarts the member until they
// match; a restart it never got to, or one that failed, is found again by the next hook.
type StartRecord struct {
	Config  string `json:"config"`
	Trust   string `json:"trust"`
	Version string `json:"version"`
}

// StartRecordFile is where the record of a member started with configFile lives: beside the config file,
// which only the charm writes.
func StartRecordFile(configFile string) string {
	return filepath.Join(filepath.Dir(configFile), "etcd.started.json")
}

// Digest names a file's content in a start record.
func Digest(content []byte) string {
	sum := sha256.Sum256(content)
	return hex.EncodeToString(sum[:16])
}

// RecordStart is run by etcd's own process just before etcd reads configFile: it reads the config file and the
// client trust bundle that file names, and records their digests and version. It fails when it cannot record,
// so that a running etcd always has a record that is its own.
func RecordStart(configFile, version string) error {
	cfg, err := os.ReadFile(configFile)
	if err != nil {
		return fmt.Errorf("reading %s: %w", configFile, err)
	}
	var parsed startedConfig
	if err := yaml.Unmarshal(cfg, &parsed); err != nil {
		return fmt.Errorf("parsing %s: %w", configFile, err)
	}
	rec := StartRecord{Config: Digest(cfg), Version: version}
	if path := parsed.ClientTransportSecurity.TrustedCAFile; path != "" {
		trust, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading the client trust bundle %s: %w", path, err)
		}
		rec.Trust = Digest(trust)
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = WriteFile(StartRecordFile(configFile), raw, ModeConfig)
	return err
}

// startedConfig is the part of the config file RecordStart needs.
type startedConfig struct {
	ClientTransportSecurity securitySection `yaml:"client-transport-security"`
}

// ReadStartRecord returns the record of the member started with configFile, and false when there is none
// (never started by a binary that records, or the record is unreadable: either way nothing is known).
func ReadStartRecord(configFile string) (StartRecord, bool) {
	raw, err := os.ReadFile(StartRecordFile(configFile))
	if err != nil {
		return StartRecord{}, false
	}
	var rec StartRecord
	if json.Unmarshal(raw, &rec) != nil {
		return StartRecord{}, false
	}
	return rec, true
}

// RemoveStartRecord forgets what a stopped member ran with (its data is being wiped).
func RemoveStartRecord(configFile string) error {
	err := os.Remove(StartRecordFile(configFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
