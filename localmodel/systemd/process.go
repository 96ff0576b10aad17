package systemd

import (
	"errors"
	"os/exec"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// process is one child of the controller: a service's main process or an
// ExecStartPre= control process. It leads its own process group, so its
// pid is also the group id.
type process struct {
	pid  int
	cmd  *exec.Cmd
	main bool

	// exited is set, under Supervisor.mu, as soon as the process has
	// terminated but before it is reaped. While it is false the pid (and so
	// the process group id) cannot have been reused, which is what makes it
	// safe to signal the group.
	exited bool
	status syscall.WaitStatus // valid once done is closed
	done   chan struct{}      // closed after the process has been reaped
}

// spawner starts every child from one goroutine locked to its OS thread for
// the life of the controller. Pdeathsig fires when the *thread* that forked
// the child exits, not the process, so forking from arbitrary goroutines
// could kill services whenever the Go runtime retires a thread.
var spawner struct {
	once sync.Once
	reqs chan spawnReq
}

type spawnReq struct {
	cmd *exec.Cmd
	res chan error
}

func startOnLockedThread(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread()
			// Never unlocked and never returns: the thread must outlive
			// every child it started.
			for r := range spawner.reqs {
				r.res <- r.cmd.Start()
			}
		}()
	})
	res := make(chan error, 1)
	spawner.reqs <- spawnReq{cmd: cmd, res: res}
	return <-res
}

// waitTerminated blocks until pid has terminated, without reaping it.
func waitTerminated(pid int) {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return
		}
	}
}

// signalGroup sends sig to the whole process group of p, or to p alone when
// group is false. Callers hold Supervisor.mu and so see a stable p.exited.
func signalGroup(p *process, sig syscall.Signal, group bool) error {
	if p.exited {
		return nil
	}
	if group {
		return syscall.Kill(-p.pid, sig)
	}
	return syscall.Kill(p.pid, sig)
}
