package systemd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// EnvFile is one EnvironmentFile= setting.
type EnvFile struct {
	Path     string
	Optional bool // "-" prefix: a missing file is not an error
}

// parseEnvironment splits one Environment= value into KEY=VALUE assignments;
// quoting groups an assignment containing spaces.
func parseEnvironment(value string) ([]string, error) {
	words, err := splitWords(value)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, w := range words {
		key, _, ok := strings.Cut(w.text, "=")
		if !ok || key == "" || varNameLen(key) != len(key) {
			return nil, fmt.Errorf("invalid environment assignment %q", w.text)
		}
		out = append(out, w.text)
	}
	return out, nil
}

// readEnvFile loads an EnvironmentFile=: KEY=VALUE lines, '#' and ';'
// comments, optional single or double quotes around the value, and a
// trailing backslash continuing the line.
func readEnvFile(f EnvFile) ([]string, error) {
	data, err := os.ReadFile(f.Path)
	if err != nil {
		if f.Optional && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading environment file: %w", err)
	}
	return parseEnvFile(string(data))
}

func parseEnvFile(text string) ([]string, error) {
	var out []string
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, "\\") + lines[i]
		}
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" || varNameLen(key) != len(key) {
			return nil, fmt.Errorf("line %d: invalid assignment %q", i+1, line)
		}
		v, err := envFileValue(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, key+"="+v)
	}
	return out, nil
}

func envFileValue(v string) (string, error) {
	if len(v) >= 1 && (v[0] == '"' || v[0] == '\'') {
		q := v[0]
		end := -1
		for j := 1; j < len(v); j++ {
			if q == '"' && v[j] == '\\' {
				j++
				continue
			}
			if v[j] == q {
				end = j
				break
			}
		}
		if end < 0 {
			return "", fmt.Errorf("unterminated quote in %q", v)
		}
		inner := v[1:end]
		if q == '\'' {
			return inner, nil
		}
		var b strings.Builder
		for j := 0; j < len(inner); j++ {
			if inner[j] == '\\' && j+1 < len(inner) && strings.IndexByte("\"\\`$\n", inner[j+1]) >= 0 {
				j++
			}
			b.WriteByte(inner[j])
		}
		return b.String(), nil
	}
	var b strings.Builder
	for j := 0; j < len(v); j++ {
		if v[j] == '\\' && j+1 < len(v) {
			j++
		}
		b.WriteByte(v[j])
	}
	return b.String(), nil
}

// mergeEnv applies assignments in order so that later ones win, keeping the
// position of the first occurrence for a stable environment.
func mergeEnv(lists ...[]string) []string {
	index := map[string]int{}
	var out []string
	for _, list := range lists {
		for _, kv := range list {
			k, _, _ := strings.Cut(kv, "=")
			if i, ok := index[k]; ok {
				out[i] = kv
				continue
			}
			index[k] = len(out)
			out = append(out, kv)
		}
	}
	return out
}

func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}
