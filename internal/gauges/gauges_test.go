package gauges

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/etcd-charm/etcd/internal/etcdtest"
	"github.com/etcd-charm/etcd/internal/pki"
)

// gather scrapes the collector as Prometheus would and returns "name{label}" → value.
func gather(t *testing.T, c *Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			key := mf.GetName()
			for _, l := range m.Label {
				key += fmt.Sprintf("{%s}", l.GetValue())
			}
			out[key] = value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 { return m.GetGauge().GetValue() }

func writeConfig(t *testing.T, dir, metricsURL, certFile, caFile string) string {
	t.Helper()
	path := filepath.Join(dir, "etcd.conf.yml")
	body := fmt.Sprintf("listen-metrics-urls: %s\nclient-transport-security:\n  cert-file: %s\npeer-transport-security:\n  trusted-ca-file: %s\n",
		metricsURL, certFile, caFile)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestGivenARunningMemberWhenAlarmsAreRaisedThenEachScrapeReportsExactlyTheRaisedOnes(t *testing.T) {
	m := etcdtest.Start(t, time.Hour)
	dir := t.TempDir()
	c := New(writeConfig(t, dir, m.MetricsURL, "", ""))

	got := gather(t, c)
	if got["etcd_charm_alarm_active{NOSPACE}"] != 0 || got["etcd_charm_alarm_active{CORRUPT}"] != 0 {
		t.Fatalf("healthy member: %v", got)
	}
	if _, ok := got["etcd_charm_alarm_active{NOSPACE}"]; !ok {
		t.Fatalf("a healthy member reports the alarms as 0, not absent: %v", got)
	}
	m.RaiseAlarm(t, pb.AlarmType_NOSPACE)
	got = gather(t, c)
	if got["etcd_charm_alarm_active{NOSPACE}"] != 1 || got["etcd_charm_alarm_active{CORRUPT}"] != 0 {
		t.Fatalf("after NOSPACE: %v", got)
	}
	// etcd's /health names one alarm at a time; both must still be found.
	m.RaiseAlarm(t, pb.AlarmType_CORRUPT)
	got = gather(t, c)
	if got["etcd_charm_alarm_active{NOSPACE}"] != 1 || got["etcd_charm_alarm_active{CORRUPT}"] != 1 {
		t.Fatalf("after NOSPACE and CORRUPT: %v", got)
	}
}

func TestGivenNoMetricsListenerWhenScrapedThenAlarmsAreLeftOutNotGuessed(t *testing.T) {
	dir := t.TempDir()
	got := gather(t, New(writeConfig(t, dir, "http://127.0.0.1:1", "", "")))
	for k := range got {
		t.Errorf("nothing is readable, yet the scrape has %s", k)
	}
}

func TestGivenCertificatesAndObservationsWhenScrapedThenExpiryAndSnapshotGaugesAreTheirs(t *testing.T) {
	ca, err := pki.NewCA("gauges test CA", 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	member, err := pki.IssueClient(ca, "member", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caFile, certFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "member.crt")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, member.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, dir, "", certFile, caFile)
	taken := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	wrote, err := WriteObservations(dir, Observations{SnapshotIntervalSeconds: 3600,
		LastSuccess: map[string]time.Time{"local": taken, "s3": taken.Add(time.Minute)}, DataDirFsyncP99Seconds: 0.004})
	if err != nil || !wrote {
		t.Fatalf("first write: %v %v", wrote, err)
	}
	if wrote, err := WriteObservations(dir, Observations{SnapshotIntervalSeconds: 3600,
		LastSuccess: map[string]time.Time{"local": taken, "s3": taken.Add(time.Minute)}, DataDirFsyncP99Seconds: 0.004}); err != nil || wrote {
		t.Fatalf("the same observations are not rewritten: %v %v", wrote, err)
	}

	got := gather(t, New(cfg))
	wantExpiry := func(name string) {
		t.Helper()
		want, err := CertificateExpiry(filepath.Join(dir, name+".crt"))
		if err != nil {
			t.Fatal(err)
		}
		if got["etcd_charm_certificate_expiry_timestamp_seconds{"+name+"}"] != float64(want.Unix()) {
			t.Errorf("%s expiry %v, want %d", name, got, want.Unix())
		}
	}
	wantExpiry("member")
	wantExpiry("ca")
	if got["etcd_charm_snapshot_interval_seconds"] != 3600 ||
		got["etcd_charm_snapshot_last_success_timestamp_seconds{local}"] != float64(taken.Unix()) ||
		got["etcd_charm_snapshot_last_success_timestamp_seconds{s3}"] != float64(taken.Add(time.Minute).Unix()) {
		t.Errorf("snapshot gauges: %v", got)
	}
	if got["etcd_charm_data_dir_fsync_p99_seconds"] != 0.004 {
		t.Errorf("data dir fsync gauge: %v", got)
	}
	if info, err := os.Stat(filepath.Join(dir, ObservationsName)); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("observations file: %v %v", info, err)
	}
}
