package charm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gruyaume/goops"
	"go.etcd.io/etcd/api/v3/version"

	"github.com/etcd-charm/etcd/interfaces/etcd"
	"github.com/etcd-charm/etcd/interfaces/etcdclient"
	"github.com/etcd-charm/etcd/interfaces/etcdproxy"
	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/internal/pki"
)

// relationIDs lists an endpoint's relations, leaving out the one this hook reports broken: it is going,
// whatever relation-ids still says about it.
func (c *unitContext) relationIDs(endpoint string) ([]string, error) {
	if ids, ok := c.relations[endpoint]; ok {
		return ids, nil
	}
	ids, err := goops.GetRelationIDs(endpoint)
	if err != nil {
		return nil, fmt.Errorf("listing %s relations: %w", endpoint, err)
	}
	if c.hook == endpoint+"-relation-broken" {
		broken := c.getenv("JUJU_RELATION_ID")
		ids = slices.DeleteFunc(ids, func(id string) bool { return id == broken })
	}
	if c.relations == nil {
		c.relations = map[string][]string{}
	}
	c.relations[endpoint] = ids
	return ids, nil
}

// optionalRelationIDs is relationIDs for an endpoint most deployments never relate (cos-agent,
// s3-credentials), without its hook tool call in update-status when the unit's last other hook found no
// relation there: a relation arrives and leaves with hooks of its own on every unit (relation-created,
// relation-broken), and a new leader starts with leader-elected, and each of those refreshes what is
// remembered. A hook killed before the state is committed runs again.
func (c *unitContext) optionalRelationIDs(endpoint string) ([]string, error) {
	key := "related " + endpoint
	if c.hook == "update-status" && getState(key) == "no" {
		return nil, nil
	}
	ids, err := c.relationIDs(endpoint)
	if err != nil {
		return nil, err
	}
	seen := "no"
	if len(ids) > 0 {
		seen = "yes"
	}
	if getState(key) != seen {
		if err := setState(key, seen); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// readClientRequests gathers every client relation's request (leader only: etcd_client requests live in the
// requirer's application bag, which only a leader answers).
// It also names the applications whose etcd_client request (or a refused one) it read.
func (c *unitContext) readClientRequests() ([]clientRequest, map[string][]etcdclient.Request, []string, error) {
	var reqs []clientRequest
	for _, ep := range []string{dbEndpoint, proxyEndpoint} {
		ids, err := c.relationIDs(ep)
		if err != nil {
			return nil, nil, nil, err
		}
		for _, id := range ids {
			app, err := goops.GetRelationApp(id)
			if err != nil {
				return nil, nil, nil, fmt.Errorf("naming the application on %s: %w", id, err)
			}
			reqs = append(reqs, clientRequest{Key: id, Endpoint: ep, RelationID: id, App: app})
		}
	}
	ids, err := c.relationIDs(clientEndpoint)
	if err != nil {
		return nil, nil, nil, err
	}
	byRelation := map[string][]etcdclient.Request{}
	var heard []string
	for _, id := range ids {
		rs, problems, err := etcdclient.ReadRequests(id)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("reading the etcd_client request on %s: %w", id, err)
		}
		byRelation[id] = rs
		for _, r := range rs {
			heard = append(heard, r.App)
			reqs = append(reqs, clientRequest{Key: r.Key(), Endpoint: clientEndpoint, RelationID: id, App: r.App,
				Prefix: r.Prefix, HasPrefix: r.HasPrefix, CertPEM: r.CertificatePEM})
		}
		for _, p := range problems {
			heard = append(heard, p.App)
			reqs = append(reqs, clientRequest{Key: p.Key, Endpoint: clientEndpoint, RelationID: id, App: p.App, Problem: p.Reason})
		}
	}
	return reqs, byRelation, heard, nil
}

// serveClients is the leader's part: decide which clients the cluster serves, make etcd's users, roles and
// the charm-issued identities match, and record them for every unit. It returns the requests it refused and
// the requests to answer once every member trusts them (answerClientRequirers).
func (c *unitContext) serveClients(ctx context.Context, cli *cluster.Client) ([]clientProblem, *clientAnswers, error) {
	current := c.peers.clientRegistry()
	if len(current) == 0 && c.hook == "update-status" {
		// No client yet: a new relation announces itself with its own hooks, so the periodic hook need not
		// list three endpoints' relations to find none.
		return nil, nil, nil
	}
	reqs, byRelation, heard, err := c.readClientRequests()
	if err != nil {
		return nil, nil, err
	}
	if len(reqs) == 0 && len(current) == 0 {
		return nil, nil, nil
	}
	users, err := cli.Users(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("listing etcd users: %w", err)
	}
	// etcd counts every auth change: when nothing changed since every grant was last seen whole, the grants
	// that the registry and the user list agree on need no further look.
	authRev, err := cli.AuthRevision(ctx)
	if err != nil {
		return nil, nil, err
	}
	verified := getState(authVerifiedState) == authVerifiedValue(authRev)
	plan := c.planClients(current, reqs, users)
	mended := false
	for _, g := range plan.Revoke {
		if err := c.revokeClient(ctx, cli, g, plan.Grants); err != nil {
			return nil, nil, err
		}
		mended = true
	}
	for _, key := range slices.Sorted(maps.Keys(plan.Grants)) {
		g := plan.Grants[key]
		if g.Endpoint == gatewayEndpoint && !slices.Contains(users, g.User) {
			// Its password lives only in etcd (and with its client): a user made again here could not log in.
			goops.LogWarningf("gateway user %s is not in etcd (restored from an older snapshot?); run add-gateway-user for it again", g.User)
			continue
		}
		settled := current[key] == g && slices.Contains(users, g.User)
		if settled && !verified {
			if settled, err = c.grantInPlace(ctx, cli, g); err != nil {
				return nil, nil, err
			}
		}
		if !settled {
			// Every auth change is a raft write: a hook only makes them for grants that are not as they
			// should be, and makes each one whole again (user, role, exactly its permissions).
			goops.LogInfof("granting etcd user %s of %s (%s) its permissions", g.User, g.RelationID, g.App)
			if err := c.grantUser(ctx, cli, g); err != nil {
				return nil, nil, err
			}
			mended = true
		}
		if g.Endpoint == dbEndpoint || g.Endpoint == proxyEndpoint {
			if g, err = c.ensureIssuedIdentity(g); err != nil {
				return nil, nil, err
			}
		}
		plan.Grants[key] = g
	}
	if err := c.peers.setClientRegistry(plan.Grants); err != nil {
		return nil, nil, err
	}
	if err := c.advanceTrustGeneration(ctx, cli, c.pendingRequirers(heard)); err != nil {
		return nil, nil, err
	}
	if !mended {
		// Only a look found every grant whole: a hook that changed something looks again next time.
		if err := setState(authVerifiedState, authVerifiedValue(authRev)); err != nil {
			return nil, nil, err
		}
	}
	return plan.Problems, &clientAnswers{byRelation: byRelation, grants: plan.Grants}, nil
}

// pendingRequirers counts the applications Juju's goal state relates on etcd-client that have sent no request
// yet (heard names those that have): requirers integrated together, each of which will bring a certificate.
// The leader runs their relations' hooks one after another, so only goal-state knows of them all at once.
func (c *unitContext) pendingRequirers(heard []string) int {
	goal, err := goops.GetGoalState()
	if err != nil {
		goops.LogWarningf("reading goal-state: %v (members restart without waiting for requirers still to come)", err)
		return 0
	}
	related := map[string]string{}
	for name, st := range goal.Relations[clientEndpoint] {
		related[name] = string(st.Status)
	}
	return plan.PendingRequirers(related, heard)
}

// authVerifiedState is etcd's auth revision at which the leader last found every grant whole, with the
// version of the rules that make a grant's permissions: a charm whose rules differ (grantRules) looks at
// every grant again after a refresh, though etcd's auth did not change.
const authVerifiedState = "auth-verified-revision"

// grantRules names the rules of plan.Grant.Permissions; change it whenever they change.
// 2: every grant less the charm's coordination range (CoordinationPrefix).
// 3: db grants hold the root role too while db_admin is on (Grant.Roles).
const grantRules = "3"

func authVerifiedValue(authRev uint64) string {
	return strconv.FormatUint(authRev, 10) + "/rules-" + grantRules
}

// clientAnswers are the etcd_client requests the leader serves, to be answered once every member trusts them.
type clientAnswers struct {
	byRelation map[string][]etcdclient.Request
	grants     clientRegistry
}

// grantInPlace reports whether etcd holds g as it should be: the user holds exactly the grant's roles (its
// own, and root for an administering db consumer), and its own role exactly g's permissions.
func (c *unitContext) grantInPlace(ctx context.Context, cli *cluster.Client, g clientGrant) (bool, error) {
	roles, err := cli.UserRoles(ctx, g.User)
	if errors.Is(err, cluster.ErrUserNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	slices.Sort(roles)
	if !slices.Equal(roles, g.Roles()) {
		return false, nil
	}
	return cli.RoleMatches(ctx, g.User, g.Permissions())
}

// grantUser makes etcd match one grant: the user (no password: it authenticates by its certificate's CN),
// its role with exactly the grant's permissions, the grant's roles and no other. Each call only adds what is
// missing before it takes anything away, so a grant interrupted half way leaves the client at least what it
// had.
func (c *unitContext) grantUser(ctx context.Context, cli *cluster.Client, g clientGrant) error {
	if err := cli.EnsureUser(ctx, g.User, ""); err != nil {
		return err
	}
	if err := cli.EnsureRole(ctx, g.User, g.Permissions()); err != nil {
		return err
	}
	want := g.Roles()
	for _, r := range want {
		if err := cli.GrantRole(ctx, g.User, r); err != nil {
			return err
		}
	}
	roles, err := cli.UserRoles(ctx, g.User)
	if err != nil {
		return err
	}
	for _, r := range roles {
		if !slices.Contains(want, r) {
			goops.LogWarningf("revoking role %s from etcd user %s: a client holds only the roles of its grant", r, g.User)
			if err := cli.RevokeRole(ctx, g.User, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// ensureIssuedIdentity gives a db or proxy relation a client certificate of its own, renewed like the
// members' certificates, in an application secret every unit can read.
func (c *unitContext) ensureIssuedIdentity(g clientGrant) (clientGrant, error) {
	if g.SecretID != "" {
		content, err := goops.GetSecretByID(g.SecretID, false, false)
		if err == nil && !c.needsRenewal(content["certificate"]) && content["certificate"] != "" {
			return g, nil
		}
	}
	ca, err := c.ensureCA()
	if err != nil {
		return g, err
	}
	kp, err := pki.IssueClient(ca, g.User, pki.ClientLifetime)
	if err != nil {
		return g, fmt.Errorf("issuing the client certificate of %s: %w", g.RelationID, err)
	}
	content := map[string]string{"certificate": string(kp.CertPEM), "private-key": string(kp.KeyPEM)}
	if g.SecretID != "" {
		if err := goops.SetSecret(&goops.SetSecretOptions{ID: g.SecretID, Content: content}); err != nil {
			return g, fmt.Errorf("renewing the client certificate of %s: %w", g.RelationID, err)
		}
		return g, nil
	}
	id, err := goops.AddSecret(&goops.AddSecretOptions{
		Content:     content,
		Description: fmt.Sprintf("etcd client identity of %s (%s)", g.RelationID, g.App),
		Label:       "client-" + strings.ReplaceAll(g.RelationID, ":", "-"),
		Owner:       goops.OwnerApplication,
	})
	if err != nil {
		return g, fmt.Errorf("storing the client identity of %s: %w", g.RelationID, err)
	}
	g.SecretID = strings.TrimSpace(id)
	return g, nil
}

// revokeClient deletes a grant's role and user (its requests fail from the next one on) and the secrets the
// charm made for it. A user that another grant now holds is kept: the CN moved, not the client.
func (c *unitContext) revokeClient(ctx context.Context, cli *cluster.Client, g clientGrant, keep clientRegistry) error {
	goops.LogInfof("revoking etcd user %s of %s (%s)", g.User, g.RelationID, g.App)
	inUse := false
	for _, k := range keep {
		inUse = inUse || k.User == g.User
	}
	if !inUse {
		if err := cli.DeleteRole(ctx, g.User); err != nil {
			return err
		}
		if err := cli.DeleteUser(ctx, g.User); err != nil {
			return err
		}
	}
	if g.SecretID != "" {
		if err := goops.RemoveSecret(g.SecretID); err != nil {
			goops.LogWarningf("removing the client identity secret of %s: %v", g.RelationID, err)
		}
	}
	if g.Endpoint == clientEndpoint {
		var kept []string
		for key, k := range keep {
			if k.RelationID == g.RelationID {
				kept = append(kept, key)
			}
		}
		if err := etcdclient.Withdraw(g.RelationID, kept); err != nil {
			goops.LogWarningf("withdrawing the answer on %s: %v", g.RelationID, err)
		}
	}
	return nil
}

// answerClientRequirers publishes endpoints, the user and the CA to each etcd_client relation, but only for
// requests whose certificate every member already trusts: "ready" then means a request will succeed.
func (c *unitContext) answerClientRequirers(a *clientAnswers, members []cluster.Member) error {
	if a == nil || len(a.byRelation) == 0 {
		return nil
	}
	byRelation, grants := a.byRelation, a.grants
	live, err := c.trustLiveEverywhere(grants)
	if err != nil {
		return err
	}
	if !live {
		goops.LogInfof("client trust not yet applied on every member; etcd_client answers wait")
		return nil
	}
	members, err = c.unitMembers(members)
	if err != nil {
		return err
	}
	endpoints, uris := clientAddresses(members)
	for _, id := range slices.Sorted(maps.Keys(byRelation)) {
		responses := map[string]etcdclient.Response{}
		var granted []etcdclient.Request
		for _, r := range byRelation[id] {
			g, ok := grants[r.Key()]
			if !ok {
				continue
			}
			granted = append(granted, r)
			responses[r.Key()] = etcdclient.Response{Endpoints: endpoints, URIs: uris, Version: version.Version,
				Username: g.User, TLSCA: c.serverCABundle()}
		}
		if len(granted) == 0 {
			continue
		}
		if err := etcdclient.Publish(id, granted, responses); err != nil {
			return fmt.Errorf("answering the etcd_client request on %s: %w", id, err)
		}
	}
	return nil
}

// trustLiveEverywhere: every member unit runs with the trust bundle these grants make.
func (c *unitContext) trustLiveEverywhere(grants clientRegistry) (bool, error) {
	units, err := c.peers.Units()
	if err != nil {
		return false, err
	}
	want := trustDigest(trustBundle(c.peers.App[keyCACert], grants))
	bags := append([]map[string]string{c.peers.Self}, slices.Collect(maps.Values(units))...)
	for _, bag := range bags {
		if bag[keyMemberState] == stateVoter && bag[keyClientTrust] != want {
			return false, nil
		}
	}
	return true, nil
}

// unitMembers are the members that belong to a unit of the application now. A unit that departs is gone
// from the peer relation before its member is gone from etcd (it removes itself in a hook of its own), and
// no later hook may come soon to correct what clients were told, so clients hear of the unit set. A started
// member is known by its name, which the charm derives from its unit's; only a member that has not started
// yet (no name) needs the units' bags, to be matched by peer URL.
func (c *unitContext) unitMembers(members []cluster.Member) ([]cluster.Member, error) {
	others, err := c.peers.unitNames()
	if err != nil {
		return nil, err
	}
	names := []string{memberName(c.unit)}
	for _, u := range others {
		names = append(names, memberName(u))
	}
	var peerURLs []string
	if slices.ContainsFunc(members, func(m cluster.Member) bool { return m.Name == "" }) {
		units, err := c.peers.Units()
		if err != nil {
			return nil, err
		}
		peerURLs = append(peerURLs, c.peerURL())
		for _, bag := range units {
			peerURLs = append(peerURLs, bag[keyPeerURL])
		}
	}
	return slices.DeleteFunc(slices.Clone(members), func(m cluster.Member) bool {
		if m.Name != "" {
			return !slices.Contains(names, m.Name)
		}
		return !slices.ContainsFunc(m.PeerURLs, func(u string) bool { return slices.Contains(peerURLs, u) })
	}), nil
}

// clientAddresses are the voting members' client URLs as etcd_client wants them: host:port and https URLs.
func clientAddresses(members []cluster.Member) (endpoints, uris []string) {
	for _, m := range members {
		if m.IsLearner || len(m.ClientURLs) == 0 {
			continue
		}
		u := m.ClientURLs[0]
		uris = append(uris, u)
		if parsed, err := url.Parse(u); err == nil {
			endpoints = append(endpoints, parsed.Host)
		}
	}
	slices.Sort(endpoints)
	slices.Sort(uris)
	return endpoints, uris
}

// publishClassicRelations writes this member's view to every db and proxy relation: every registered unit
// publishes complete, identical values, because consumers read whichever unit they find first.
func (c *unitContext) publishClassicRelations(members []cluster.Member) error {
	if c.peers.Self[keyMemberState] != stateVoter {
		return nil
	}
	grants := c.peers.clientRegistry()
	if !slices.ContainsFunc(slices.Collect(maps.Values(grants)), func(g clientGrant) bool { return g.Endpoint == dbEndpoint || g.Endpoint == proxyEndpoint }) {
		return nil // no db or proxy client yet: nothing to publish, and no need to list those relations
	}
	members, err := c.unitMembers(members)
	if err != nil {
		return err
	}
	_, uris := clientAddresses(members)
	var cluster []etcdproxy.Member
	for _, m := range members {
		if !m.IsLearner && m.Name != "" && len(m.PeerURLs) > 0 {
			cluster = append(cluster, etcdproxy.Member{Name: m.Name, PeerURL: m.PeerURLs[0]})
		}
	}
	for _, ep := range []string{dbEndpoint, proxyEndpoint} {
		ids, err := c.relationIDs(ep)
		if err != nil {
			return err
		}
		for _, id := range ids {
			g, ok := grants[id]
			if !ok || g.SecretID == "" {
				continue // the leader has not issued this relation's identity yet
			}
			creds, err := c.issuedCredentials(g)
			if err != nil {
				return err
			}
			if ep == dbEndpoint {
				err = etcd.Publish(id, etcd.ProviderData{ConnectionString: etcd.ConnectionString(uris),
					Version: version.Version, Credentials: creds})
			} else {
				err = etcdproxy.Publish(id, etcdproxy.ProviderData{Cluster: etcdproxy.ClusterString(cluster),
					ConnectionString: etcd.ConnectionString(uris), Credentials: creds})
			}
			if err != nil {
				return fmt.Errorf("publishing to %s: %w", id, err)
			}
		}
	}
	return nil
}

func (c *unitContext) issuedCredentials(g clientGrant) (etcd.Credentials, error) {
	content, err := goops.GetSecretByID(g.SecretID, false, false)
	if err != nil {
		return etcd.Credentials{}, fmt.Errorf("reading the client identity of %s: %w", g.RelationID, err)
	}
	return etcd.Credentials{ClientCert: content["certificate"], ClientKey: content["private-key"], ClientCA: c.serverCABundle()}, nil
}

// reportClientProblems blocks the leader and the application on refused client requests, naming each
// relation and what its requirer must change; the cluster and every other client carry on.
func (c *unitContext) reportClientProblems(problems []clientProblem) error {
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.String()
	}
	msg := "client relation refused: " + strings.Join(msgs, "; ")
	goops.LogWarningf("%s", msg)
	_ = goops.SetAppStatus(goops.StatusBlocked, msg)
	return goops.SetUnitStatus(goops.StatusBlocked, msg)
}

// offerEncryption runs when an etcd-client relation is created: a requirer in another model cannot share its
// certificate through a secret, so it gets a key to encrypt it with in the databag (nothing in one model).
func (c *unitContext) offerEncryption() error {
	if !c.leader || c.hook != clientEndpoint+"-relation-created" {
		return nil
	}
	if err := etcdclient.OfferEncryption(c.getenv("JUJU_RELATION_ID")); err != nil {
		return fmt.Errorf("offering an encryption key to a cross-model etcd-client requirer: %w", err)
	}
	return nil
}
