// Package cos builds what the etcd charm hands a grafana-agent or opentelemetry-collector subordinate over
// the cos_agent interface: one unit-databag key, `config`, holding the scrape jobs, alert rules (with Juju
// topology labels), dashboards (xz, then base64) and log slots, every key present every time, as the
// cos_agent library sends them. The rules and the dashboard ship inside the charm (embedded here).
package cos

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"

	"github.com/ulikunitz/xz"
	"gopkg.in/yaml.v3"
)

// ConfigKey is the unit-databag key the agent reads.
const ConfigKey = "config"

//go:embed etcd_rules.yaml
var rulesYAML []byte

//go:embed etcd_dashboard.json
var dashboardJSON []byte

// Topology is the Juju identity COS labels everything with.
type Topology struct {
	Model, ModelUUID, Application, Charm string
}

func (t Topology) labels() map[string]string {
	return map[string]string{"juju_model": t.Model, "juju_model_uuid": t.ModelUUID,
		"juju_application": t.Application, "juju_charm": t.Charm}
}

// agentConfig is the cos_agent `config` object; nil slices and maps are sent as empty, never left out.
type agentConfig struct {
	MetricsAlertRules map[string]any   `json:"metrics_alert_rules"`
	LogAlertRules     map[string]any   `json:"log_alert_rules"`
	Dashboards        []string         `json:"dashboards"`
	MetricsScrapeJobs []map[string]any `json:"metrics_scrape_jobs"`
	LogSlots          []string         `json:"log_slots"`
	Subordinate       *bool            `json:"subordinate"`
	TracingProtocols  []string         `json:"tracing_protocols"`
}

// Config renders the `config` value for one unit whose metrics listener is target (host:port; empty when
// the listener is off, then no scrape job is offered).
func Config(t Topology, target string) (string, error) {
	rules, err := Rules(t)
	if err != nil {
		return "", err
	}
	dash, err := Dashboard(t.Charm)
	if err != nil {
		return "", err
	}
	cfg := agentConfig{
		MetricsAlertRules: rules, LogAlertRules: map[string]any{}, Dashboards: []string{dash},
		MetricsScrapeJobs: []map[string]any{}, LogSlots: []string{},
	}
	if target != "" {
		cfg.MetricsScrapeJobs = append(cfg.MetricsScrapeJobs, scrapeJob(t.Application, "etcd", target))
	}
	raw, err := json.Marshal(cfg)
	return string(raw), err
}

// scrapeJob names the job as the cos_agent library does, <app>_<job>_<8 hex of the rest>, so that the name is
// stable for a target and unique between them; the agent adds the topology labels to what it scrapes.
func scrapeJob(app, job, target string) map[string]any {
	rest := map[string]any{"static_configs": []map[string]any{{"targets": []string{target}}}, "metrics_path": "/metrics"}
	raw, _ := json.Marshal(rest)
	sum := sha256.Sum256(raw)
	rest["job_name"] = fmt.Sprintf("%s_%s_%s", app, job, hex.EncodeToString(sum[:4]))
	return rest
}

var unsafeGroupChars = regexp.MustCompile(`[^A-Za-z0-9_:]`)

// Rules returns the embedded rule groups with their names prefixed by the topology and every rule carrying
// the topology labels.
func Rules(t Topology) (map[string]any, error) {
	var doc struct {
		Groups []struct {
			Name  string           `yaml:"name"`
			Rules []map[string]any `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(rulesYAML, &doc); err != nil {
		return nil, fmt.Errorf("the charm's alert rules: %w", err)
	}
	uuid8 := t.ModelUUID
	if len(uuid8) > 8 {
		uuid8 = uuid8[:8]
	}
	groups := make([]any, 0, len(doc.Groups))
	for _, g := range doc.Groups {
		for _, r := range g.Rules {
			labels, _ := r["labels"].(map[string]any)
			if labels == nil {
				labels = map[string]any{}
			}
			for k, v := range t.labels() {
				labels[k] = v
			}
			r["labels"] = labels
		}
		name := unsafeGroupChars.ReplaceAllString(fmt.Sprintf("%s_%s_%s_%s_alerts", t.Model, uuid8, t.Application, g.Name), "_")
		groups = append(groups, map[string]any{"name": name, "rules": g.Rules})
	}
	return map[string]any{"groups": groups}, nil
}

// Dashboard returns the embedded dashboard as the agent expects it: the JSON with a stable 40-hex uid and a
// charm tag, xz-compressed, then base64.
func Dashboard(charm string) (string, error) {
	var d map[string]any
	if err := json.Unmarshal(dashboardJSON, &d); err != nil {
		return "", fmt.Errorf("the charm's dashboard: %w", err)
	}
	sum := sha256.Sum256([]byte(charm + "-etcd_dashboard.json"))
	d["uid"] = hex.EncodeToString(sum[:20])
	tags, _ := d["tags"].([]any)
	d["tags"] = append(tags, "charm: "+charm)
	raw, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	w, err := xz.NewWriter(&buf)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(raw); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// RuleNames lists the alerts in the embedded rules, sorted (for tests and docs).
func RuleNames() []string {
	rules, err := Rules(Topology{})
	if err != nil {
		return nil
	}
	var out []string
	for _, g := range rules["groups"].([]any) {
		for _, r := range g.(map[string]any)["rules"].([]map[string]any) {
			out = append(out, fmt.Sprint(r["alert"]))
		}
	}
	sort.Strings(out)
	return out
}
