package charm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/internal/etcd"
)

// Bounds on how long one hook waits for etcd. Hooks block the unit's queue, so waits are bounded; what is not
// done by then is picked up by the next hook (update-status at the latest).
const (
	startTimeout   = 60 * time.Second
	joinTimeout    = 45 * time.Second
	promoteTimeout = 90 * time.Second
	// learnerSlotWait bounds how long a joining unit waits in its hook for the learner ahead of it.
	learnerSlotWait = 30 * time.Second
)

// errWaiting means the unit cannot progress in this hook for a reason another unit or time will resolve;
// it is reported as waiting status, not as a hook failure.
type errWaiting struct {
	msg string
	// memberRunning: the member runs and serves; only a change to it waits (a restart held back).
	memberRunning bool
}

func (e errWaiting) Error() string { return e.msg }

func waiting(format string, args ...any) error { return errWaiting{msg: fmt.Sprintf(format, args...)} }

// heldBack is waiting for a running member whose restart must wait.
func heldBack(format string, args ...any) error {
	return errWaiting{msg: fmt.Sprintf(format, args...), memberRunning: true}
}

// ensureMember brings this unit to a running member as it should run: bootstrap as the seed, join as a
// learner, start a stopped member, restart a running one whose start record differs from what it is to run
// with, promote a learner. The facts are observed here and the decision is plan.NextMemberStep's.
func (c *unitContext) ensureMember() error {
	if err := c.followEpoch(); err != nil {
		return err
	}
	b, err := c.loadBootstrap()
	if err != nil {
		return err
	}
	if b == nil {
		if b, err = c.recoverBootstrap(); err != nil {
			return err
		}
	}
	facts := plan.MemberFacts{Bootstrapped: b != nil, Seed: c.isSeed()}
	if b != nil {
		if facts.Desired, err = c.writeWorkloadFiles(*b); err != nil {
			return err
		}
		var needsReload bool
		var restarts int
		facts.ServiceActive, needsReload, restarts = c.serviceState()
		if needsReload {
			if err := c.systemctl("daemon-reload"); err != nil {
				return err
			}
		}
		facts.Running, facts.RunningKnown = c.running()
		facts.Removed = !facts.ServiceActive && c.removedFromCluster()
		facts.Learner = c.peers.Self[keyMemberState] != stateVoter
		if !facts.ServiceActive && !facts.Removed {
			facts.DataProblem = c.inspectData()
		}
		facts.CrashLoop = c.crashLooping(facts.ServiceActive, restarts)
	}
	step := plan.NextMemberStep(facts)
	// Published so that the raft leader can restart last (plan.RestartsDue); written only when it changes.
	due := ""
	if step.Step == plan.StepRestart && !step.TrustOnly {
		due = step.Reason
	}
	if b != nil && c.peers.Self[keyMemberState] == stateVoter {
		if err := c.peers.setUnit(map[string]string{keyRestartDue: due, keyConfigSeen: c.configSeen()}); err != nil {
			return err
		}
	}
	switch step.Step {
	case plan.StepBootstrap:
		return c.bootstrap()
	case plan.StepJoin:
		return c.join()
	case plan.StepReplace:
		return c.replaceAndJoin(step.Reason, facts.CrashLoop && facts.DataProblem == "")
	case plan.StepWaitRemoved:
		return waiting("this member was removed from the cluster (a restore or rebuild); waiting for the leader's next step")
	case plan.StepStart:
		if err := c.checkDataDirIdentity(); err != nil {
			return err
		}
		if err := c.launchService(); err != nil {
			return err
		}
		if err := c.waitStarted(); err != nil {
			if !errors.Is(err, errCrashLoop) {
				return err
			}
			return c.replaceAndJoin(err.Error(), true)
		}
	case plan.StepRestart:
		if step.TrustOnly {
			if c.leader {
				if err := c.trustLeaderLast(facts.Desired.Trust); err != nil {
					return err
				}
			}
			if err := c.trustSettled(); err != nil {
				return err
			}
		}
		versionChange := plan.VersionChange(facts.Running, facts.RunningKnown, facts.Desired)
		if versionChange && minorChange(facts.Running.Version, facts.Desired.Version) {
			if err := c.snapshotBeforeUpgrade(facts.Running.Version, facts.Desired.Version); err != nil {
				return err
			}
		}
		if err := c.restartInTurn(step.Reason, versionChange, step.TrustOnly); err != nil {
			return err
		}
		if err := c.peers.setUnit(map[string]string{keyRestartDue: ""}); err != nil {
			return err
		}
	case plan.StepPromote:
		return c.promoteSelf()
	}
	// A learner just started or restarted is promoted in the same hook once it has caught up.
	if facts.Learner {
		return c.promoteSelf()
	}
	return nil
}

// trustLeaderLast holds the Juju leader's trust-only restart back until every other voter runs the desired
// bundle (plan.TrustBehind says why).
func (c *unitContext) trustLeaderLast(desired string) error {
	units, err := c.peers.Units()
	if err != nil {
		return err
	}
	voters := map[string]string{}
	for u, bag := range units {
		if bag[keyMemberState] == stateVoter {
			voters[memberName(u)] = bag[keyClientTrust]
		}
	}
	if behind := plan.TrustBehind(voters, desired); len(behind) > 0 {
		return heldBack("client trust changed; the Juju leader restarts last, after %s", strings.Join(behind, ", "))
	}
	return nil
}

// running is what the running etcd started with, from the record its own process wrote; false when there is
// no record.
func (c *unitContext) running() (plan.Started, bool) {
	rec, ok := etcd.ReadStartRecord(c.paths.ConfigFile)
	return plan.Started{Config: rec.Config, Trust: rec.Trust, Version: rec.Version}, ok
}

// isSeed: the unit named at bootstrap starts the cluster alone, before anything else exists.
func (c *unitContext) isSeed() bool {
	return c.peers.App[keySeed] == c.unit && c.peers.App[keyClusterID] == ""
}

// recoverBootstrap handles a data dir without stored bootstrap state: a hook that started etcd and then
// failed (state is only committed on success), or storage from elsewhere. Data of our own cluster is kept;
// data of another cluster is refused, never overwritten.
func (c *unitContext) recoverBootstrap() (*bootstrapState, error) {
	if c.dataDirEmpty() {
		return nil, nil
	}
	_, clusterID, err := etcd.DataDirIdentity(c.paths.DataDir)
	if err != nil {
		return nil, fmt.Errorf("reading the identity of data dir %s: %w", c.paths.DataDir, err)
	}
	want := c.peers.App[keyClusterID]
	switch {
	case want != "" && want == strconv.FormatUint(clusterID, 16):
		return &bootstrapState{State: etcd.ClusterStateExisting, Token: c.peers.App[keyClusterToken],
			InitialCluster: []etcd.Member{{Name: c.memberName(), PeerURL: c.peerURL()}}}, nil
	case want == "" && c.isSeed():
		return &bootstrapState{State: etcd.ClusterStateNew, Token: c.peers.App[keyClusterToken],
			InitialCluster: []etcd.Member{{Name: c.memberName(), PeerURL: c.peerURL()}}}, nil
	}
	return nil, blocked("data dir %s belongs to another etcd cluster (%x); move it away or attach empty storage",
		c.paths.DataDir, clusterID)
}

// checkDataDirIdentity refuses to start etcd on data of another cluster: a swapped disk or a restored
// directory would otherwise join, or split, the wrong cluster.
func (c *unitContext) checkDataDirIdentity() error {
	want := c.peers.App[keyClusterID]
	if want == "" {
		return nil
	}
	_, clusterID, err := etcd.DataDirIdentity(c.paths.DataDir)
	switch {
	case errors.Is(err, etcd.ErrNoData):
		return nil
	case err != nil:
		return blocked("cannot read the identity of data dir %s (%v); move it away or restore it", c.paths.DataDir, err)
	case strconv.FormatUint(clusterID, 16) != want:
		return blocked("data dir %s belongs to another etcd cluster (%x, this one is %s); move it away or attach empty storage",
			c.paths.DataDir, clusterID, want)
	}
	return nil
}

// bootstrap starts the cluster as a single member; everyone else joins it as a learner.
func (c *unitContext) bootstrap() error {
	goops.LogInfof("bootstrapping a new etcd cluster as %s", c.memberName())
	c.probeDisk()
	b := bootstrapState{
		InitialCluster: []etcd.Member{{Name: c.memberName(), PeerURL: c.peerURL()}},
		State:          etcd.ClusterStateNew,
		Token:          c.peers.App[keyClusterToken],
	}
	if err := c.startAs(b); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.ctx, startTimeout)
	defer cancel()
	cli, err := c.dial(ctx, []string{c.clientURL()})
	if err != nil {
		return err
	}
	defer cli.Close()
	if err := c.enableAuth(ctx, cli); err != nil {
		return err
	}
	return c.peers.setUnit(map[string]string{keyMemberState: stateVoter, keyMemberName: c.memberName()})
}

// enableAuth turns on RBAC with a root user whose password lives only in the root secret. The charm itself
// authenticates by its client certificate's CN, root.
func (c *unitContext) enableAuth(ctx context.Context, cli *cluster.Client) error {
	password, err := c.rootPassword()
	if err != nil {
		return err
	}
	if err := retryTransient(ctx, func() error { return cli.EnableAuth(ctx, password) }); err != nil {
		return fmt.Errorf("enabling etcd authentication: %w", err)
	}
	return nil
}

// join registers this unit as a learner through a running member, starts it and promotes it in the same hook.
// etcd takes one learner at a time, so a unit whose turn has not come waits for the learner ahead of it
// inside this hook (bounded by learnerSlotWait): the learner's own hook only ends once its member serves, and
// the units behind it would otherwise sit idle until some later event.
func (c *unitContext) join() error {
	endpoints, err := c.epochVoterEndpoints()
	if err != nil {
		return err
	}
	if len(endpoints) == 0 {
		return waiting("waiting for a running member to join through")
	}
	if c.dataDirEmpty() {
		c.probeDisk() // before the learner slot is taken: the probe costs the others nothing
	}
	ctx, cancel := context.WithTimeout(c.ctx, joinTimeout+learnerSlotWait)
	defer cancel()
	cli, err := c.dial(ctx, endpoints)
	if err != nil {
		return err
	}
	defer cli.Close()
	members, err := c.addSelfAsLearner(ctx, cli)
	if err != nil {
		return err
	}
	b := bootstrapState{State: etcd.ClusterStateExisting, Token: c.peers.App[keyClusterToken],
		InitialCluster: c.initialClusterToJoin(members)}
	if err := c.launchAs(b); err != nil {
		return err
	}
	if err := c.peers.setUnit(map[string]string{keyMemberState: stateLearner, keyMemberName: c.memberName()}); err != nil {
		return err
	}
	if err := c.rescueLostPublish(); err != nil {
		return err
	}
	// Promotion does not wait for this member to serve clients: etcd promotes on raft progress alone, and with
	// the metrics listener off a lost publish keeps the member out of service for 7 s. The unit behind this
	// one can join as soon as the learner slot is free.
	if err := c.promoteSelf(); err != nil {
		return err
	}
	if err := c.waitServing(startTimeout); err != nil {
		return err
	}
	// A replaced member that serves again is a replacement that worked: a later fault starts afresh.
	if getState(replacedAtState) != "" {
		return deleteState(replacedAtState)
	}
	return nil
}

// addSelfAsLearner adds this unit's peer URL as a learner once no other learner holds etcd's one slot, and
// returns the members that then make up the cluster. A unit already listed (a hook killed after the add) is
// not added again.
func (c *unitContext) addSelfAsLearner(ctx context.Context, cli *cluster.Client) ([]cluster.Member, error) {
	slotWait, cancel := context.WithTimeout(ctx, learnerSlotWait)
	defer cancel()
	for {
		members, err := cli.Members(ctx)
		if err != nil {
			return nil, waiting("cannot list members to join: %v", err)
		}
		if _, ok := findByPeerURL(members, c.peerURL()); ok {
			return members, nil
		}
		ahead := ""
		for _, m := range members {
			if m.IsLearner {
				ahead = plan.MemberLabel(m)
			}
		}
		if ahead == "" {
			goops.LogInfof("adding %s as a learner with peer URL %s", c.memberName(), c.peerURL())
			_, members, err = cli.AddLearner(ctx, []string{c.peerURL()})
			switch {
			case err == nil:
				return members, nil
			case errors.Is(err, cluster.ErrTooManyLearners): // another unit took the slot first
				ahead = "another unit"
			case cluster.IsTransient(err):
				return nil, waiting("etcd refused the learner for now: %v", err)
			default:
				return nil, fmt.Errorf("adding %s as a learner: %w", c.memberName(), err)
			}
		}
		select {
		case <-slotWait.Done():
			return nil, waiting("waiting for learner %s to be promoted (etcd takes one learner at a time)", ahead)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// lostPublishGrace is how long a new learner that has applied its snapshot may take to publish itself before
// its publish is taken for lost. A publish that is not lost lands within about 100 ms of the snapshot; taking
// one for lost by mistake costs only a restart of a member without a vote.
const lostPublishGrace = 500 * time.Millisecond

// rescueLostPublish restarts this new learner when it has applied the snapshot it joined with but its publish
// (the raft request that makes it serve clients) stays pending: etcd loses that request when it is forwarded
// before the snapshot lands, and retries it only after a request timeout of 7 s (etcd#8608), during which
// every unit's hook probing the member waits out its probe timeout. A learner holds no vote, so restarting it
// costs the cluster nothing, and restarted with its data it publishes at once. It reads the member's metrics
// listener, so with metrics_port=0 the member is left to etcd's retry.
func (c *unitContext) rescueLostPublish() error {
	metricsURLs := c.metricsURLs(c.address)
	if len(metricsURLs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.ctx, startTimeout)
	defer cancel()
	var since time.Time
	for {
		p, err := etcd.ReadJoinProgress(ctx, metricsURLs[0])
		var verdict plan.Publish
		verdict, since = plan.JudgePublish(plan.PublishProgress{Readable: err == nil, Applied: p.Applied, Pending: p.Pending},
			since, time.Now(), lostPublishGrace)
		switch verdict {
		case plan.PublishDone:
			return nil
		case plan.PublishLost:
			goops.LogInfof("learner %s applied its snapshot (index %d) but has not published itself for %s; "+
				"restarting it (etcd#8608)", c.memberName(), p.Applied, lostPublishGrace)
			return c.systemctl("restart", serviceName)
		}
		select {
		case <-ctx.Done():
			return nil // promotion and waitServing take it from here
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// initialClusterToJoin is the --initial-cluster a joining member starts with: every member's peer URLs. etcd
// matches them by peer URL alone; names matter only for this unit's own entry. The learner just added (this
// unit) and a member promoted before it published have no name yet.
func (c *unitContext) initialClusterToJoin(members []cluster.Member) []etcd.Member {
	var initial []etcd.Member
	for _, m := range members {
		name := m.Name
		switch {
		case slices.Contains(m.PeerURLs, c.peerURL()):
			name = c.memberName()
		case name == "":
			name = fmt.Sprintf("unnamed-%x", m.ID)
		}
		for _, u := range m.PeerURLs {
			initial = append(initial, etcd.Member{Name: name, PeerURL: u})
		}
	}
	return initial
}

// promoteSelf turns this learner into a voter once etcd agrees it has caught up.
func (c *unitContext) promoteSelf() error {
	ctx, cancel := context.WithTimeout(c.ctx, promoteTimeout)
	defer cancel()
	cli, err := c.dialVoters(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	members, err := cli.Members(ctx)
	if err != nil {
		return waiting("cannot list members to promote this learner: %v", err)
	}
	me, ok := findByPeerURL(members, c.peerURL())
	if !ok {
		return blocked("this unit is no longer an etcd member; remove the unit and add a new one")
	}
	if me.IsLearner {
		goops.LogInfof("promoting learner %s", c.memberName())
		if err := cli.Promote(ctx, me.ID); err != nil {
			if errors.Is(err, cluster.ErrLearnerNotReady) || cluster.IsTransient(err) || errors.Is(err, context.DeadlineExceeded) {
				return waiting("learner catching up with the raft leader")
			}
			return fmt.Errorf("promoting %s: %w", c.memberName(), err)
		}
	}
	return c.peers.setUnit(map[string]string{keyMemberState: stateVoter, keyMemberName: c.memberName()})
}

// startAs starts this member for the first time as b describes and waits until it serves.
func (c *unitContext) startAs(b bootstrapState) error {
	if err := c.launchAs(b); err != nil {
		return err
	}
	return c.waitServing(startTimeout)
}

// launchAs starts this member for the first time as b describes, without waiting for it to serve: the state
// is kept first, so that the files can always be rendered again from it, then the files, then the service.
func (c *unitContext) launchAs(b bootstrapState) error {
	if err := c.saveBootstrap(b); err != nil {
		return err
	}
	if _, err := c.writeWorkloadFiles(b); err != nil {
		return err
	}
	return c.launchService()
}

// startService enables and starts etcd and waits until the member answers on its client URL.
func (c *unitContext) startService() error {
	if err := c.launchService(); err != nil {
		return err
	}
	return c.waitServing(startTimeout)
}

func (c *unitContext) launchService() error {
	if err := c.systemctl("enable", serviceName); err != nil {
		return err
	}
	return c.systemctl("start", serviceName)
}

// errCrashLoop: etcd exits at every start, and systemd has restarted it crashLoopRestarts times.
var errCrashLoop = errors.New("etcd exits at every start")

// waitStarted waits until a member started from stopped serves, or until systemd has restarted it
// crashLoopRestarts times (errCrashLoop), which is the charm's sign that etcd refuses the data (its initial
// corruption check against the peers, a torn database it cannot open): waiting out startTimeout then would
// only fail the hook.
func (c *unitContext) waitStarted() error {
	return c.waitServingOr(startTimeout, time.Second, func() error {
		if _, _, restarts := c.serviceState(); restarts >= crashLoopRestarts {
			return fmt.Errorf("%w (systemd restarted it %d times)", errCrashLoop, restarts)
		}
		return nil
	})
}

// waitServing waits until this unit's member answers on its client URL.
func (c *unitContext) waitServing(timeout time.Duration) error {
	return c.waitServingOr(timeout, 200*time.Millisecond, nil)
}

// waitServingOr asks this unit's member for its status every poll until it answers, for up to timeout; after
// each refusal giveUp (when given) may end the wait with its error.
func (c *unitContext) waitServingOr(timeout, poll time.Duration, giveUp func() error) error {
	ctx, cancel := context.WithTimeout(c.ctx, timeout)
	defer cancel()
	cli, err := c.dial(ctx, []string{c.clientURL()})
	if err != nil {
		return err
	}
	defer cli.Close()
	for {
		probe, cancelProbe := context.WithTimeout(ctx, ownMemberTimeout)
		_, err := cli.EndpointStatus(probe, c.clientURL())
		cancelProbe()
		if err == nil {
			return nil
		}
		if giveUp != nil {
			if gerr := giveUp(); gerr != nil {
				return gerr
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("etcd did not start serving on %s within %s: %w", c.clientURL(), timeout, err)
		case <-time.After(poll):
		}
	}
}

// retryTransient retries fn while etcd gives transient refusals (a restart, a leader election).
func retryTransient(ctx context.Context, fn func() error) error {
	delay := 200 * time.Millisecond
	for {
		err := fn()
		if err == nil || !cluster.IsTransient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
		delay = min(2*delay, 2*time.Second)
	}
}
