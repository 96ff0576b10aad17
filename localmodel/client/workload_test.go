package client_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/client"
	"github.com/etcd-charm/etcd/localmodel/controller"
	"github.com/etcd-charm/etcd/localmodel/lmtest"
)

func httpOK(addr string) bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + addr + ":8080/")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)) == "ok"
}

func TestSupervisedWorkloadRestartsAfterSIGKILL(t *testing.T) {
	t.Parallel()
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 3*time.Minute)
	deploy(t, m, "tc", 1, map[string]string{"service": "true"})
	if err := m.WaitForIdle(ctx, client.WaitOptions{Status: "active", Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	u, _ := m.Unit(ctx, "tc/0")
	lmtest.WaitFor(t, 10*time.Second, "the web service to answer", func() bool { return httpOK(u.Address) })
	svc, err := m.Service(ctx, "tc/0", "testcharm-web")
	if err != nil || svc.ActiveState != "active" || svc.MainPID == 0 {
		t.Fatalf("service before the kill: %+v %v", svc, err)
	}
	if err := m.SignalWorkload(ctx, "tc/0", "testcharm-web", syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	lmtest.WaitFor(t, 15*time.Second, "a restarted main process", func() bool {
		s, err := m.Service(ctx, "tc/0", "testcharm-web")
		return err == nil && s.ActiveState == "active" && s.MainPID != 0 && s.MainPID != svc.MainPID
	})
	lmtest.WaitFor(t, 10*time.Second, "the restarted service to answer", func() bool { return httpOK(u.Address) })

	// A paused workload stays "active" to systemd but stops answering, until continued.
	svc, _ = m.Service(ctx, "tc/0", "testcharm-web")
	if err := m.SignalWorkload(ctx, "tc/0", "testcharm-web", syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// kill(2) returns before every thread of the process has stopped; wait for the kernel to say it has.
	lmtest.WaitFor(t, 10*time.Second, "the paused process to be stopped", func() bool { return processStopped(svc.MainPID) })
	if httpOK(u.Address) {
		t.Error("a SIGSTOPped service answered")
	}
	if s, _ := m.Service(ctx, "tc/0", "testcharm-web"); s.MainPID != svc.MainPID || s.ActiveState != "active" {
		t.Errorf("paused service: %+v", s)
	}
	if err := m.SignalWorkload(ctx, "tc/0", "testcharm-web", syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	lmtest.WaitFor(t, 10*time.Second, "the continued service to answer", func() bool { return httpOK(u.Address) })

	out, err := m.Exec(ctx, "tc/0", "systemctl", "is-active", "testcharm-web")
	if err != nil || strings.TrimSpace(out.Stdout) != "active" || out.Code != 0 {
		t.Errorf("systemctl is-active via exec: %+v %v", out, err)
	}
	log, _ := os.ReadFile(u.WorkloadLog)
	if len(log) == 0 {
		t.Error("workload log is empty")
	}

	// Removing the unit runs its stop hook, which stops the service.
	pid := svc.MainPID
	if err := m.RemoveUnit(ctx, "tc/0"); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	lmtest.WaitFor(t, 10*time.Second, "the workload to stop with its unit", func() bool { return !processAlive(pid) })
}

func TestDestroyLeavesNothingRunning(t *testing.T) {
	t.Parallel()
	b := lmtest.Build(t)
	ctx := lmtest.Ctx(t, 3*time.Minute)
	dir := t.TempDir() + "/model"
	m, err := client.Bootstrap(ctx, client.Options{Dir: dir, Binary: b.Localjuju, UpdateStatusInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Destroy(context.Background()) })
	deploy(t, m, "tc", 2, map[string]string{"service": "true"})
	if err := m.WaitForIdle(ctx, client.WaitOptions{Status: "active", Timeout: time.Minute}); err != nil {
		t.Fatal(err)
	}
	svc, _ := m.Service(ctx, "tc/1", "testcharm-web")
	if svc.MainPID == 0 {
		t.Fatal("no workload running before destroy")
	}
	if len(client.SessionProcesses(m.PID())) < 3 {
		t.Errorf("expected the controller and two workloads in the session, got %v", client.SessionProcesses(m.PID()))
	}
	if err := m.Destroy(ctx); err != nil {
		t.Fatal(err)
	}
	if left := client.SessionProcesses(m.PID()); len(left) != 0 {
		t.Errorf("processes left: %v", left)
	}
	if processAlive(svc.MainPID) || processAlive(m.PID()) {
		t.Error("workload or controller still alive")
	}
	blocks, _ := os.ReadDir(controller.BlocksDir)
	for _, e := range blocks {
		raw, _ := os.ReadFile(controller.BlocksDir + "/" + e.Name())
		if strings.Contains(string(raw), dir) {
			t.Errorf("address block %s still claimed", e.Name())
		}
	}
	if _, err := os.Stat(dir + "/controller.sock"); !os.IsNotExist(err) {
		t.Errorf("socket file left behind: %v", err)
	}
	if _, err := client.Connect(dir); err == nil {
		t.Error("connected to a destroyed model")
	}
}

// processStopped reports whether /proc says the process is in the stopped state (T).
func processStopped(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may itself contain spaces.
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] == 'T'
}
