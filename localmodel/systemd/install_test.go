package systemd

import (
	"os"
	"strings"
	"testing"
)

func TestEnableDisable(t *testing.T) {
	f := newFixture(t)
	r := f.mustCtl(1, "enable", "etcd")
	if r.stderr != "Failed to enable unit: Unit file etcd.service does not exist.\n" {
		t.Errorf("stderr %q", r.stderr)
	}
	f.mustCtl(1, "is-enabled", "etcd")

	report := f.helperUnit("etcd", "serve", "")
	if r := f.mustCtl(1, "is-enabled", "etcd"); r.stdout != "disabled\n" {
		t.Errorf("is-enabled %q", r.stdout)
	}
	r = f.mustCtl(0, "enable", "etcd")
	want := "Created symlink /etc/systemd/system/multi-user.target.wants/etcd.service → /etc/systemd/system/etcd.service.\n"
	if r.stderr != want {
		t.Errorf("enable stderr %q, want %q", r.stderr, want)
	}
	if target, err := os.Readlink(f.path("etc/systemd/system/multi-user.target.wants/etcd.service")); err != nil || target != f.path("etc/systemd/system/etcd.service") {
		t.Errorf("symlink: %q, %v", target, err)
	}
	if r := f.mustCtl(0, "is-enabled", "etcd"); r.stdout != "enabled\n" {
		t.Errorf("is-enabled %q", r.stdout)
	}
	if got := f.show("etcd", "UnitFileState"); got != "enabled" {
		t.Errorf("UnitFileState=%s", got)
	}
	if r := f.mustCtl(0, "enable", "etcd"); r.stderr != "" {
		t.Errorf("second enable printed %q", r.stderr)
	}
	if f.sup.ActiveState("etcd") != "inactive" {
		t.Error("enable without --now started the unit")
	}

	f.mustCtl(0, "disable", "etcd")
	f.mustCtl(1, "is-enabled", "etcd")

	f.mustCtl(0, "enable", "--now", "etcd")
	readReport(t, report)
	f.mustCtl(0, "is-active", "etcd")
	r = f.mustCtl(0, "disable", "--now", "etcd")
	if !strings.HasPrefix(r.stderr, "Removed \"/etc/systemd/system/multi-user.target.wants/etcd.service\".") {
		t.Errorf("disable stderr %q", r.stderr)
	}
	f.mustCtl(3, "is-active", "etcd")

	f.writeUnit("static.service", "[Service]\nExecStart=/bin/true\n")
	if r := f.mustCtl(0, "is-enabled", "static"); r.stdout != "static\n" {
		t.Errorf("is-enabled of a unit without [Install]: %q", r.stdout)
	}
	if r := f.mustCtl(0, "enable", "static"); !strings.Contains(r.stderr, "no installation config") {
		t.Errorf("enable of a unit without [Install]: %q", r.stderr)
	}
}
