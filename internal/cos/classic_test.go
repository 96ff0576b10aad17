package cos

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestGivenASeedWhenARequestIDIsMadeThenItIsAStableVersion4UUID(t *testing.T) {
	a, b := RequestID("model/etcd/prometheus:7"), RequestID("model/etcd/prometheus:7")
	if a != b || a == RequestID("model/etcd/prometheus:8") {
		t.Errorf("ids %s %s", a, b)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(a) {
		t.Errorf("%s is not a v4 UUID", a)
	}
}

func TestGivenUnitTargetsWhenTheClassicJobIsMadeThenItHasPrometheusManualsFields(t *testing.T) {
	raw, err := ClassicJob("id-1", []string{"10.0.0.3:2381", "10.0.0.1:2381"})
	if err != nil {
		t.Fatal(err)
	}
	var req map[string]any
	if err := json.Unmarshal([]byte(raw), &req); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"request_id", "job_name", "job_data", "ca_cert", "client_cert", "client_key"} {
		if _, ok := req[k]; !ok {
			t.Errorf("request lacks %s: %s", k, raw)
		}
	}
	if req["job_name"] != "etcd" || !strings.Contains(raw, `"static_configs":[{"targets":["10.0.0.1:2381","10.0.0.3:2381"]}]`) ||
		!strings.Contains(raw, `"scheme":"http"`) {
		t.Errorf("job %s", raw)
	}
}

func TestGivenAPrometheusAppWhenTheClassicDashboardIsMadeThenEveryPanelUsesItsGeneratedSource(t *testing.T) {
	raw, err := ClassicDashboard("id-2", "prometheus - Juju generated source")
	if err != nil {
		t.Fatal(err)
	}
	var req struct {
		RequestID string `json:"request_id"`
		Name      string
		Dashboard struct {
			Templating any
			Panels     []struct {
				Datasource any
				Targets    []struct {
					Expr       string
					Datasource any
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(raw), &req); err != nil {
		t.Fatal(err)
	}
	if req.RequestID != "id-2" || req.Name != "etcd" || len(req.Dashboard.Panels) < 10 || req.Dashboard.Templating != nil {
		t.Fatalf("request %+v", req)
	}
	for _, p := range req.Dashboard.Panels {
		if p.Datasource != "prometheus - Juju generated source" {
			t.Errorf("panel datasource %v", p.Datasource)
		}
		for _, tg := range p.Targets {
			if tg.Datasource != "prometheus - Juju generated source" || tg.Expr == "" {
				t.Errorf("target %+v", tg)
			}
		}
	}
	if strings.Contains(raw, "prometheusds") {
		t.Error("the COS data source variable is left in")
	}
}
