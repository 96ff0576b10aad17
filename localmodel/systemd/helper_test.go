package systemd

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the workload: `systemd.test helper MODE FILE`
// runs a small, fully controlled service program instead of the tests.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "helper" {
		os.Exit(runHelper(os.Args[2], os.Args[3:]))
	}
	os.Exit(m.Run())
}

// helperReport is what a helper writes once it is ready.
type helperReport struct {
	PID  int      `json:"pid"`
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Dir  string   `json:"dir"`
}

func report(path string) {
	dir, _ := os.Getwd()
	data, err := json.Marshal(helperReport{PID: os.Getpid(), Args: os.Args, Env: os.Environ(), Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Rename makes the report appear atomically, so a reader never sees a
	// half-written file.
	if err := os.WriteFile(path+".tmp", data, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}

func runHelper(mode string, args []string) int {
	switch mode {
	case "serve": // report, then run until killed
		fmt.Println("helper serving")
		report(args[0])
		blockForever()
	case "ignore-term": // report, then survive SIGTERM
		signal.Ignore(syscall.SIGTERM)
		report(args[0])
		blockForever()
	case "record": // report, then write every signal received to FILE.sig; exit 0 on INT/TERM
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGUSR1)
		report(args[0])
		f, err := os.OpenFile(args[0]+".sig", os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return 2
		}
		for sig := range ch {
			fmt.Fprintf(f, "%d\n", int(sig.(syscall.Signal)))
			if sig == syscall.SIGINT || sig == syscall.SIGTERM {
				f.Close()
				return 0
			}
		}
	case "fork": // start a second helper in the same process group, then serve
		child := exec.Command(os.Args[0], "helper", "serve", args[1])
		if err := child.Start(); err != nil {
			return 2
		}
		report(args[0])
		blockForever()
	case "exit": // exit at once with the given status
		fmt.Println("helper exiting")
		n, _ := strconv.Atoi(args[0])
		return n
	}
	return 2
}

// blockForever parks the helper; a bare select{} would trip the runtime's
// deadlock detector and exit with status 2.
func blockForever() {
	for {
		time.Sleep(time.Hour)
	}
}
