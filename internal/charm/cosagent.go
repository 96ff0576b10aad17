package charm

import (
	"net"
	"strconv"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/cos"
)

// cosAgentEndpoint is where a grafana-agent or opentelemetry-collector subordinate relates (cos_agent). Every
// unit publishes its own scrape target, so every unit writes its own bag; the agent's leader gathers the
// rules and dashboards and de-duplicates them per application.
const cosAgentEndpoint = "cos-agent"

// publishCOSAgent writes this unit's cos_agent config into its bag on every cos-agent relation, only when
// it changed (a relation-set wakes the agent).
func (c *unitContext) publishCOSAgent() error {
	ids, err := c.optionalRelationIDs(cosAgentEndpoint)
	if err != nil || len(ids) == 0 {
		return err
	}
	target := ""
	if c.cfg.MetricsPort != 0 {
		target = net.JoinHostPort(c.address, strconv.Itoa(c.cfg.MetricsPort))
	}
	topo := cos.Topology{Model: c.getenv("JUJU_MODEL_NAME"), ModelUUID: c.getenv("JUJU_MODEL_UUID"),
		Application: appName(c.unit), Charm: "etcd"}
	cfg, err := cos.Config(topo, target)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := onceUntilChanged("cos-agent "+id, cfg, func() error {
			return goops.SetUnitRelationData(id, map[string]string{cos.ConfigKey: cfg})
		}); err != nil {
			return err
		}
	}
	return nil
}
