package plan

import (
	"strings"
	"testing"

	"github.com/etcd-charm/etcd/internal/cluster"
)

func TestGivenATenantWhenTheOperatorAddsGatewayUsersThenTheyAreWeighedLikeTenantsAndOutliveEveryPlan(t *testing.T) {
	// Given one etcd-client tenant on /a/
	policy := ClientPolicy{EtcdUsers: []string{"root", "legacy"}, MemberNamePrefix: "etcd-"}
	reqs := []ClientRequest{clientReq(t, "etcd-client:5", "a", "/a/", "app-a")}
	current := Clients(Registry{}, reqs, policy, planNow).Grants
	policy.EtcdUsers = append(policy.EtcdUsers, "app-a")

	// When the operator asks for gateway users, then only those that take nobody's name or keys are made
	refused := map[string][2]string{
		"root is etcd's administrator":        {"root", "/service/"},
		"a member's name":                     {"etcd-3", "/service/"},
		"the tenant's user":                   {"app-a", "/service/"},
		"an etcd user the charm did not make": {"legacy", "/service/"},
		"a db relation's issued name":         {"db-3-kube", "/service/"},
		"a name with a slash":                 {"pat/roni", "/service/"},
		"a prefix around the tenant's":        {"patroni", "/"},
		"a prefix inside the tenant's":        {"patroni", "/a/service/"},
		"the charm's own keys":                {"patroni", "/etcd-charm/x/"},
		"no prefix":                           {"patroni", ""},
	}
	for what, ask := range refused {
		if _, reason := GatewayUser(current, ask[0], ask[1], policy); reason == "" {
			t.Errorf("%s (%s on %q) was accepted", what, ask[0], ask[1])
		}
	}
	g, reason := GatewayUser(current, "patroni", "/service/", policy)
	if reason != "" || g.Endpoint != GatewayEndpoint || g.User != "patroni" {
		t.Fatalf("patroni on /service/: %+v %q", g, reason)
	}
	if p := g.Permissions(); len(p) != 1 || p[0] != cluster.PrefixPermission("/service/", cluster.ReadWrite) {
		t.Errorf("gateway permissions %v, want read-write on /service/ only", p)
	}
	current[GatewayKey("patroni")] = g
	if _, reason := GatewayUser(current, "patroni", "/service2/", ClientPolicy{EtcdUsers: append(policy.EtcdUsers, "patroni")}); reason != "" {
		t.Errorf("asking again for an existing gateway user (new prefix) was refused: %s", reason)
	}

	// And the relations' plan keeps the gateway user, and weighs newcomers against it
	reqs = append(reqs, clientReq(t, "etcd-client:6", "b", "/service/patroni/", "app-b"),
		clientReq(t, "etcd-client:7", "c", "/c/", "patroni"))
	p := Clients(current, reqs, ClientPolicy{EtcdUsers: append(policy.EtcdUsers, "patroni"), MemberNamePrefix: "etcd-"}, planNow)
	if p.Grants[GatewayKey("patroni")] != g || len(p.Revoke) != 0 {
		t.Errorf("the relations' plan dropped or revoked the gateway user: %+v, revoke %v", p.Grants, p.Revoke)
	}
	if len(p.Problems) != 2 {
		t.Fatalf("problems %v, want the prefix inside the gateway user's and its name refused", p.Problems)
	}
	for _, prob := range p.Problems {
		if !strings.Contains(prob.Reason, GatewayKey("patroni")) {
			t.Errorf("problem %q does not name the gateway user it collides with", prob.Reason)
		}
	}
}
