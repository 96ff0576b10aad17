package charm_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ulikunitz/xz"
	"gopkg.in/yaml.v3"

	"github.com/etcd-charm/etcd/localmodel/client"
)

// The cos-agent side, checked as COS would use it: a subordinate stand-in for grafana-agent (the local
// model's test charm declared subordinate, requiring cos_agent in container scope) receives each unit's
// config, and a real Prometheus (Debian's) scrapes with the published jobs and loads the published rules.
var (
	standInsMu sync.Mutex
	standIns   = map[string]string{}
)

// buildStandIn packs the local model's test charm under another name with extra endpoints (YAML lines
// under requires:), as a subordinate when asked: a stand-in for a charm on the other side of a relation,
// whose bags the test reads and writes.
func buildStandIn(t *testing.T, name string, subordinate bool, requires string) string {
	t.Helper()
	build(t)
	standInsMu.Lock()
	defer standInsMu.Unlock()
	if path, ok := standIns[name]; ok {
		return path
	}
	dir := t.TempDir()
	root := repoRoot()
	meta, err := os.ReadFile(filepath.Join(root, "localmodel/testcharm/charmcraft.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	head := "name: " + name
	if subordinate {
		head += "\nsubordinate: true"
	}
	s := strings.Replace(string(meta), "name: testcharm", head, 1)
	s = strings.Replace(s, "requires:\n", "requires:\n"+requires, 1)
	metaPath := filepath.Join(dir, name+".yaml")
	if err := os.WriteFile(metaPath, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := os.MkdirTemp("", name+"-")
	if err != nil {
		t.Fatal(err)
	}
	_, path, err := buildCharm(ctx, root, out, "./localmodel/testcharm", metaPath, name)
	if err != nil {
		t.Fatalf("building the %s stand-in: %v", name, err)
	}
	standIns[name] = path
	return path
}

func buildAgentStandIn(t *testing.T) string {
	return buildStandIn(t, "grafana-agent", true, "  cos-agent:\n    interface: cos_agent\n    scope: container\n"+
		"  juju-info:\n    interface: juju-info\n    scope: container\n")
}

// agentConfig is the cos_agent `config` a unit published.
type agentConfig struct {
	MetricsScrapeJobs []map[string]any `json:"metrics_scrape_jobs"`
	MetricsAlertRules map[string]any   `json:"metrics_alert_rules"`
	Dashboards        []string         `json:"dashboards"`
	LogSlots          []string         `json:"log_slots"`
}

func TestGivenAClusterWithAGrafanaAgentWhenPrometheusUsesWhatEachUnitPublishedThenEveryUnitIsScrapedRulesLoadAndPanelsHaveData(t *testing.T) {
	prometheus, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (Debian's prometheus package; .ci/run installs it)")
	}
	agent := buildAgentStandIn(t)
	m := deploy3(t)
	ctx := context.Background()
	if _, err := m.Deploy(ctx, agent, client.DeployOptions{App: "grafana-agent"}); err != nil {
		t.Fatal(err)
	}
	rel := integrate(t, m, "etcd:cos-agent", "grafana-agent:cos-agent")
	waitActive(t, m, 3*time.Minute)
	st, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// Each unit published its own job; the rules and dashboard are the same from every unit.
	var jobs []map[string]any
	var rules map[string]any
	var dashboards []string
	for unit, us := range st.Applications["etcd"].Units {
		if len(us.Subordinates) != 1 {
			t.Errorf("%s has subordinates %v, want one grafana-agent", unit, us.Subordinates)
		}
		bag, err := m.UnitBag(ctx, rel, unit)
		if err != nil {
			t.Fatal(err)
		}
		var cfg agentConfig
		if err := json.Unmarshal([]byte(bag["config"]), &cfg); err != nil {
			t.Fatalf("%s's config: %v (%q)", unit, err, bag["config"])
		}
		if len(cfg.MetricsScrapeJobs) != 1 || cfg.LogSlots == nil {
			t.Fatalf("%s's config: %+v", unit, cfg)
		}
		jobs = append(jobs, cfg.MetricsScrapeJobs...)
		rules, dashboards = cfg.MetricsAlertRules, cfg.Dashboards
	}

	// A real Prometheus with exactly those jobs and rules.
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "rules.yaml")
	writeYAML(t, rulesFile, rules)
	configFile := filepath.Join(dir, "prometheus.yml")
	writeYAML(t, configFile, map[string]any{
		"global":         map[string]any{"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "2s"},
		"rule_files":     []string{rulesFile},
		"scrape_configs": jobs,
	})
	api := startPrometheus(t, prometheus, configFile, filepath.Join(dir, "data"))

	waitFor(t, time.Minute, "every unit's target up", func() bool {
		var targets struct {
			Data struct {
				ActiveTargets []struct{ Health string } `json:"activeTargets"`
			} `json:"data"`
		}
		promGet(t, api, "/api/v1/targets", &targets)
		up := 0
		for _, tg := range targets.Data.ActiveTargets {
			if tg.Health == "up" {
				up++
			}
		}
		return up == 3
	})
	var loaded struct {
		Data struct {
			Groups []struct {
				Name  string
				Rules []struct{ Name, Health string }
			} `json:"groups"`
		} `json:"data"`
	}
	waitFor(t, time.Minute, "the rules evaluated without error", func() bool {
		promGet(t, api, "/api/v1/rules", &loaded)
		if len(loaded.Data.Groups) == 0 {
			return false
		}
		for _, r := range loaded.Data.Groups[0].Rules {
			if r.Health != "ok" {
				return false
			}
		}
		return true
	})
	t.Logf("rule group %s: %d rules loaded and evaluated", loaded.Data.Groups[0].Name, len(loaded.Data.Groups[0].Rules))

	// Every panel's query has data once a few scrapes are in (rates need two samples).
	queries := dashboardQueries(t, dashboards[0])
	var empty []string
	waitFor(t, time.Minute, "every dashboard panel query to return series", func() bool {
		empty = empty[:0]
		for _, expr := range queries {
			var res struct {
				Status string
				Data   struct {
					Result []json.RawMessage `json:"result"`
				} `json:"data"`
			}
			promGet(t, api, "/api/v1/query?query="+url.QueryEscape(expr), &res)
			if res.Status != "success" || len(res.Data.Result) == 0 {
				empty = append(empty, expr)
			}
		}
		if len(empty) > 0 {
			t.Logf("%d of %d panel queries without series yet, e.g. %s", len(empty), len(queries), empty[0])
		}
		return len(empty) == 0
	})

	// A member that stops answering: its target goes down, and EtcdMemberDown fires once its 3 minutes
	// are up (pending before).
	victim := unitInfo(t, m, "etcd/2")
	if err := m.SignalWorkload(ctx, victim.Name, "etcd", syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = m.SignalWorkload(ctx, victim.Name, "etcd", syscall.SIGCONT) }()
	memberDown := func() string {
		var alerts struct {
			Data struct {
				Alerts []struct {
					Labels map[string]string
					State  string
				} `json:"alerts"`
			} `json:"data"`
		}
		promGet(t, api, "/api/v1/alerts", &alerts)
		for _, a := range alerts.Data.Alerts {
			if a.Labels["alertname"] == "EtcdMemberDown" && strings.HasPrefix(a.Labels["instance"], victim.Address+":") {
				return a.State
			}
		}
		return ""
	}
	stopped := time.Now()
	waitFor(t, time.Minute, "EtcdMemberDown pending for the stopped member", func() bool { return memberDown() != "" })
	waitFor(t, 5*time.Minute, "EtcdMemberDown firing for the stopped member", func() bool { return memberDown() == "firing" })
	t.Logf("EtcdMemberDown fired %s after the member stopped", time.Since(stopped).Round(time.Second))
	if err := m.SignalWorkload(ctx, victim.Name, "etcd", syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
}

func writeYAML(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

// startPrometheus runs Prometheus on a free loopback port until the test ends and returns its base URL.
func startPrometheus(t *testing.T, bin, config, data string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var out bytes.Buffer
	cmd := exec.Command(bin, "--config.file="+config, "--storage.tsdb.path="+data, "--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus output:\n%s", out.String())
		}
	})
	base := "http://" + addr
	waitFor(t, 30*time.Second, "prometheus ready", func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return base
}

func promGet(t *testing.T, base, path string, out any) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s: %v: %s", path, err, raw)
	}
}

// dashboardQueries decodes a cos_agent dashboard (base64 of xz) and lists its panels' queries.
func dashboardQueries(t *testing.T, b64 string) []string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	r, err := xz.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(r)
	var d struct {
		Panels []struct {
			Targets []struct{ Expr string } `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(plain, &d); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, tg.Expr)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no queries in the dashboard: %.200s", plain)
	}
	return out
}
