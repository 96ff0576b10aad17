package charm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/internal/etcd"
)

const (
	// replacedAtState is when this unit last replaced its member (RFC 3339), kept until the new member
	// serves: a replacement that did not end in a serving member is not tried again before the back-off.
	replacedAtState = "member-replaced-at"
	// replacementState records the last replacement (plan.Replacement, JSON) for the unit's status.
	replacementState = "member-replacement"
	// replaceBackoff is the least time between a replacement that did not end in a serving member and the next.
	replaceBackoff = 10 * time.Minute
	// maxBrokenCopies bounds the unusable data dirs kept aside; the charm deletes none of them.
	maxBrokenCopies = 3
	// crashLoopRestarts is how many restarts by systemd, with the member not serving, make a crash loop:
	// with RestartSec=5 that is at least 15 s of etcd exiting at start.
	crashLoopRestarts = 3
	// brokenSuffix names a data dir kept aside: <data dir>.broken-<UTC time>.
	brokenSuffix = ".broken-"
)

// inspectData checks the stopped member's data as etcd would read it at start, and says what is wrong, ""
// when nothing is (or when etcd holds the data, so it cannot be judged). Called only for a member the
// cluster still lists: a removed member's data is the restore's or rebuild's business.
func (c *unitContext) inspectData() string {
	err := etcd.CheckData(c.paths.DataDir)
	switch {
	case err == nil, errors.Is(err, etcd.ErrDataInUse):
		return ""
	case errors.Is(err, etcd.ErrNoData):
		return fmt.Sprintf("data dir %s is gone", c.paths.DataDir)
	}
	return fmt.Sprintf("data in %s fails etcd's checks (%v)", c.paths.DataDir, err)
}

// crashLooping reports whether systemd keeps restarting etcd while the member does not serve.
func (c *unitContext) crashLooping(active bool, restarts int) bool {
	if restarts < crashLoopRestarts {
		return false
	}
	if !active {
		return true
	}
	ctx, cancel := context.WithTimeout(c.ctx, ownMemberTimeout)
	defer cancel()
	cli, err := c.dial(ctx, []string{c.clientURL()})
	if err != nil {
		return true
	}
	defer cli.Close()
	_, err = cli.EndpointStatus(ctx, c.clientURL())
	return err != nil
}

// crashLoopNotTheData says what on the machine makes etcd exit at every start, "" when nothing does: the
// binary does not run, or another process holds one of the member's ports. etcd must be stopped.
func (c *unitContext) crashLoopNotTheData() string {
	if binaryVersion(c.ctx, c.paths.Binary) == "" {
		return fmt.Sprintf("the etcd binary %s does not run (etcd --version fails)", c.paths.Binary)
	}
	listen := c.address
	if c.cfg.BindToAllInterfaces {
		listen = "0.0.0.0"
	}
	for _, port := range []int{c.cfg.Port, c.cfg.ManagementPort, c.cfg.MetricsPort} {
		if port == 0 {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(listen, strconv.Itoa(port)))
		if err != nil {
			return fmt.Sprintf("port %d on %s is held by another process (%v)", port, listen, err)
		}
		_ = l.Close()
	}
	return ""
}

// replaceMember replaces this unit's broken member: out of the cluster, its data kept aside, back in as a
// learner that the join promotes. plan.DecideReplacement says whether it may go ahead; the restart turn
// makes it one member at a time, and never beside a restart or a defragmentation. Each step is safe to
// repeat, and a hook killed half way leaves nothing in unit state (Juju keeps a failed hook's state writes
// from no one) but what it did to the machine and to etcd, which the next hook observes: the data dir kept
// aside leaves it empty, so the next hook finds the data dir gone and finishes (the member already removed
// is skipped); etcd stopped with its data in place is found again by the same check that began it.
func (c *unitContext) replaceMember(problem string) error {
	if c.cfg.ReplacementPolicy == defragOff {
		return blocked("this member is broken: %s; replacement_policy=off, so the charm leaves it: remove the unit "+
			"and add another, or set replacement_policy=auto", problem)
	}
	ctx, cancel := context.WithTimeout(c.ctx, restartTimeout)
	defer cancel()
	facts := plan.ReplaceFacts{Problem: "this member is broken: " + problem, Now: time.Now(),
		Backoff: replaceBackoff, MaxCopies: maxBrokenCopies, DataPresent: !c.dataDirEmpty()}
	facts.LastReplaced, _ = time.Parse(time.RFC3339, getState(replacedAtState)) //nolint:errcheck // none: zero
	kept, err := c.brokenCopies()
	if err != nil {
		return err
	}
	facts.CopiesKept = len(kept)
	endpoints, err := c.voterEndpoints(false)
	if err != nil {
		return err
	}
	units, err := c.peers.Units()
	if err != nil {
		return err
	}
	if len(units) == 0 {
		facts.OnlyMember = true
		return c.decideReplacement(facts)
	}
	if len(endpoints) == 0 {
		return waiting("%s; waiting for another member to replace it through", facts.Problem)
	}
	cli, err := c.dial(ctx, endpoints)
	if err != nil {
		return waiting("%s; cannot reach the other members to replace it: %v", facts.Problem, plan.ShortErr(err))
	}
	defer cli.Close()
	members, err := cli.Members(ctx)
	if err != nil {
		return waiting("%s; cannot list the members to replace it: %v", facts.Problem, plan.ShortErr(err))
	}
	me, listed := findByPeerURL(members, c.peerURL())
	facts.OnlyMember = listed && len(members) == 1
	report := cli.HealthOf(ctx, members, memberEndpoints(members))
	facts.SafeToRemove = !listed || plan.SafeToRemove(report, me)
	if err := c.decideReplacement(facts); err != nil {
		return err
	}
	// Under a CORRUPT alarm etcd refuses every write, the turn's lease and key included, so no one can take the
	// turn and nothing else rolls: the replacement, which is the way out of the alarm, goes ahead without it.
	if !slices.ContainsFunc(report.Alarms, func(a cluster.Alarm) bool { return a.Type == cluster.AlarmCorrupt }) {
		turn, err := c.takeRestartTurn(ctx, cli, members, "replacing this member")
		if err != nil || turn == nil {
			return err
		}
		defer giveBackTurn(ctx, turn)
	}
	goops.LogWarningf("replacing member %s: %s", c.memberName(), problem)
	_ = goops.SetUnitStatus(goops.StatusMaintenance, "replacing this member: "+problem)
	if listed {
		if err := c.handOffLeadership(ctx, cli); err != nil {
			goops.LogWarningf("moving raft leadership off the broken member: %v", err) // stopping it elects anyway
		}
	}
	if err := c.systemctl("stop", serviceName); err != nil {
		return err
	}
	aside, err := c.keepDataAside()
	if err != nil {
		return err
	}
	if listed {
		if err := cli.Remove(ctx, me.ID); err != nil && !errors.Is(err, cluster.ErrMemberNotFound) {
			return fmt.Errorf("removing broken member %s: %w", c.memberName(), err)
		}
		c.disarmAlarmsOf(ctx, cli, me.ID)
	}
	// Forgetting the bootstrap turns the next step into a join; the mark goes only when that join starts.
	if err := etcd.RemoveStartRecord(c.paths.ConfigFile); err != nil {
		return fmt.Errorf("forgetting what the broken member started with: %w", err)
	}
	if err := deleteState(bootstrapStateKey); err != nil {
		return err
	}
	if err := setState(replacedAtState, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	if err := c.peers.setUnit(map[string]string{keyMemberState: ""}); err != nil {
		return err
	}
	record, _ := json.Marshal(plan.Replacement{At: time.Now().UTC(), Problem: problem, KeptIn: aside}) //nolint:errcheck // plain fields
	if err := setState(replacementState, string(record)); err != nil {
		return err
	}
	if aside != "" {
		goops.LogInfof("member %s removed; its data is kept in %s; joining again as a learner", c.memberName(), aside)
	}
	return nil
}

// replaceAndJoin replaces the broken member and joins again in the same hook. A crash loop is blamed on the
// data only when nothing on the machine explains it: a new member would exit the same way, and the cluster
// would have swapped a voter for a learner that never runs. Such a loop fails the hook instead, saying why,
// as any start that fails does (Juju retries it).
func (c *unitContext) replaceAndJoin(problem string, crashLoop bool) error {
	if crashLoop {
		if err := c.systemctl("stop", serviceName); err != nil {
			return err
		}
		if why := c.crashLoopNotTheData(); why != "" {
			return fmt.Errorf("%s, and not because of its data: %s", problem, why)
		}
	}
	if err := c.replaceMember(problem); err != nil {
		return err
	}
	return c.join()
}

// loadReplacement reads the last replacement's record; zero when there was none.
func loadReplacement() plan.Replacement {
	var r plan.Replacement
	if raw := getState(replacementState); raw != "" {
		_ = json.Unmarshal([]byte(raw), &r) //nolint:errcheck // an unreadable record shows nothing
	}
	return r
}

// decideReplacement turns plan.DecideReplacement's verdict into the hook's outcome: nil to go ahead.
func (c *unitContext) decideReplacement(f plan.ReplaceFacts) error {
	switch verdict, why := plan.DecideReplacement(f); verdict {
	case plan.ReplaceBlocked:
		return blocked("%s", why)
	case plan.ReplaceWait:
		return waiting("%s", why)
	}
	return nil
}

// brokenCopies lists the data dirs kept aside by earlier replacements.
func (c *unitContext) brokenCopies() ([]string, error) {
	kept, err := filepath.Glob(c.paths.DataDir + brokenSuffix + "*")
	if err != nil {
		return nil, fmt.Errorf("listing data kept aside next to %s: %w", c.paths.DataDir, err)
	}
	return kept, nil
}

// keepDataAside renames the data dir to <data dir>.broken-<time> and leaves an empty one in its place, with
// the same mode. It returns where the data went, "" when there was none to keep.
func (c *unitContext) keepDataAside() (string, error) {
	if c.dataDirEmpty() {
		return "", os.MkdirAll(c.paths.DataDir, 0o700)
	}
	info, err := os.Stat(c.paths.DataDir)
	if err != nil {
		return "", fmt.Errorf("reading data dir %s: %w", c.paths.DataDir, err)
	}
	aside := c.paths.DataDir + brokenSuffix + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(c.paths.DataDir, aside); err != nil {
		return "", fmt.Errorf("keeping the broken data aside in %s: %w", aside, err)
	}
	if err := os.Mkdir(c.paths.DataDir, info.Mode().Perm()); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("making a fresh data dir %s: %w", c.paths.DataDir, err)
	}
	return aside, nil
}

// disarmAlarmsOf disarms the alarms a removed member raised (a CORRUPT alarm naming it stops the whole
// cluster's writes): the member is gone, so they no longer say anything. Best effort: the leader's alarm
// report shows any that stay.
func (c *unitContext) disarmAlarmsOf(ctx context.Context, cli *cluster.Client, id uint64) {
	alarms, err := cli.Alarms(ctx)
	if err != nil {
		goops.LogWarningf("listing alarms after removing %s: %v", c.memberName(), err)
		return
	}
	var disarmed []string
	for _, a := range alarms {
		if a.MemberID != id {
			continue
		}
		if err := cli.DisarmAlarm(ctx, a); err != nil {
			goops.LogWarningf("disarming %s: %v", a, err)
			continue
		}
		disarmed = append(disarmed, a.String())
	}
	if len(disarmed) > 0 {
		goops.LogInfof("disarmed the removed member's alarms: %s", strings.Join(disarmed, ", "))
	}
}

// diskProbeState keeps the fsync probe of the data dir's disk taken when the member last joined or
// bootstrapped (etcd.FsyncProbe, JSON).
const diskProbeState = "data-dir-fsync"

// diskProbe is the stored probe and when it was taken.
type diskProbe struct {
	etcd.FsyncProbe
	At time.Time `json:"at"`
}

// probeDisk measures how fast the data dir's disk makes small writes durable, before a member starts on it
// for the first time; the status warns from it until etcd's own WAL histogram has enough fsyncs to judge.
// Best effort: a disk that cannot be measured is one etcd will report on anyway.
func (c *unitContext) probeDisk() {
	if err := os.MkdirAll(c.paths.DataDir, 0o700); err != nil {
		goops.LogWarningf("creating %s to measure its disk: %v", c.paths.DataDir, err)
		return
	}
	p, err := etcd.MeasureFsync(c.paths.DataDir)
	if err != nil {
		goops.LogWarningf("measuring the data dir's fsync latency: %v", err)
		return
	}
	goops.LogInfof("data dir %s: %d appends with fdatasync, 99%% within %s, slowest %s", c.paths.DataDir, p.Writes,
		p.P99, p.Max)
	raw, _ := json.Marshal(diskProbe{FsyncProbe: p, At: time.Now().UTC()}) //nolint:errcheck // plain fields
	if err := setState(diskProbeState, string(raw)); err != nil {
		goops.LogWarningf("keeping the data dir's fsync probe: %v", err)
	}
}

// loadDiskProbe reads the stored probe; zero when there is none.
func loadDiskProbe() diskProbe {
	var p diskProbe
	if raw := getState(diskProbeState); raw != "" {
		_ = json.Unmarshal([]byte(raw), &p) //nolint:errcheck // an unreadable probe says nothing
	}
	return p
}
