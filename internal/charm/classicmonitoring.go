package charm

import (
	"net"
	"strconv"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/cos"
)

// The classic LMA endpoints, so classic bundles and overlays relate unchanged: `prometheus`
// (prometheus-manual, to the prometheus2 charm's manual-jobs) and `grafana` (grafana-dashboard). As in the
// classic charm only the Juju leader asks, in its own unit bag; unlike it, Prometheus is pointed at each
// unit's plain metrics listener (the classic job scraped the client port over TLS without a usable client
// certificate, LP#2004612).
const (
	prometheusEndpoint = "prometheus"
	grafanaEndpoint    = "grafana"
)

// tendClassicMonitoring publishes the scrape job and the dashboard while this unit leads, and takes back
// what it published when it no longer leads or the other side is gone. Failures are logged only.
func (c *unitContext) tendClassicMonitoring() {
	promIDs := c.classicRelationIDs(prometheusEndpoint)
	grafanaIDs := c.classicRelationIDs(grafanaEndpoint)
	var job, dashboard map[string]string // request value by relation ID
	if c.leader && c.cfg.MetricsPort != 0 && len(promIDs) > 0 {
		job = c.classicJobs(promIDs)
		if len(grafanaIDs) > 0 {
			dashboard = c.classicDashboards(promIDs[0], grafanaIDs)
		}
	}
	for _, ep := range []struct {
		name     string
		ids      []string
		requests map[string]string
	}{{prometheusEndpoint, promIDs, job}, {grafanaEndpoint, grafanaIDs, dashboard}} {
		for _, id := range ep.ids {
			if err := c.publishRequest(ep.name, id, ep.requests[id]); err != nil {
				goops.LogWarningf("publishing to %s relation %s: %v", ep.name, id, err)
			}
		}
	}
}

// classicRelationIDs lists an endpoint's relations, leaving out one that is being broken.
func (c *unitContext) classicRelationIDs(endpoint string) []string {
	ids, err := c.optionalRelationIDs(endpoint)
	if err != nil {
		goops.LogWarningf("listing %s relations: %v", endpoint, err)
		return nil
	}
	if c.hook == endpoint+"-relation-broken" {
		ids = without(ids, c.getenv("JUJU_RELATION_ID"))
	}
	return ids
}

func (c *unitContext) requestID(endpoint, id string) string {
	return cos.RequestID(c.getenv("JUJU_MODEL_UUID") + "/" + appName(c.unit) + "/" + endpoint + ":" + id)
}

// classicJobs is the scrape job for every unit's metrics listener, per prometheus relation.
func (c *unitContext) classicJobs(ids []string) map[string]string {
	units, err := c.peers.Units()
	if err != nil {
		goops.LogWarningf("listing the units to scrape: %v", err)
		return nil
	}
	port := strconv.Itoa(c.cfg.MetricsPort)
	targets := []string{net.JoinHostPort(c.address, port)}
	for _, bag := range units {
		if a := bag[keyAddress]; a != "" {
			targets = append(targets, net.JoinHostPort(a, port))
		}
	}
	out := map[string]string{}
	for _, id := range ids {
		if v, err := cos.ClassicJob(c.requestID(prometheusEndpoint, id), targets); err == nil {
			out[id] = v
		}
	}
	return out
}

// classicDashboards is the dashboard per grafana relation, on the data source the classic grafana charm
// made for the (first) related Prometheus; nothing until that Prometheus has a unit to name it by.
func (c *unitContext) classicDashboards(promID string, grafanaIDs []string) map[string]string {
	units, err := goops.ListRelationUnits(promID)
	if err != nil || len(units) == 0 {
		return nil
	}
	source := appName(units[0]) + " - Juju generated source"
	out := map[string]string{}
	for _, id := range grafanaIDs {
		if v, err := cos.ClassicDashboard(c.requestID(grafanaEndpoint, id), source); err == nil {
			out[id] = v
		}
	}
	return out
}

// publishRequest puts value under request_<id> in this unit's bag, or removes what this unit put there when
// value is empty; unit state remembers what is there, so a steady hook makes no call.
func (c *unitContext) publishRequest(endpoint, id, value string) error {
	key := "classic " + endpoint + " " + id
	if getState(key) == value {
		return nil
	}
	rid := c.requestID(endpoint, id)
	if err := goops.SetUnitRelationData(id, map[string]string{"request_" + rid: value}); err != nil {
		return err
	}
	return setState(key, value)
}
