// Package charmpack builds a deployable .charm archive from charmcraft.yaml and a dispatch binary, the way
// `charmcraft pack` lays it out, so machines without charmcraft can produce the same artefact.
package charmpack

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// metadataKeys are the charmcraft.yaml keys charmcraft copies verbatim into metadata.yaml.
var metadataKeys = []string{
	"name", "summary", "description", "assumes", "containers", "devices", "extra-bindings",
	"peers", "provides", "requires", "resources", "storage", "subordinate", "terms",
}

// Pack writes outCharmPath: a zip holding dispatch (mode 0755), metadata.yaml, config.yaml and actions.yaml
// (when the charm has them) and manifest.yaml, all derived from charmcraftYAMLPath.
func Pack(charmcraftYAMLPath, dispatchBinaryPath, outCharmPath string) error {
	files, err := Render(charmcraftYAMLPath)
	if err != nil {
		return err
	}
	dispatch, err := os.ReadFile(dispatchBinaryPath)
	if err != nil {
		return fmt.Errorf("reading dispatch binary: %w", err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if err := addFile(zw, "dispatch", dispatch, 0o755); err != nil {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := addFile(zw, name, files[name], 0o644); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("finishing %s: %w", outCharmPath, err)
	}
	tmp := outCharmPath + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", outCharmPath, err)
	}
	return os.Rename(tmp, outCharmPath)
}

// Render returns the YAML files charmcraft would generate from charmcraft.yaml, keyed by file name.
func Render(charmcraftYAMLPath string) (map[string][]byte, error) {
	raw, err := os.ReadFile(charmcraftYAMLPath)
	if err != nil {
		return nil, fmt.Errorf("reading charmcraft.yaml: %w", err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", charmcraftYAMLPath, err)
	}
	if _, ok := doc["name"].(string); !ok {
		return nil, fmt.Errorf("%s: charm name missing", charmcraftYAMLPath)
	}
	metadata := map[string]any{}
	for _, key := range metadataKeys {
		if v, ok := doc[key]; ok {
			metadata[key] = v
		}
	}
	if title, ok := doc["title"]; ok {
		metadata["display-name"] = title
	}
	if links, ok := doc["links"].(map[string]any); ok {
		for _, key := range []string{"documentation", "issues", "website", "source", "contact"} {
			v, ok := links[key]
			if !ok {
				continue
			}
			switch key {
			case "documentation":
				metadata["docs"] = v
			case "contact":
				metadata["maintainers"] = v
			default:
				metadata[key] = v
			}
		}
	}
	files := map[string][]byte{}
	add := func(name string, v any) error {
		out, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("rendering %s: %w", name, err)
		}
		files[name] = out
		return nil
	}
	if err := add("metadata.yaml", metadata); err != nil {
		return nil, err
	}
	if cfg, ok := doc["config"]; ok && cfg != nil {
		if err := add("config.yaml", cfg); err != nil {
			return nil, err
		}
	}
	if actions, ok := doc["actions"]; ok && actions != nil {
		if err := add("actions.yaml", actions); err != nil {
			return nil, err
		}
	}
	manifest, err := manifestFor(doc)
	if err != nil {
		return nil, err
	}
	if err := add("manifest.yaml", manifest); err != nil {
		return nil, err
	}
	return files, nil
}

// manifestFor derives manifest.yaml's bases from charmcraft.yaml's base and platforms; Juju picks the deploy
// base from it.
func manifestFor(doc map[string]any) (map[string]any, error) {
	base, _ := doc["base"].(string)
	if base == "" {
		base = "ubuntu@24.04"
	}
	name, channel, ok := strings.Cut(base, "@")
	if !ok {
		return nil, fmt.Errorf("base %q is not of the form name@channel", base)
	}
	var archs []string
	if platforms, ok := doc["platforms"].(map[string]any); ok {
		for arch := range platforms {
			archs = append(archs, arch)
		}
	}
	sort.Strings(archs)
	if len(archs) == 0 {
		archs = []string{"amd64"}
	}
	return map[string]any{
		"charmcraft-version":    "localjuju-pack",
		"charmcraft-started-at": time.Now().UTC().Format(time.RFC3339),
		"bases": []any{map[string]any{
			"name": name, "channel": channel, "architectures": archs,
		}},
		"analysis": map[string]any{"attributes": []any{
			map[string]any{"name": "language", "result": "unknown"},
			map[string]any{"name": "framework", "result": "unknown"},
		}},
	}, nil
}

func addFile(zw *zip.Writer, name string, content []byte, mode os.FileMode) error {
	hdr := &zip.FileHeader{Name: name, Method: zip.Deflate}
	hdr.SetMode(mode)
	hdr.Modified = time.Now()
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return fmt.Errorf("adding %s: %w", name, err)
	}
	if _, err := w.Write(content); err != nil {
		return fmt.Errorf("adding %s: %w", name, err)
	}
	return nil
}
