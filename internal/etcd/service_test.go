package etcd

import (
	"strings"
	"testing"
	"time"
)

func TestServiceUnitRender(t *testing.T) {
	p := NewPaths("/", "")
	unit, err := ServiceUnit{Binary: p.Binary, ConfigFile: p.ConfigFile}.Render()
	if err != nil {
		t.Fatal(err)
	}
	s := string(unit)
	for _, line := range []string{
		"[Service]",
		"Type=simple",
		"ExecStart=/usr/local/bin/etcd --config-file /etc/etcd/etcd.conf.yml",
		"Restart=always",
		"RestartSec=5",
		"KillSignal=SIGTERM",
		"TimeoutStopSec=60",
		"LimitNOFILE=65536",
		"WantedBy=multi-user.target",
	} {
		if !strings.Contains(s, "\n"+line+"\n") {
			t.Errorf("unit lacks %q:\n%s", line, s)
		}
	}
	again, _ := ServiceUnit{Binary: p.Binary, ConfigFile: p.ConfigFile}.Render()
	if string(again) != s {
		t.Error("unit rendering is not deterministic")
	}
}

func TestServiceUnitStopTimeoutFollowsElectionTimeout(t *testing.T) {
	tests := []struct {
		election time.Duration
		want     time.Duration
	}{
		{0, 60 * time.Second},
		{time.Second, 60 * time.Second},
		{10 * time.Second, 60 * time.Second},
		{50 * time.Second, 135 * time.Second},
	}
	for _, tc := range tests {
		got := ServiceUnit{ElectionTimeout: tc.election}.TimeoutStopSec()
		if got != tc.want {
			t.Errorf("election %v: TimeoutStopSec = %v, want %v", tc.election, got, tc.want)
		}
	}
}

func TestServiceUnitRefusesBadPaths(t *testing.T) {
	for _, u := range []ServiceUnit{
		{Binary: "etcd", ConfigFile: "/etc/etcd/etcd.conf.yml"},
		{Binary: "/usr/local/bin/etcd", ConfigFile: "etcd.conf.yml"},
		{Binary: "/tmp/my root/etcd", ConfigFile: "/etc/etcd/etcd.conf.yml"},
		{Binary: "/usr/local/bin/etcd", ConfigFile: "/etc/etcd/%n.yml"},
	} {
		if _, err := u.Render(); err == nil {
			t.Errorf("Render(%+v) succeeded", u)
		}
	}
}
