package cos

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
)

// The classic LMA endpoints speak charms.reactive's request/response pattern: the requester (here, the
// Juju leader) puts one JSON value per request in its own unit bag under request_<uuid>, and the responder
// answers under response_<uuid>. The prometheus2 charm renders the job as "<job_name>-<request_id>"; the
// classic grafana charm imports the dashboard object as given.

// RequestID is a UUID-shaped request id derived from seed, so every leader of the application makes the
// same one and a change of leader updates the job or dashboard instead of adding a second.
func RequestID(seed string) string {
	s := sha256.Sum256([]byte(seed))
	s[6] = s[6]&0x0f | 0x40 // the version and variant bits of a random (v4) UUID, which is what the
	s[8] = s[8]&0x3f | 0x80 // Python requesters send
	return fmt.Sprintf("%x-%x-%x-%x-%x", s[0:4], s[4:6], s[6:8], s[8:10], s[10:16])
}

// ClassicJob is the prometheus-manual request for scraping targets (host:port of each unit's metrics
// listener, plain HTTP: the listener serves no keys, so the request carries no client certificate).
func ClassicJob(requestID string, targets []string) (string, error) {
	targets = slices.Sorted(slices.Values(targets))
	raw, err := json.Marshal(map[string]any{
		"request_id": requestID,
		"job_name":   "etcd",
		"job_data": map[string]any{
			"scheme":         "http",
			"metrics_path":   "/metrics",
			"static_configs": []any{map[string]any{"targets": targets}},
		},
		"ca_cert": nil, "client_cert": nil, "client_key": nil,
	})
	return string(raw), err
}

// ClassicDashboard is the grafana-dashboard request: the charm's dashboard with every panel and query on
// the named data source (the classic grafana charm names Prometheus' "<app> - Juju generated source") in
// place of the COS data source variable.
func ClassicDashboard(requestID, datasource string) (string, error) {
	var d map[string]any
	if err := json.Unmarshal(dashboardJSON, &d); err != nil {
		return "", fmt.Errorf("the charm's dashboard: %w", err)
	}
	delete(d, "templating")
	panels, _ := d["panels"].([]any)
	for _, p := range panels {
		panel, _ := p.(map[string]any)
		if panel == nil {
			continue
		}
		panel["datasource"] = datasource
		targets, _ := panel["targets"].([]any)
		for _, t := range targets {
			if target, ok := t.(map[string]any); ok {
				target["datasource"] = datasource
			}
		}
	}
	raw, err := json.Marshal(map[string]any{"request_id": requestID, "name": "etcd", "dashboard": d})
	return string(raw), err
}
