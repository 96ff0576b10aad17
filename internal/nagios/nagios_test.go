package nagios

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"gopkg.in/yaml.v3"

	"github.com/etcd-charm/etcd/internal/etcdtest"
)

func TestGivenTheChecksWhenRenderedThenTheFilesAndMonitorsHaveTheClassicShapes(t *testing.T) {
	c := Check{Shortname: "etcd-alarms", Description: "Verify etcd has no raised alarms",
		Command: "/usr/local/bin/etcd check_etcd alarms http://10.0.0.1:2381/health"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := c.ConfigPath("/root"); got != "/root/etc/nagios/nrpe.d/check_etcd-alarms.cfg" {
		t.Errorf("config path %s", got)
	}
	if !bytes.Contains(c.Config(), []byte("\ncommand[check_etcd-alarms]=/usr/local/bin/etcd check_etcd alarms http://10.0.0.1:2381/health\n")) {
		t.Errorf("config:\n%s", c.Config())
	}
	if got := c.ExportPath("/", "juju-etcd-0"); got != "/var/lib/nagios/export/service__juju-etcd-0_check_etcd-alarms.cfg" {
		t.Errorf("export path %s", got)
	}
	exp := string(c.Export("juju-etcd-0", "juju"))
	for _, want := range []string{"host_name                       juju-etcd-0\n",
		"service_description             juju-etcd-0[etcd-alarms] Verify etcd has no raised alarms\n",
		"check_command                   check_nrpe!check_etcd-alarms\n", "servicegroups                   juju\n"} {
		if !strings.Contains(exp, want) {
			t.Errorf("export lacks %q:\n%s", want, exp)
		}
	}
	mon, err := Monitors([]Check{c, {Shortname: "etcd"}})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Monitors struct {
			Remote struct {
				NRPE map[string]struct{ Command string } `yaml:"nrpe"`
			} `yaml:"remote"`
		} `yaml:"monitors"`
	}
	if err := yaml.Unmarshal([]byte(mon), &doc); err != nil || doc.Monitors.Remote.NRPE["etcd-alarms"].Command != "check_etcd-alarms" ||
		doc.Monitors.Remote.NRPE["etcd"].Command != "check_etcd" {
		t.Errorf("monitors %q: %+v %v", mon, doc, err)
	}
	for _, bad := range []Check{{Shortname: "a b"}, {Shortname: "x/../../y"}, {Shortname: "ok", Command: "a\ncommand[x]=/bin/sh"}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestGivenWhatTheNRPEUnitPublishedWhenTheHostIsNamedThenOnlyASafeNameIsUsed(t *testing.T) {
	for _, tc := range []struct{ published, want string }{
		{"juju-etcd-0", "juju-etcd-0"},
		{"", "juju-etcd-2"},
		{"evil host\ncommand[x]=/bin/sh", "juju-etcd-2"},
		{"../../etc", "juju-etcd-2"},
	} {
		if got := Hostname(tc.published, "juju", "etcd/2"); got != tc.want {
			t.Errorf("Hostname(%q) = %q, want %q", tc.published, got, tc.want)
		}
	}
	if ServiceGroups("", "juju") != "juju" || ServiceGroups("prod,etcd", "juju") != "prod,etcd" {
		t.Error("servicegroups default to the context")
	}
}

func runCheck(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := Run(context.Background(), args, &out)
	return code, strings.TrimSpace(out.String())
}

func TestGivenARealMemberWhenTheChecksRunThenTheyReportItsHealthAlarmsAndCertificatesAndGoCriticalWhenItStops(t *testing.T) {
	m := etcdtest.Start(t, 20*24*time.Hour)
	health := m.MetricsURL + "/health"

	if code, out := runCheck(t, "health", health); code != OK || out != "OK - etcd member healthy" {
		t.Errorf("health: %d %q", code, out)
	}
	if code, out := runCheck(t, "alarms", health); code != OK || out != "OK - no active alarms" {
		t.Errorf("alarms: %d %q", code, out)
	}
	// 20 days left: past the 30-day warning, short of the 7-day critical.
	if code, out := runCheck(t, "certificates", m.ClientAddr); code != Warning || !strings.Contains(out, "(19 days)") {
		t.Errorf("certificates: %d %q", code, out)
	}
	if code, out := runCheck(t, "certificates", "-warn", "10", m.ClientAddr); code != OK {
		t.Errorf("certificates -warn 10: %d %q", code, out)
	}
	if code, out := runCheck(t, "certificates", "-crit", "25", m.ClientAddr); code != Critical {
		t.Errorf("certificates -crit 25: %d %q", code, out)
	}

	m.RaiseAlarm(t, pb.AlarmType_NOSPACE)
	m.RaiseAlarm(t, pb.AlarmType_CORRUPT)
	if code, out := runCheck(t, "alarms", health); code != Critical || out != "CRITICAL - raised alarms: CORRUPT, NOSPACE" {
		t.Errorf("alarms raised: %d %q", code, out)
	}
	if code, out := runCheck(t, "health", health); code != Critical || !strings.Contains(out, "ALARM") {
		t.Errorf("health with alarms: %d %q", code, out)
	}

	m.Stop()
	if code, out := runCheck(t, "health", health); code != Critical || !strings.Contains(out, "does not answer") {
		t.Errorf("health of a stopped member: %d %q", code, out)
	}
	if code, out := runCheck(t, "alarms", health); code != Unknown {
		t.Errorf("alarms of a stopped member: %d %q", code, out)
	}
	if code, out := runCheck(t, "certificates", m.ClientAddr); code != Unknown {
		t.Errorf("certificates of a stopped member: %d %q", code, out)
	}
	if code, out := runCheck(t, "nonsense", "x"); code != Unknown || !strings.Contains(out, "usage") {
		t.Errorf("unknown check: %d %q", code, out)
	}
}
