package charm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gruyaume/goops"
	"go.etcd.io/etcd/api/v3/version"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/internal/etcd"
	"github.com/etcd-charm/etcd/internal/pki"
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
	if err := c.recordIdentityRequest(); err != nil {
		return err
	}
	if c.leader {
		if err := c.leaderSetup(); err != nil {
			return err
		}
		if err := c.adoptIdentity(); err != nil {
			return err
		}
		if err := c.offerEncryption(); err != nil {
			return err
		}
	}
	problems := append(c.cfg.Validate(c.bootstrappedPeerPort()), c.periodicConfigProblems()...)
	related, err := c.optionalRelationIDs(certificatesEndpoint)
	if err != nil {
		return err
	}
	problems = append(problems, c.cfg.operatorCAProblems(c.peers.App[keyOperatorCADigest], len(related) > 0, c.now)...)
	if len(problems) > 0 {
		return c.reportConfigProblems(problems)
	}
	if c.leader {
		if err := c.storeOperatorCA(); err != nil {
			return err
		}
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
	if c.leader {
		if err := c.enforcePeerCN(); err != nil {
			return err
		}
	}
	if c.external, err = c.readExternalCert(); err != nil {
		return err
	}
	offeredNow := false
	if c.leader {
		if offeredNow, err = c.offerServerCAs(c.external); err != nil {
			return err
		}
	}
	if err := c.installServerCertificate(c.external, offeredNow); err != nil {
		return err
	}
	held, err := c.memberStep()
	if err != nil {
		return c.reportProgress(err)
	}
	ports := []*goops.Port{{Port: c.cfg.Port, Protocol: goops.ProtocolTCP}}
	if c.cfg.MetricsPort != 0 {
		ports = append(ports, &goops.Port{Port: c.cfg.MetricsPort, Protocol: goops.ProtocolTCP})
	}
	if err := onceUntilChanged("opened-port", fmt.Sprintf("%d,%d", c.cfg.Port, c.cfg.MetricsPort), func() error {
		return goops.SetPorts(ports)
	}); err != nil {
		return fmt.Errorf("opening the client and metrics ports: %w", err)
	}
	if err := c.publishCOSAgent(); err != nil {
		goops.LogWarningf("publishing to cos-agent: %v", err)
	}
	c.tendNRPE()
	c.tendClassicMonitoring()
	if c.leader {
		c.periodicSnapshot()
	}
	c.writeObservations()
	return c.reportHealth(held)
}

// memberStep runs ensureMember and publishes what the member now runs with. A running member held back from
// a restart (not its turn, another member unhealthy, the raft leader upgrading last) is returned as held: the
// hook goes on with the steps that need only a running cluster, and the unit's status says what it waits for.
func (c *unitContext) memberStep() (held, err error) {
	err = c.ensureMember()
	if perr := c.publishRunning(); perr != nil && err == nil {
		err = perr
	}
	var w errWaiting
	if errors.As(err, &w) && w.memberRunning {
		return err, nil
	}
	return nil, err
}

// publishRunning tells the peers what this member's etcd started with. The leader answers an etcd_client
// requirer only once every voter runs with a trust bundle that holds its certificate, and a member that has
// restarted wakes the others (their turn may have come) by changing its bag.
func (c *unitContext) publishRunning() error {
	rec, ok := c.running()
	if !ok {
		return nil
	}
	return c.peers.setUnit(map[string]string{keyClientTrust: rec.Trust, keyRunningConfig: rec.Config, keyRunningVersion: rec.Version})
}

// applyTrust restarts this member in its turn when the client trust bundle it runs with is not the one the
// registry now makes.
func (c *unitContext) applyTrust() (held, err error) {
	running, ok := c.running()
	if ok && running.Trust == trustDigest(c.clientTrustBundle()) {
		return nil, nil
	}
	return c.memberStep()
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
		// A new cluster demands the member CN on its peer listeners from the first start (peertrust.go).
		if err := c.peers.setApp(map[string]string{keyClusterToken: token, keySeed: c.unit,
			keyPeerPort: strconv.Itoa(c.cfg.ManagementPort), keyPeerCN: plan.MemberCommonName}); err != nil {
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
func (c *unitContext) reportHealth(held error) error {
	ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
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
		if held != nil {
			return goops.SetUnitStatus(goops.StatusWaiting, held.Error())
		}
		return goops.SetUnitStatus(goops.StatusWaiting, "cannot reach the cluster: "+plan.ShortErr(err))
	}
	report := cli.HealthOf(ctx, members, memberEndpoints(members))
	if plan.CorruptAlarmOn(report, c.peerURL()) {
		// etcd's hash check found this member's data differing from the others' while it ran; the cluster
		// takes no writes until the alarm goes, which the replacement does once the member is out.
		return c.reportProgress(c.replaceAndJoin("a CORRUPT alarm names it (its data differs from the other members')", false))
	}
	if c.leader && c.tendSpace(cli, report, members) {
		// Maintenance takes its own time (seconds per defrag): the rest of the hook gets a fresh bound.
		var cancelRest context.CancelFunc
		ctx, cancelRest = context.WithTimeout(c.ctx, 10*time.Second)
		defer cancelRest()
		report = cli.HealthOf(ctx, members, memberEndpoints(members))
	}
	var problems []clientProblem
	if c.leader {
		if err := c.leaderChores(ctx, cli, report); err != nil {
			goops.LogWarningf("leader chores: %v", err)
		}
		var answers *clientAnswers
		if problems, answers, err = c.serveClients(ctx, cli); err != nil {
			return c.reportProgress(fmt.Errorf("serving client relations: %w", err))
		}
		if held == nil {
			// The leader gets no relation-changed for its own application bag: when serving clients changed
			// the trust bundle, this member takes its turn now rather than at its next hook.
			if held, err = c.applyTrust(); err != nil {
				return c.reportProgress(err)
			}
		}
		if err := c.answerClientRequirers(answers, members); err != nil {
			return c.reportProgress(fmt.Errorf("answering etcd_client requirers: %w", err))
		}
	}
	if err := c.publishClassicRelations(members); err != nil {
		return err
	}
	if !c.leader {
		if err := c.tellLeaderWhatIsSeen(ctx, cli, report); err != nil {
			goops.LogWarningf("telling the leader what this unit sees: %v", err)
		}
	}
	st, msg := plan.UnitStatus(c.peerURL(), report)
	if len(problems) > 0 {
		return c.reportClientProblems(problems)
	}
	if held != nil && st == plan.Active {
		st, msg = plan.Waiting, held.Error()
	}
	if st == plan.Active {
		if blocked, certMsg := c.certificatesStatus(c.external); blocked {
			return goops.SetUnitStatus(goops.StatusBlocked, certMsg)
		} else if certMsg != "" {
			msg += "; " + certMsg
		}
	}
	if c.leader && st == plan.Active {
		// The bucket's state is the leader's to show, below anything that concerns the cluster itself.
		switch s3st, s3msg := c.tendS3(); {
		case s3st == goops.StatusBlocked:
			return goops.SetUnitStatus(s3st, s3msg)
		case s3msg != "":
			msg += "; " + s3msg
		}
	}
	if st == plan.Active {
		facts := c.warnFacts()
		if own := plan.OwnStatus(report, c.peerURL()); own != nil {
			facts.Forecast, facts.ForecastKnown = c.forecastSpace(own.DBSizeInUse, own.DBSizeQuota)
			msg += "; " + plan.SpaceLine(own.DBSize, own.DBSizeInUse, own.DBSizeQuota, facts.Forecast, facts.ForecastKnown)
		}
		if warnings := plan.Warnings(c.peerURL(), report, facts); len(warnings) > 0 {
			msg += "; warning: " + strings.Join(warnings, "; ")
		}
	}
	return goops.SetUnitStatus(goops.StatusName(st), msg)
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

// warnFacts gathers what the ahead-of-time warnings need: this member's certificate expiry, and on the
// leader the periodic snapshot and S3 backup records.
// spaceSamplesState keeps this member's live-data samples (plan.SpaceSample, JSON) for the quota forecast.
const spaceSamplesState = "space-samples"

// forecastSpace adds this hook's reading of the member's live data to the samples in unit state (one state
// write per plan.SampleEvery at most) and projects them onto the quota.
func (c *unitContext) forecastSpace(inUse, quota int64) (plan.Forecast, bool) {
	var samples []plan.SpaceSample
	if raw := getState(spaceSamplesState); raw != "" {
		_ = json.Unmarshal([]byte(raw), &samples) //nolint:errcheck // unreadable samples start afresh
	}
	samples, changed := plan.AddSample(samples, c.now, inUse)
	if changed {
		if raw, err := json.Marshal(samples); err == nil {
			if err := setState(spaceSamplesState, string(raw)); err != nil {
				goops.LogWarningf("keeping the database size sample: %v", err)
			}
		}
	}
	return plan.QuotaForecast(samples, c.now, inUse, quota)
}

func (c *unitContext) warnFacts() plan.WarnFacts {
	f := plan.WarnFacts{Now: c.now, Replacement: loadReplacement(), JoinFsyncP99: loadDiskProbe().P99}
	if raw, err := os.ReadFile(c.paths.MemberCert); err == nil {
		if cert, err := pki.ParseCertificate(raw); err == nil {
			f.CertNotAfter = cert.NotAfter
		}
	}
	if urls := c.metricsURLs(c.address); len(urls) > 0 {
		ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
		if w, err := etcd.ReadWALFsync(ctx, urls[0]); err == nil {
			f.WALFsyncs, f.WALFsyncP99 = w.Count, w.P99
		}
		cancel()
	}
	if !c.leader {
		return f
	}
	if interval, err := c.cfg.periodicConfig.interval(); err == nil && interval > 0 {
		r := loadPeriodicRecord()
		f.SnapshotInterval, f.LastSnapshot, f.LastBackup = interval, r.LastGood, r.S3LastGood
		if ids, err := c.optionalRelationIDs(s3Endpoint); err == nil && len(ids) > 0 {
			f.S3Related = true
		}
	}
	return f
}
