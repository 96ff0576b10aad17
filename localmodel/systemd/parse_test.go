package systemd

import (
	"reflect"
	"syscall"
	"testing"
	"time"
)

func TestParseUnit(t *testing.T) {
	nowarn := func(string, ...any) {}
	cases := []struct {
		name  string
		text  string
		check func(t *testing.T, u *Unit)
		bad   bool
	}{
		{name: "etcd-like unit", text: `# written by the charm
[Unit]
Description=etcd key-value store
After=network-online.target \
  time-sync.target

[Service]
Type=notify
User=etcd
ExecStart=/usr/local/bin/etcd --config-file /etc/etcd/etcd.conf.yml
Environment="ETCD_NAME=etcd 0" GOMAXPROCS=2
EnvironmentFile=-/etc/default/etcd
Restart=on-failure
RestartSec=500ms
KillSignal=SIGINT
KillMode=mixed
TimeoutStopSec=1min 30s
SuccessExitStatus=3 SIGUSR1
LimitNOFILE=65536
WorkingDirectory=-/var/lib/etcd

[Install]
WantedBy=multi-user.target
`, check: func(t *testing.T, u *Unit) {
			want := &Unit{
				Name: "etcd.service", Description: "etcd key-value store",
				After: []string{"network-online.target", "time-sync.target"},
				Type:  "notify", User: "etcd",
				ExecStart:        Command{Path: "/usr/local/bin/etcd", Args: []string{"/usr/local/bin/etcd", "--config-file", "/etc/etcd/etcd.conf.yml"}},
				Environment:      []string{"ETCD_NAME=etcd 0", "GOMAXPROCS=2"},
				EnvironmentFiles: []EnvFile{{Path: "/etc/default/etcd", Optional: true}},
				WorkingDirectory: "/var/lib/etcd", WorkingDirOpt: true,
				Restart: "on-failure", RestartSec: 500 * time.Millisecond,
				KillSignal: syscall.SIGINT, KillMode: "mixed", TimeoutStopSec: 90 * time.Second,
				SuccessExitCodes: []int{3}, SuccessSignals: []syscall.Signal{syscall.SIGUSR1},
				StartLimitBurst: 5, StartLimitInterval: 10 * time.Second,
				WantedBy: []string{"multi-user.target"},
			}
			if !reflect.DeepEqual(u, want) {
				t.Errorf("got  %+v\nwant %+v", u, want)
			}
		}},
		{name: "defaults", text: "[Service]\nExecStart=/bin/sleep 1\n", check: func(t *testing.T, u *Unit) {
			if u.Type != "simple" || u.Restart != "no" || u.RestartSec != 100*time.Millisecond ||
				u.KillSignal != syscall.SIGTERM || u.KillMode != "control-group" || u.TimeoutStopSec != 90*time.Second {
				t.Errorf("defaults: %+v", u)
			}
		}},
		{name: "empty ExecStart resets", text: "[Service]\nExecStart=/bin/a\nExecStart=\nExecStart=/bin/b x\n", check: func(t *testing.T, u *Unit) {
			if u.ExecStart.Path != "/bin/b" {
				t.Errorf("ExecStart %+v", u.ExecStart)
			}
		}},
		{name: "signal forms and spans", text: "[Service]\nExecStart=/bin/a\nKillSignal=9\nRestartSec=2\nTimeoutStopSec=infinity\n", check: func(t *testing.T, u *Unit) {
			if u.KillSignal != syscall.SIGKILL || u.RestartSec != 2*time.Second || u.TimeoutStopSec != infinity {
				t.Errorf("%+v", u)
			}
		}},
		{name: "invalid settings ignored", text: "[Service]\nExecStart=/bin/a\nRestart=sometimes\nKillSignal=SIGNOPE\nRestartSec=soon\n", check: func(t *testing.T, u *Unit) {
			if u.Restart != "no" || u.KillSignal != syscall.SIGTERM || u.RestartSec != 100*time.Millisecond {
				t.Errorf("%+v", u)
			}
		}},
		{name: "no ExecStart", text: "[Service]\nType=simple\n", bad: true},
		{name: "two ExecStart", text: "[Service]\nExecStart=/bin/a\nExecStart=/bin/b\n", bad: true},
		{name: "forking", text: "[Service]\nType=forking\nExecStart=/bin/a\n", bad: true},
		{name: "relative path", text: "[Service]\nExecStart=bin/etcd\n", bad: true},
		{name: "unterminated quote", text: "[Service]\nExecStart=/bin/a \"oops\n", bad: true},
		{name: "garbage line", text: "[Service]\nExecStart=/bin/a\nnot an assignment\n", bad: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, err := parseUnit("etcd.service", c.text, nowarn)
			if c.bad {
				if err == nil {
					t.Fatalf("accepted: %+v", u)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, u)
		})
	}
}

func TestParseCommands(t *testing.T) {
	cases := []struct {
		in   string
		want []Command
		bad  bool
	}{
		{in: `/bin/echo "a b" 'c d' e\ f`, want: []Command{{Path: "/bin/echo", Args: []string{"/bin/echo", "a b", "c d", "e f"}}}},
		{in: `/bin/echo x"y z"w \x41\t\u00e9`, want: []Command{{Path: "/bin/echo", Args: []string{"/bin/echo", "xy zw", "A\té"}}}},
		{in: `-@/bin/sleep mysleep 10`, want: []Command{{Path: "/bin/sleep", Args: []string{"mysleep", "10"}, IgnoreFailure: true}}},
		{in: `:+/bin/echo $HOME`, want: []Command{{Path: "/bin/echo", Args: []string{"/bin/echo", "$HOME"}, NoExpand: true}}},
		{in: `/bin/a 1 ; /bin/b \; %n %% %p`, want: []Command{
			{Path: "/bin/a", Args: []string{"/bin/a", "1"}},
			{Path: "/bin/b", Args: []string{"/bin/b", ";", "etcd.service", "%", "etcd"}},
		}},
		{in: `sleep 1`, want: []Command{{Path: "sleep", Args: []string{"sleep", "1"}}}},
		{in: `./etcd`, bad: true},
		{in: `/bin/a %Z`, bad: true},
		{in: `@/bin/a`, bad: true},
		{in: `|/bin/a`, bad: true},
	}
	for _, c := range cases {
		got, err := parseCommands(c.in, "etcd.service")
		if c.bad {
			if err == nil {
				t.Errorf("%q accepted: %+v", c.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: got %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func TestArgvExpansion(t *testing.T) {
	cmd := Command{Path: "/bin/x", Args: []string{"/bin/x", "$WORDS", "${ONE}", "pre-$ONE-post", "$$ONE", "$EMPTY", "${MISSING}"}}
	got := cmd.argv(map[string]string{"WORDS": " a  b ", "ONE": "1 2", "EMPTY": ""})
	want := []string{"/bin/x", "a", "b", "1 2", "pre-1 2-post", "$ONE", ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseTimeSpan(t *testing.T) {
	cases := map[string]time.Duration{
		"90": 90 * time.Second, "500ms": 500 * time.Millisecond, "2s": 2 * time.Second,
		"1min 30s": 90 * time.Second, "1min30s": 90 * time.Second, "0.5s": 500 * time.Millisecond,
		"1h": time.Hour, "infinity": infinity, "250us": 250 * time.Microsecond,
	}
	for in, want := range cases {
		if got, err := parseTimeSpan(in); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "soon", "5 parsecs", "ms"} {
		if _, err := parseTimeSpan(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if got := formatTimeSpan(90 * time.Second); got != "1min 30s" {
		t.Errorf("format: %q", got)
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"SIGHUP": syscall.SIGHUP, "HUP": syscall.SIGHUP, "hup": syscall.SIGHUP, "9": syscall.SIGKILL, "SIGRTMIN": 0} {
		got, err := parseSignal(in)
		if want == 0 {
			if err == nil {
				t.Errorf("%q accepted", in)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%q: %v, %v", in, got, err)
		}
	}
}

func TestParseEnvFile(t *testing.T) {
	got, err := parseEnvFile("# c\n; c\n\nA=1\n  B = two words \nC=\"quoted \\\"x\\\" $y\"\nD='single \\n'\nE=long\\\nline\n")
	want := []string{"A=1", "B=two words", `C=quoted "x" $y`, `D=single \n`, "E=longline"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if _, err := parseEnvFile("no equals sign\n"); err == nil {
		t.Error("invalid line accepted")
	}
	if _, err := parseEnvironment(`A=1 "B=2 3" =bad`); err == nil {
		t.Error("Environment= with an empty name accepted")
	}
	merged := mergeEnv([]string{"A=1", "B=1"}, []string{"B=2", "C=3"})
	if !reflect.DeepEqual(merged, []string{"A=1", "B=2", "C=3"}) {
		t.Errorf("mergeEnv %q", merged)
	}
}
