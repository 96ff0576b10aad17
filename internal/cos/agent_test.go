package cos

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"
	"gopkg.in/yaml.v3"
)

var topo = Topology{Model: "prod", ModelUUID: "1a2b3c4d-5e6f-4a5b-8c7d-0123456789ab", Application: "etcd", Charm: "etcd"}

func TestGivenAUnitWithAMetricsListenerWhenItsConfigIsRenderedThenEveryCosAgentKeyIsThere(t *testing.T) {
	raw, err := Config(topo, "10.0.0.5:2381")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"metrics_alert_rules", "log_alert_rules", "dashboards", "metrics_scrape_jobs", "log_slots", "subordinate", "tracing_protocols"} {
		if _, ok := cfg[k]; !ok {
			t.Errorf("config lacks %q", k)
		}
	}
	if string(cfg["log_slots"]) != "[]" || string(cfg["log_alert_rules"]) != "{}" || string(cfg["subordinate"]) != "null" {
		t.Errorf("empty keys: log_slots %s, log_alert_rules %s, subordinate %s", cfg["log_slots"], cfg["log_alert_rules"], cfg["subordinate"])
	}
	var jobs []struct {
		JobName       string `json:"job_name"`
		StaticConfigs []struct {
			Targets []string `json:"targets"`
		} `json:"static_configs"`
	}
	if err := json.Unmarshal(cfg["metrics_scrape_jobs"], &jobs); err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 || !regexp.MustCompile(`^etcd_etcd_[0-9a-f]{8}$`).MatchString(jobs[0].JobName) || jobs[0].StaticConfigs[0].Targets[0] != "10.0.0.5:2381" {
		t.Errorf("scrape jobs: %+v", jobs)
	}
	again, _ := Config(topo, "10.0.0.5:2381")
	other, _ := Config(topo, "10.0.0.6:2381")
	if again != raw || other == raw {
		t.Error("the config is not stable for a target, or not different between targets")
	}
	if off, _ := Config(topo, ""); !strings.Contains(off, `"metrics_scrape_jobs":[]`) {
		t.Errorf("metrics_port 0 still offers a job: %s", off)
	}
}

func TestTheDashboardTravelsAsXZThenBase64WithAStableUIDAndTheCharmTag(t *testing.T) {
	s, err := Dashboard("etcd")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "/Td6WFoA") {
		t.Errorf("not an xz container in base64: %.12s", s)
	}
	raw, _ := base64.StdEncoding.DecodeString(s)
	r, err := xz.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(r)
	var d struct {
		UID    string `json:"uid"`
		Tags   []string
		Panels []struct {
			Targets []struct{ Expr string } `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(plain, &d); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(d.UID) || !strings.Contains(strings.Join(d.Tags, ","), "charm: etcd") || len(d.Panels) < 10 {
		t.Errorf("dashboard uid %q tags %v panels %d", d.UID, d.Tags, len(d.Panels))
	}
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			if !strings.Contains(tg.Expr, `job=~".*etcd.*"`) {
				t.Errorf("a panel query does not select the etcd jobs: %s", tg.Expr)
			}
		}
	}
}

func TestEveryRuleCarriesTheJujuTopology(t *testing.T) {
	rules, err := Rules(topo)
	if err != nil {
		t.Fatal(err)
	}
	groups := rules["groups"].([]any)
	g := groups[0].(map[string]any)
	if g["name"] != "prod_1a2b3c4d_etcd_etcd_alerts" {
		t.Errorf("group name %v", g["name"])
	}
	for _, r := range g["rules"].([]map[string]any) {
		labels := r["labels"].(map[string]any)
		for k, v := range topo.labels() {
			if labels[k] != v {
				t.Errorf("rule %v: label %s = %v, want %s", r["alert"], k, labels[k], v)
			}
		}
		if labels["severity"] == nil {
			t.Errorf("rule %v has no severity", r["alert"])
		}
	}
	if names := RuleNames(); len(names) < 9 {
		t.Errorf("rules: %v", names)
	}
}

func TestPromtoolAcceptsTheRulesAsSent(t *testing.T) {
	rules, err := Rules(topo)
	if err != nil {
		t.Fatal(err)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian's prometheus package; .ci/run installs it)")
	}
	out, _ := yaml.Marshal(rules)
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err := exec.Command(promtool, "check", "rules", file).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, res)
	}
}
