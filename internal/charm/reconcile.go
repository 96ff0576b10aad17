package charm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gruyaume/goops"
	"go.etcd.io/etcd/api/v3/version"

	"github.com/etcd-charm/etcd/internal/cluster"
)

// errBlocked means a person has to act; the message says what to do.
type errBlocked struct{ msg string }

func (e errBlocked) Error() string { return e.msg }

func blocked(format string, args ...any) error { return errBlocked{fmt.Sprintf(format, args...)} }

// reconcile is the one path every ordinary hook takes: shared state first (leader), this unit's identity and
// certificates, then the member itself, then status.
func (c *unitContext) reconcile() error {
	if err := c.installWorkload(); err != nil {
		return c.reportProgress(err)
	}
	if err := onceUntilChanged("application-version", version.Version, func() error {
		return goops.SetAppVersion(version.Version)
	}); err != nil {
		return fmt.Errorf("setting the application version: %w", err)
	}
	if c.peers == nil {
		return goops.SetUnitStatus(goops.StatusWaiting, "waiting for the peer relation")
	}
	if c.peers.Self[keyMemberState] == stateRemoved {
		return goops.SetUnitStatus(goops.StatusMaintenance, "removed from the etcd cluster; the unit is going away")
	}
	if c.leader {
		if err := c.leaderSetup(); err != nil {
			return err
		}
		if err := c.adoptRebuild(); err != nil {
			return err
		}
		if err := c.offerEncryption(); err != nil {
			return err
		}
	}
	problems := append(c.cfg.Validate(c.bootstrappedPeerPort()), c.periodicConfigProblems()...)
	if len(problems) > 0 {
		return c.reportConfigProblems(problems)
	}
	if err := c.publishIdentity(); err != nil {
		return err
	}
	if c.leader {
		if err := c.signPending(); err != nil {
			return err
		}
	}
	ready, err := c.installCertificates()
	if err != nil {
		return err
	}
	if !ready {
		return goops.SetUnitStatus(goops.StatusWaiting, "waiting for the leader to sign this unit's certificates")
	}
	if err := c.ensureMember(); err != nil {
		return c.reportProgress(err)
	}
	// The member now runs with the current client trust bundle; the leader waits for this before telling an
	// etcd_client requirer its certificate works.
	if err := c.peers.setUnit(map[string]string{keyClientTrust: trustDigest(c.clientTrustBundle())}); err != nil {
		return err
	}
	if err := onceUntilChanged("opened-port", strconv.Itoa(c.cfg.Port), func() error {
		return goops.SetPorts([]*goops.Port{{Port: c.cfg.Port, Protocol: goops.ProtocolTCP}})
	}); err != nil {
		return fmt.Errorf("opening the client port: %w", err)
	}
	if c.leader {
		c.periodicSnapshot()
	}
	return c.reportHealth()
}

// leaderSetup creates what the cluster shares, once: the CA, the root secret, the cluster token and the seed.
// An existing CA is not read here: most hooks sign nothing, and reading the secret is a hook tool call.
func (c *unitContext) leaderSetup() error {
	if c.peers.App[keyCASecret] == "" {
		if _, err := c.ensureCA(); err != nil {
			return err
		}
	}
	if err := c.ensureRootSecret(); err != nil {
		return err
	}
	if c.peers.App[keyClusterToken] == "" {
		token, err := randomToken(16)
		if err != nil {
			return err
		}
		if err := c.peers.setApp(map[string]string{keyClusterToken: token, keySeed: c.unit,
			keyPeerPort: strconv.Itoa(c.cfg.ManagementPort)}); err != nil {
			return err
		}
	}
	return nil
}

func (c *unitContext) bootstrappedPeerPort() int {
	if c.peers.App[keyClusterID] == "" {
		return 0
	}
	port, _ := strconv.Atoi(c.peers.App[keyPeerPort])
	return port
}

// publishIdentity tells peers where this unit is and what it needs signed.
func (c *unitContext) publishIdentity() error {
	if err := c.peers.setUnit(map[string]string{
		keyAddress: c.address, keyPeerURL: c.peerURL(), keyClientURL: c.clientURL(),
	}); err != nil {
		return err
	}
	return c.ensureKeysAndCSRs()
}

func (c *unitContext) reportConfigProblems(problems []Problem) error {
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.String()
	}
	msg := "invalid config: " + strings.Join(msgs, "; ")
	goops.LogWarningf("%s (nothing restarted)", msg)
	if c.leader {
		_ = goops.SetAppStatus(goops.StatusBlocked, msg)
	}
	return goops.SetUnitStatus(goops.StatusBlocked, msg)
}

// reportProgress turns waiting and blocked conditions into status; anything else fails the hook.
func (c *unitContext) reportProgress(err error) error {
	var w errWaiting
	var b errBlocked
	switch {
	case errors.As(err, &w):
		return goops.SetUnitStatus(goops.StatusWaiting, w.msg)
	case errors.As(err, &b):
		return goops.SetUnitStatus(goops.StatusBlocked, b.msg)
	}
	return err
}

// reportHealth sets this unit's status from etcd's own view, and, on the leader, the application's summary
// plus the chores only the leader does (cluster ID, members of vanished units).
func (c *unitContext) reportHealth() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, members, err := c.clusterView(ctx)
	if cli == nil {
		return err
	}
	defer cli.Close()
	if err != nil {
		if lost, qerr := c.reportQuorumLoss(); lost {
			return qerr
		}
		return goops.SetUnitStatus(goops.StatusWaiting, "cannot reach the cluster: "+shortErr(err))
	}
	report := cli.HealthOf(ctx, members, memberEndpoints(members))
	var problems []clientProblem
	if c.leader {
		if err := c.leaderChores(ctx, cli, report); err != nil {
			goops.LogWarningf("leader chores: %v", err)
		}
		if problems, err = c.serveClients(ctx, cli, members); err != nil {
			return c.reportProgress(fmt.Errorf("serving client relations: %w", err))
		}
	}
	if err := c.publishClassicRelations(members); err != nil {
		return err
	}
	st, msg := unitStatus(c.peerURL(), report)
	if len(problems) > 0 {
		return c.reportClientProblems(problems)
	}
	return goops.SetUnitStatus(st, msg)
}

// clusterView connects to the cluster and reads its membership. A running voter asks its own member first,
// which needs none of the other units' bags (each a hook tool call); when that fails, every voter is tried.
// The client is nil only when no connection could be attempted (the error then fails the hook); a cluster
// that does not answer comes back as a client and the error.
func (c *unitContext) clusterView(ctx context.Context) (*cluster.Client, []cluster.Member, error) {
	if c.peers.Self[keyMemberState] == stateVoter {
		if cli, err := c.dial(ctx, []string{c.clientURL()}); err == nil {
			sctx, cancel := context.WithTimeout(ctx, ownMemberTimeout)
			members, err := cli.Members(sctx)
			cancel()
			if err == nil {
				return cli, members, nil
			}
			cli.Close()
		}
	}
	cli, err := c.dialVoters(ctx)
	if err != nil {
		return nil, nil, err
	}
	members, err := cli.Members(ctx)
	return cli, members, err
}

// ownMemberTimeout bounds asking this unit's own member before the others: a member that answers at all
// answers a membership read in milliseconds.
const ownMemberTimeout = 2 * time.Second

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}
