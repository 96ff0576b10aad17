package systemd

import (
	"fmt"
	"strings"
)

// entry is one `Key=Value` assignment of a unit file, kept in file order
// because list-valued settings are reset by an empty assignment and so depend
// on ordering.
type entry struct {
	section string
	key     string
	value   string
	line    int
}

// parseUnitFile splits unit file text into assignments following
// systemd.syntax(7): comment lines start with '#' or ';', a trailing backslash
// joins the next line (with a space), and comment lines inside a continuation
// are dropped rather than ending it.
func parseUnitFile(text string) ([]entry, error) {
	var entries []entry
	section := ""
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimSpace(lines[i])
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			line = strings.TrimSuffix(line, "\\") + " "
			i++
			next := strings.TrimSpace(lines[i])
			if next != "" && (next[0] == '#' || next[0] == ';') {
				// A comment inside a continuation is skipped, but the
				// continuation goes on only if the comment would not end it.
				for next != "" && (next[0] == '#' || next[0] == ';') && i+1 < len(lines) {
					i++
					next = strings.TrimSpace(lines[i])
				}
			}
			line += next
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: malformed section header %q", lineNo, line)
			}
			section = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: missing '=' in %q", lineNo, line)
		}
		if section == "" {
			return nil, fmt.Errorf("line %d: assignment outside of any section", lineNo)
		}
		entries = append(entries, entry{
			section: section,
			key:     strings.TrimSpace(key),
			value:   strings.TrimSpace(value),
			line:    lineNo,
		})
	}
	return entries, nil
}
