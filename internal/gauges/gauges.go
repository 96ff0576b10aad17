// Package gauges puts what the charm knows, and etcd does not export, on etcd's own /metrics: the raised
// alarms, when the member's certificate and the cluster CA expire, when the last scheduled snapshot and
// S3 backup succeeded, and the fsync latency of the data dir's disk measured at join. The etcd personality of the charm binary registers a Collector before it starts
// etcd, so every scrape of the metrics listener (cos-agent, the classic prometheus relation) carries them
// and the alert rules can use them.
//
// A scrape reads the files each time: the certificates and the config etcd was started with, and the small
// observations file the charm rewrites in its hooks. Nothing is cached, so a gauge is never older than the
// file it comes from.
package gauges

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"
)

// ObservationsName is the observations file, next to etcd's config file.
const ObservationsName = "charm-observations.json"

// Observations is what the charm's hooks saw that a scrape cannot see for itself.
type Observations struct {
	// SnapshotIntervalSeconds is the snapshot_interval option, 0 when scheduled snapshots are off.
	SnapshotIntervalSeconds int64 `json:"snapshot-interval-seconds"`
	// LastSuccess is when this unit last took a scheduled snapshot ("local") or sent one to S3 ("s3"); only
	// the unit that takes them (the Juju leader) has any.
	LastSuccess map[string]time.Time `json:"last-success,omitempty"`
	// DataDirFsyncP99Seconds is the 99th percentile of the fsync probe taken on the data dir's disk when the
	// member last joined; 0 when none was taken.
	DataDirFsyncP99Seconds float64 `json:"data-dir-fsync-p99-seconds,omitempty"`
}

// WriteObservations replaces the observations file unless it already holds exactly o. It reports whether
// it wrote. The file holds nothing secret and is world-readable, as /metrics is.
func WriteObservations(configDir string, o Observations) (bool, error) {
	raw, err := json.Marshal(o)
	if err != nil {
		return false, err
	}
	path := filepath.Join(configDir, ObservationsName)
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, raw) {
		return false, nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return false, fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, fmt.Errorf("replacing %s: %w", path, err)
	}
	return true, nil
}

// Alarms the collector reports, 0 or 1 each, whenever etcd answered the probe.
var Alarms = []string{"NOSPACE", "CORRUPT"}

var (
	certExpiry = prometheus.NewDesc("etcd_charm_certificate_expiry_timestamp_seconds",
		"When a certificate etcd runs with expires (Unix time): the member's own (both listeners) and the cluster CA.",
		[]string{"certificate"}, nil)
	alarmActive = prometheus.NewDesc("etcd_charm_alarm_active",
		"1 while etcd has the alarm raised (cluster-wide: every member reports the same).",
		[]string{"alarm"}, nil)
	snapshotInterval = prometheus.NewDesc("etcd_charm_snapshot_interval_seconds",
		"The snapshot_interval option; 0 when scheduled snapshots are off.", nil, nil)
	lastSuccess = prometheus.NewDesc("etcd_charm_snapshot_last_success_timestamp_seconds",
		"When this unit last took a scheduled snapshot (destination=local) or sent one to S3 (destination=s3).",
		[]string{"destination"}, nil)
	dataDirFsync = prometheus.NewDesc("etcd_charm_data_dir_fsync_p99_seconds",
		"99th percentile of the small appends with fdatasync the charm timed on the data dir's disk when the member joined.",
		nil, nil)
)

// Collector reads the gauges at each scrape from the files of the etcd started with ConfigFile.
type Collector struct {
	ConfigFile string
	// HTTP asks the metrics listener's /health for alarms; nil means a client with a 2 s timeout.
	HTTP *http.Client
}

// New is a Collector for the etcd started with configFile.
func New(configFile string) *Collector {
	return &Collector{ConfigFile: configFile, HTTP: &http.Client{Timeout: 2 * time.Second}}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{certExpiry, alarmActive, snapshotInterval, lastSuccess, dataDirFsync} {
		ch <- d
	}
}

// startedConfig is the part of etcd's config file the gauges need.
type startedConfig struct {
	ListenMetricsURLs string `yaml:"listen-metrics-urls"`
	Client            struct {
		CertFile string `yaml:"cert-file"`
	} `yaml:"client-transport-security"`
	Peer struct {
		TrustedCAFile string `yaml:"trusted-ca-file"`
	} `yaml:"peer-transport-security"`
}

// Collect implements prometheus.Collector. A gauge whose source cannot be read is left out of the scrape
// rather than reported as a made-up value.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	var cfg startedConfig
	if raw, err := os.ReadFile(c.ConfigFile); err == nil {
		_ = yaml.Unmarshal(raw, &cfg)
	}
	for name, path := range map[string]string{"member": cfg.Client.CertFile, "ca": cfg.Peer.TrustedCAFile} {
		if notAfter, err := CertificateExpiry(path); err == nil {
			ch <- prometheus.MustNewConstMetric(certExpiry, prometheus.GaugeValue, float64(notAfter.Unix()), name)
		}
	}
	if u := healthURL(cfg.ListenMetricsURLs); u != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		raised, err := RaisedAlarms(ctx, c.client(), u)
		cancel()
		if err == nil {
			for _, a := range Alarms {
				v := 0.0
				if raised[a] {
					v = 1
				}
				ch <- prometheus.MustNewConstMetric(alarmActive, prometheus.GaugeValue, v, a)
			}
		}
	}
	raw, err := os.ReadFile(filepath.Join(filepath.Dir(c.ConfigFile), ObservationsName))
	if err != nil {
		return
	}
	var o Observations
	if json.Unmarshal(raw, &o) != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(snapshotInterval, prometheus.GaugeValue, float64(o.SnapshotIntervalSeconds))
	for dest, at := range o.LastSuccess {
		ch <- prometheus.MustNewConstMetric(lastSuccess, prometheus.GaugeValue, float64(at.Unix()), dest)
	}
	if o.DataDirFsyncP99Seconds > 0 {
		ch <- prometheus.MustNewConstMetric(dataDirFsync, prometheus.GaugeValue, o.DataDirFsyncP99Seconds)
	}
}

func (c *Collector) client() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 2 * time.Second}
}

// CertificateExpiry is the NotAfter of the first certificate in a PEM file.
func CertificateExpiry(path string) (time.Time, error) {
	if path == "" {
		return time.Time{}, errors.New("no certificate file")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, err
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "CERTIFICATE" {
		return time.Time{}, fmt.Errorf("%s holds no PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %w", path, err)
	}
	return cert.NotAfter, nil
}

// healthURL is /health on the first plain-HTTP metrics URL etcd listens on, "" without one.
func healthURL(listen string) string {
	for _, raw := range strings.Split(listen, ",") {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err == nil && u.Scheme == "http" && u.Host != "" {
			return "http://" + u.Host + "/health"
		}
	}
	return ""
}

// RaisedAlarms asks etcd's /health (serializable, so a member without a leader still answers about alarms)
// which alarms are raised. etcd names only the first alarm it finds, so each one found is excluded from the
// next question until the answer is healthy or names no alarm.
func RaisedAlarms(ctx context.Context, hc *http.Client, healthURL string) (map[string]bool, error) {
	raised := map[string]bool{}
	for range 4 {
		q := url.Values{"serializable": {"true"}}
		for a := range raised {
			q.Add("exclude", a)
		}
		h, err := GetHealth(ctx, hc, healthURL+"?"+q.Encode())
		if err != nil {
			return nil, err
		}
		alarm, isAlarm := strings.CutPrefix(h.Reason, "ALARM ")
		if h.Health == "true" || !isAlarm {
			return raised, nil
		}
		raised[alarm] = true
	}
	return raised, nil
}

// Health is etcd's /health answer.
type Health struct {
	Health string `json:"health"`
	Reason string `json:"reason"`
}

// GetHealth asks one /health question; etcd answers 503 with the same JSON when unhealthy.
func GetHealth(ctx context.Context, hc *http.Client, u string) (Health, error) {
	var h Health
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return h, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return h, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<16)).Decode(&h); err != nil {
		return h, fmt.Errorf("%s answered %s without etcd's health JSON: %w", u, resp.Status, err)
	}
	return h, nil
}
