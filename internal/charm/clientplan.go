package charm

import (
	"github.com/etcd-charm/etcd/internal/charm/plan"
)

// The client decisions live in plan; these names keep the charm's code in its own words.
type (
	clientGrant    = plan.Grant
	clientRegistry = plan.Registry
	clientRequest  = plan.ClientRequest
	clientProblem  = plan.ClientProblem
)

func (c *unitContext) planClients(current clientRegistry, reqs []clientRequest, etcdUsers []string) plan.ClientPlan {
	return plan.Clients(current, reqs, c.clientPolicy(etcdUsers), c.now)
}

func (c *unitContext) clientPolicy(etcdUsers []string) plan.ClientPolicy {
	return plan.ClientPolicy{EtcdUsers: etcdUsers, MemberNamePrefix: memberName(appName(c.unit) + "/"),
		NestedPrefixes: c.cfg.AllowNestedPrefixes, DBAdmin: c.cfg.DBAdmin}
}

func trustBundle(caPEM string, r clientRegistry) []byte { return plan.TrustBundle(caPEM, r) }
