package charm

import (
	"time"

	"github.com/etcd-charm/etcd/internal/charm/plan"
)

// The client decisions live in plan; these names keep the charm's code in its own words.
type (
	clientGrant    = plan.Grant
	clientRegistry = plan.Registry
	clientRequest  = plan.ClientRequest
	clientProblem  = plan.ClientProblem
)

func planClients(current clientRegistry, reqs []clientRequest, etcdUsers []string, now time.Time) plan.ClientPlan {
	return plan.Clients(current, reqs, etcdUsers, now)
}

func trustBundle(caPEM string, r clientRegistry) []byte { return plan.TrustBundle(caPEM, r) }
