package charm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/client"
)

// The classic monitoring endpoints, used as the classic LMA charms and Nagios use them: stand-ins for the
// prometheus2 charm (manual-jobs), the grafana charm (dashboards) and the nrpe subordinate relate to a
// 3-unit cluster; a real Prometheus scrapes with the job the leader asked for; and the nrpe checks the
// units wrote run on each unit and tell a stopped member apart.
func TestGivenClassicLMAAndNRPEWhenRelatedThenPrometheusScrapesEveryUnitGrafanaGetsTheDashboardAndTheChecksTellAStoppedMember(t *testing.T) {
	prometheus, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (Debian's prometheus package; .ci/run installs it)")
	}
	prom := buildStandIn(t, "prometheus2", false, "  manual-jobs:\n    interface: prometheus-manual\n")
	graf := buildStandIn(t, "grafana", false, "  dashboards:\n    interface: grafana-dashboard\n")
	nrpe := buildStandIn(t, "nrpe", true, "  nrpe-external-master:\n    interface: nrpe-external-master\n    scope: container\n"+
		"  general-info:\n    interface: juju-info\n    scope: container\n")
	m := deploy3(t)
	ctx := context.Background()
	// nrpe is installed on every machine (the nrpe charm installs nagios-nrpe-server, which makes these).
	for _, u := range []string{"etcd/0", "etcd/1", "etcd/2"} {
		execOK(t, m, u, `mkdir -p "$LOCALJUJU_ROOT/etc/nagios/nrpe.d" "$LOCALJUJU_ROOT/var/lib/nagios/export"`)
	}
	for app, path := range map[string]string{"prometheus2": prom, "grafana": graf, "nrpe": nrpe} {
		if _, err := m.Deploy(ctx, path, client.DeployOptions{App: app}); err != nil {
			t.Fatal(err)
		}
	}
	promRel := integrate(t, m, "etcd:prometheus", "prometheus2:manual-jobs")
	grafRel := integrate(t, m, "etcd:grafana", "grafana:dashboards")
	nrpeRel := integrate(t, m, "etcd:nrpe-external-master", "nrpe:nrpe-external-master")
	waitActive(t, m, 3*time.Minute)
	leader := jujuLeader(t, m)

	// prometheus-manual: one request from the leader, for every unit's metrics listener over plain HTTP.
	reqKey, jobReq := onlyRequest(t, m, promRel, leader)
	var job struct {
		RequestID string         `json:"request_id"`
		JobName   string         `json:"job_name"`
		JobData   map[string]any `json:"job_data"`
	}
	if err := json.Unmarshal([]byte(jobReq), &job); err != nil || "request_"+job.RequestID != reqKey || job.JobName != "etcd" {
		t.Fatalf("prometheus request %s=%s: %v", reqKey, jobReq, err)
	}
	for _, u := range []string{"etcd/0", "etcd/1", "etcd/2"} {
		if want := unitInfo(t, m, u).Address + ":2381"; !strings.Contains(jobReq, `"`+want+`"`) {
			t.Errorf("the job does not scrape %s (%s)", want, jobReq)
		}
		if u != leader {
			if bag, _ := m.UnitBag(ctx, promRel, u); len(bag) != 0 {
				t.Errorf("non-leader %s asked too: %v", u, bag)
			}
		}
	}

	// grafana-dashboard: the dashboard on the data source the classic grafana charm makes for prometheus2.
	_, dashReq := onlyRequest(t, m, grafRel, leader)
	var dash struct {
		Name      string `json:"name"`
		Dashboard struct {
			Panels []struct {
				Datasource string
				Targets    []struct{ Expr string }
			}
		}
	}
	if err := json.Unmarshal([]byte(dashReq), &dash); err != nil || dash.Name != "etcd" || len(dash.Dashboard.Panels) == 0 {
		t.Fatalf("grafana request: %v %.300s", err, dashReq)
	}
	var queries []string
	for _, p := range dash.Dashboard.Panels {
		if p.Datasource != "prometheus2 - Juju generated source" {
			t.Errorf("panel data source %q", p.Datasource)
		}
		for _, tg := range p.Targets {
			queries = append(queries, tg.Expr)
		}
	}

	// A real Prometheus renders the job as prometheus2 does ("<job_name>-<request_id>") and scrapes.
	job.JobData["job_name"] = job.JobName + "-" + job.RequestID
	dir := t.TempDir()
	configFile := filepath.Join(dir, "prometheus.yml")
	writeYAML(t, configFile, map[string]any{
		"global":         map[string]any{"scrape_interval": "2s", "scrape_timeout": "2s", "evaluation_interval": "2s"},
		"scrape_configs": []any{job.JobData},
	})
	api := startPrometheus(t, prometheus, configFile, filepath.Join(dir, "data"))
	seriesOf := func(expr string) int {
		var res struct {
			Data struct {
				Result []json.RawMessage `json:"result"`
			} `json:"data"`
		}
		promGet(t, api, "/api/v1/query?query="+url.QueryEscape(expr), &res)
		return len(res.Data.Result)
	}
	waitFor(t, time.Minute, "all three units scraped with the charm's gauges", func() bool {
		return seriesOf(`up == 1`) == 3 && seriesOf(`etcd_charm_certificate_expiry_timestamp_seconds`) == 6 &&
			seriesOf(`etcd_charm_alarm_active == 0`) == 6
	})
	waitFor(t, time.Minute, "every dashboard panel query to return series", func() bool {
		for _, q := range queries {
			if seriesOf(q) == 0 {
				t.Logf("no series yet for %s", q)
				return false
			}
		}
		return true
	})

	// nrpe: each unit names its checks in `monitors`, wrote them for nrpe and exported them for Nagios.
	checks := map[string]map[string]string{} // unit → shortname → command line
	for i, u := range []string{"etcd/0", "etcd/1", "etcd/2"} {
		bag, err := m.UnitBag(ctx, nrpeRel, u)
		if err != nil {
			t.Fatal(err)
		}
		if bag["primary"] != "True" || !strings.Contains(bag["monitors"], "command: check_etcd-alarms") {
			t.Errorf("%s nrpe bag %v", u, bag)
		}
		checks[u] = nrpeCommands(t, m, u)
		if len(checks[u]) != 4 {
			t.Fatalf("%s wrote checks %v, want etcd, etcd-health, etcd-alarms, etcd-certificates", u, checks[u])
		}
		host := fmt.Sprintf("juju-etcd-%d", i)
		exported := execOK(t, m, u, `cat "$LOCALJUJU_ROOT"/var/lib/nagios/export/service__`+host+`_check_etcd-health.cfg`)
		if !strings.Contains(exported, "check_nrpe!check_etcd-health") || !strings.Contains(exported, host+"[etcd-health]") {
			t.Errorf("%s export:\n%s", u, exported)
		}
		for name, cmd := range checks[u] {
			if code, out := runNRPE(t, m, u, cmd); code != 0 || !strings.HasPrefix(out, "OK - ") {
				t.Errorf("%s check %s on a healthy cluster: %d %q", u, name, code, out)
			}
		}
	}

	// A member stopped by its service: the service and health checks of that unit go CRITICAL, the other
	// units' stay OK.
	// The stop and the checks run in one juju-exec: a unit runs one hook or exec at a time, so no hook can
	// start the member again (as the charm does with a stopped member) between the stop and the checks.
	victim := "etcd/2"
	names := []string{"etcd", "etcd-health"}
	results := runNRPEAfter(t, m, victim, "systemctl stop etcd.service", checks[victim][names[0]], checks[victim][names[1]])
	for i, name := range names {
		if r := results[i]; r.code != 2 || !strings.HasPrefix(r.out, "CRITICAL - ") {
			t.Errorf("%s on the stopped member: %d %q", name, r.code, r.out)
		}
	}
	if code, out := runNRPE(t, m, "etcd/0", checks["etcd/0"]["etcd-health"]); code != 0 {
		t.Errorf("etcd-health on a member beside the stopped one: %d %q", code, out)
	}
	execOK(t, m, victim, "systemctl start etcd.service")
	waitFor(t, time.Minute, "the member healthy again", func() bool {
		code, _ := runNRPE(t, m, victim, checks[victim]["etcd-health"])
		return code == 0
	})

	// A frozen member: systemd still calls it active, its health says otherwise.
	if err := m.SignalWorkload(ctx, victim, "etcd", syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if code, out := runNRPE(t, m, victim, checks[victim]["etcd"]); code != 0 {
		t.Errorf("service check of a frozen member: %d %q", code, out)
	}
	if code, out := runNRPE(t, m, victim, checks[victim]["etcd-health"]); code != 2 {
		t.Errorf("health check of a frozen member: %d %q", code, out)
	}
	if err := m.SignalWorkload(ctx, victim, "etcd", syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}

	// The relations go: the requests and every check file with them.
	for _, ep := range [][2]string{{"etcd:grafana", "grafana:dashboards"}, {"etcd:prometheus", "prometheus2:manual-jobs"},
		{"etcd:nrpe-external-master", "nrpe:nrpe-external-master"}} {
		if err := m.RemoveRelation(ctx, ep[0], ep[1]); err != nil {
			t.Fatal(err)
		}
	}
	waitActive(t, m, 3*time.Minute)
	for _, u := range []string{"etcd/0", "etcd/1", "etcd/2"} {
		if left := execOK(t, m, u, `find "$LOCALJUJU_ROOT/etc/nagios/nrpe.d" "$LOCALJUJU_ROOT/var/lib/nagios/export" -type f -printf '%f\n'`); strings.TrimSpace(left) != "" {
			t.Errorf("%s kept check files after the nrpe relation went:\n%s", u, left)
		}
	}
}

// onlyRequest is the one request_<id> key in a unit's bag.
func onlyRequest(t *testing.T, m *client.Model, rel int, unit string) (string, string) {
	t.Helper()
	bag, err := m.UnitBag(context.Background(), rel, unit)
	if err != nil {
		t.Fatal(err)
	}
	var key, value string
	for k, v := range bag {
		if strings.HasPrefix(k, "request_") {
			if key != "" {
				t.Fatalf("%s has two requests: %v", unit, bag)
			}
			key, value = k, v
		}
	}
	if key == "" {
		t.Fatalf("%s asked nothing on relation %d: %v", unit, rel, bag)
	}
	return key, value
}

var nrpeCommandRE = regexp.MustCompile(`(?m)^command\[check_([A-Za-z0-9._-]+)\]=(.+)$`)

// nrpeCommands reads the command lines of a unit's nrpe.d files, as nrpe does.
func nrpeCommands(t *testing.T, m *client.Model, unit string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, match := range nrpeCommandRE.FindAllStringSubmatch(execOK(t, m, unit, `cat "$LOCALJUJU_ROOT"/etc/nagios/nrpe.d/check_*.cfg`), -1) {
		out[match[1]] = match[2]
	}
	return out
}

// runNRPE runs a check's command line on the unit's machine, as nrpe would, and returns its exit code and
// its line of output.
func runNRPE(t *testing.T, m *client.Model, unit, command string) (int, string) {
	t.Helper()
	res, err := m.Exec(context.Background(), unit, command)
	if err != nil {
		t.Fatal(err)
	}
	return res.Code, strings.TrimSpace(res.Stdout)
}

type nrpeResult struct {
	code int
	out  string
}

// runNRPEAfter runs prelude and then each check command in one juju-exec, so that no hook runs in between.
func runNRPEAfter(t *testing.T, m *client.Model, unit, prelude string, commands ...string) []nrpeResult {
	t.Helper()
	const marker = "nrpe-exit="
	script := prelude + "\n"
	for _, c := range commands {
		script += c + "; rc=$?; echo; echo " + marker + "$rc\n"
	}
	res, err := m.Exec(context.Background(), unit, script)
	if err != nil {
		t.Fatal(err)
	}
	var results []nrpeResult
	var out []string
	for line := range strings.SplitSeq(res.Stdout, "\n") {
		if code, ok := strings.CutPrefix(line, marker); ok {
			n, err := strconv.Atoi(strings.TrimSpace(code))
			if err != nil {
				t.Fatalf("exit status %q in %q", code, res.Stdout)
			}
			results = append(results, nrpeResult{code: n, out: strings.TrimSpace(strings.Join(out, "\n"))})
			out = nil
			continue
		}
		out = append(out, line)
	}
	if len(results) != len(commands) {
		t.Fatalf("%d results from %d checks on %s: stdout %q stderr %q", len(results), len(commands), unit, res.Stdout, res.Stderr)
	}
	return results
}

func execOK(t *testing.T, m *client.Model, unit, command string) string {
	t.Helper()
	res, err := m.Exec(context.Background(), unit, command)
	if err != nil || res.Code != 0 {
		t.Fatalf("exec on %s %q: %v %d %s", unit, command, err, res.Code, res.Stderr)
	}
	return res.Stdout
}
