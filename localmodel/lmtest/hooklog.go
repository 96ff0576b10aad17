package lmtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// HookRecord is one line of the test charm's hooks.jsonl.
type HookRecord struct {
	Hook   string            `json:"hook"`
	Action string            `json:"action"`
	Unit   string            `json:"unit"`
	Leader bool              `json:"leader"`
	Env    map[string]string `json:"env"`
	Calls  []struct {
		Fn     string   `json:"fn"`
		Args   []string `json:"args"`
		Result any      `json:"result"`
		Error  string   `json:"error"`
	} `json:"calls"`
}

// CharmLog reads the test charm's record of every hook and action it ran in a unit's root.
func CharmLog(root string) ([]HookRecord, error) {
	f, err := os.Open(filepath.Join(root, "var/log/testcharm/hooks.jsonl"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	var out []HookRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r HookRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("parsing hooks.jsonl: %w", err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}
