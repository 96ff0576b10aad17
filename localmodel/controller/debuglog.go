package controller

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// debugLog appends lines in `juju debug-log` format: "<entity>: HH:MM:SS LEVEL <module> <message>".
type debugLog struct {
	mu sync.Mutex
	f  *os.File
}

func openDebugLog(path string) (*debugLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening debug log: %w", err)
	}
	return &debugLog{f: f}, nil
}

func (d *debugLog) write(entity, level, module, msg string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ts := time.Now().UTC().Format("15:04:05")
	for _, line := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		fmt.Fprintf(d.f, "%s: %s %s %s %s\n", entity, ts, level, module, line)
	}
}

func (d *debugLog) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.f.Close()
}
