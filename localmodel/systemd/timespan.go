package systemd

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// infinity marks a time span of "infinity"; callers treat it as "never".
const infinity = time.Duration(-1)

// timeUnits lists the unit names systemd accepts; the first is the one it
// prints.
var timeUnits = []struct {
	names []string
	unit  time.Duration
}{
	{[]string{"us", "usec", "µs"}, time.Microsecond},
	{[]string{"ms", "msec"}, time.Millisecond},
	{[]string{"s", "seconds", "second", "sec"}, time.Second},
	{[]string{"min", "minutes", "minute", "m"}, time.Minute},
	{[]string{"h", "hours", "hour", "hr"}, time.Hour},
	{[]string{"d", "days", "day"}, 24 * time.Hour},
	{[]string{"w", "weeks", "week"}, 7 * 24 * time.Hour},
}

// parseTimeSpan reads a systemd.time(7) span such as "90", "500ms", "2s",
// "1min 30s" or "infinity". A bare number means seconds, as for RestartSec=
// and TimeoutStopSec=.
func parseTimeSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "infinity" {
		return infinity, nil
	}
	if s == "" {
		return 0, fmt.Errorf("empty time span")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		rest = strings.TrimLeft(rest, " \t")
		n := 0
		for n < len(rest) && (rest[n] >= '0' && rest[n] <= '9' || rest[n] == '.') {
			n++
		}
		if n == 0 {
			return 0, fmt.Errorf("invalid time span %q", s)
		}
		num, err := strconv.ParseFloat(rest[:n], 64)
		if err != nil {
			return 0, fmt.Errorf("invalid time span %q: %w", s, err)
		}
		rest = strings.TrimLeft(rest[n:], " \t")
		u := 0
		for u < len(rest) && !(rest[u] >= '0' && rest[u] <= '9') && rest[u] != ' ' && rest[u] != '\t' {
			u++
		}
		unitName := rest[:u]
		rest = rest[u:]
		unit := time.Second
		if unitName != "" {
			found := false
			for _, tu := range timeUnits {
				for _, name := range tu.names {
					if name == unitName {
						unit, found = tu.unit, true
					}
				}
			}
			if !found {
				return 0, fmt.Errorf("invalid time span %q: unknown unit %q", s, unitName)
			}
		}
		total += time.Duration(num * float64(unit))
	}
	return total, nil
}

// formatTimeSpan renders a span the way `systemctl show` prints *USec
// properties ("1min 30s", "100ms", "infinity").
func formatTimeSpan(d time.Duration) string {
	if d == infinity {
		return "infinity"
	}
	if d == 0 {
		return "0"
	}
	var parts []string
	for i := len(timeUnits) - 1; i >= 0 && d > 0; i-- {
		tu := timeUnits[i]
		if d >= tu.unit {
			n := d / tu.unit
			d -= n * tu.unit
			parts = append(parts, fmt.Sprintf("%d%s", n, tu.names[0]))
		}
	}
	return strings.Join(parts, " ")
}
