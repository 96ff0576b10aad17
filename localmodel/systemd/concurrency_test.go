package systemd

import (
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Several units' hooks and fault injection hit their supervisors at once;
// run with -race to make this meaningful.
func TestConcurrentUnits(t *testing.T) {
	var fixtures []*fixture
	for range 2 {
		f := newFixture(t)
		f.helperUnit("etcd", "serve", "Restart=always\nRestartSec=1ms")
		fixtures = append(fixtures, f)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for _, f := range fixtures {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 5 {
				for _, verb := range []string{"start", "restart", "is-active", "show", "stop"} {
					if _, stderr, code := f.sup.Systemctl([]string{verb, "etcd"}); code != 0 && verb != "is-active" {
						errs <- fmt.Errorf("round %d: systemctl %s: exit %d: %s", i, verb, code, stderr)
					}
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 50 {
				_ = f.sup.Signal("etcd", syscall.SIGKILL) // may find nothing running; that is fine
				_ = f.sup.ActiveState("etcd")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		// A restart racing a SIGKILL can hit the start limit, as it would
		// under systemd; anything else is a bug.
		if strings.Contains(err.Error(), "attempted too often") {
			t.Log(err)
			continue
		}
		t.Error(err)
	}
	for _, f := range fixtures {
		f.sup.Kill()
		if pid := f.sup.MainPID("etcd"); pid != 0 {
			t.Errorf("MainPID %d after Kill", pid)
		}
	}
	if kids := children(t); len(kids) > 0 {
		t.Errorf("children remain: %v", kids)
	}
}
