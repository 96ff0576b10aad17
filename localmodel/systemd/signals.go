package systemd

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// signalNames is the Linux signal table; Go has no name lookup of its own.
var signalNames = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
	"ILL": syscall.SIGILL, "TRAP": syscall.SIGTRAP, "ABRT": syscall.SIGABRT,
	"IOT": syscall.SIGIOT, "BUS": syscall.SIGBUS, "FPE": syscall.SIGFPE,
	"KILL": syscall.SIGKILL, "USR1": syscall.SIGUSR1, "SEGV": syscall.SIGSEGV,
	"USR2": syscall.SIGUSR2, "PIPE": syscall.SIGPIPE, "ALRM": syscall.SIGALRM,
	"TERM": syscall.SIGTERM, "STKFLT": syscall.SIGSTKFLT, "CHLD": syscall.SIGCHLD,
	"CONT": syscall.SIGCONT, "STOP": syscall.SIGSTOP, "TSTP": syscall.SIGTSTP,
	"TTIN": syscall.SIGTTIN, "TTOU": syscall.SIGTTOU, "URG": syscall.SIGURG,
	"XCPU": syscall.SIGXCPU, "XFSZ": syscall.SIGXFSZ, "VTALRM": syscall.SIGVTALRM,
	"PROF": syscall.SIGPROF, "WINCH": syscall.SIGWINCH, "IO": syscall.SIGIO,
	"POLL": syscall.SIGPOLL, "PWR": syscall.SIGPWR, "SYS": syscall.SIGSYS,
}

// parseSignal accepts "SIGTERM", "TERM" or a number, as systemd does for
// KillSignal= and `systemctl kill --signal=`.
func parseSignal(s string) (syscall.Signal, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("signal number %d out of range", n)
		}
		return syscall.Signal(n), nil
	}
	if sig, ok := signalNames[strings.TrimPrefix(strings.ToUpper(s), "SIG")]; ok {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

// signalName gives the short name systemd prints ("TERM", "KILL").
func signalName(sig syscall.Signal) string {
	best := ""
	for name, v := range signalNames {
		// IOT and POLL alias ABRT and IO; prefer the names systemd prints.
		if v == sig && name != "IOT" && name != "POLL" {
			best = name
		}
	}
	if best == "" {
		return strconv.Itoa(int(sig))
	}
	return best
}
