package etcd

import (
	"fmt"
	"strings"
	"time"
)

// ServiceUnit is the systemd unit that runs etcd.
type ServiceUnit struct {
	Binary     string
	ConfigFile string
	// ElectionTimeout sizes TimeoutStopSec; zero means the default.
	ElectionTimeout time.Duration
}

const (
	// restartDelay (RestartSec=) keeps a crash-looping etcd (bad config, full disk) from
	// spinning while still returning a member to the cluster quickly.
	restartDelay = 5 * time.Second
	// limitNOFILE covers one descriptor per client connection, WAL and
	// snapshot files; etcd's own docs warn below a few thousand.
	limitNOFILE = 65536
	// requestTimeoutBase mirrors etcd's ReqTimeout base (5 s), the bound
	// on the leadership transfer etcd attempts when stopped as leader.
	requestTimeoutBase = 5 * time.Second
	// stopMargin is time for flushing the WAL and closing the bbolt
	// backend after the leadership transfer.
	stopMargin     = 30 * time.Second
	minStopTimeout = 60 * time.Second
)

// TimeoutStopSec is how long systemd waits after SIGTERM before SIGKILL.
// A leader stopping gracefully first transfers leadership, which etcd
// bounds by 5 s + 2 × election timeout; killing it earlier forces an
// election with a write stall, and killing it mid-close risks a slow
// recovery on next start. So: that bound plus a margin, at least 60 s.
func (s ServiceUnit) TimeoutStopSec() time.Duration {
	el := s.ElectionTimeout
	if el == 0 {
		el = DefaultElectionTimeout
	}
	return max(requestTimeoutBase+2*el+stopMargin, minStopTimeout)
}

// Render returns the unit file content.
func (s ServiceUnit) Render() ([]byte, error) {
	if !strings.HasPrefix(s.Binary, "/") || !strings.HasPrefix(s.ConfigFile, "/") {
		return nil, fmt.Errorf("service unit needs absolute binary and config paths, got %q and %q", s.Binary, s.ConfigFile)
	}
	if strings.ContainsAny(s.Binary+s.ConfigFile, " \t\n\"'\\%$") {
		return nil, fmt.Errorf("service unit paths %q and %q contain characters systemd would interpret", s.Binary, s.ConfigFile)
	}
	var b strings.Builder
	b.WriteString("# Written by the etcd charm; local changes are overwritten.\n")
	b.WriteString("[Unit]\n")
	b.WriteString("Description=etcd key-value store (managed by the etcd charm)\n")
	b.WriteString("Documentation=https://etcd.io/docs/v3.7/\n")
	b.WriteString("Wants=network-online.target\n")
	b.WriteString("After=network-online.target\n\n")
	b.WriteString("[Service]\n")
	b.WriteString("Type=simple\n")
	fmt.Fprintf(&b, "ExecStart=%s --config-file %s\n", s.Binary, s.ConfigFile)
	b.WriteString("Restart=always\n")
	fmt.Fprintf(&b, "RestartSec=%d\n", int(restartDelay.Seconds()))
	b.WriteString("KillSignal=SIGTERM\n")
	fmt.Fprintf(&b, "TimeoutStopSec=%d\n", int(s.TimeoutStopSec().Seconds()))
	fmt.Fprintf(&b, "LimitNOFILE=%d\n", limitNOFILE)
	// etcd's tuning guide: best-effort class, highest priority, so WAL
	// fsyncs are not starved by other disk users.
	b.WriteString("IOSchedulingClass=best-effort\n")
	b.WriteString("IOSchedulingPriority=0\n\n")
	b.WriteString("[Install]\n")
	b.WriteString("WantedBy=multi-user.target\n")
	return []byte(b.String()), nil
}
