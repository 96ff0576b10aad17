package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/etcd-charm/etcd/localmodel/client"
)

// CostPlan sizes the charm-cost measurements.
type CostPlan struct {
	// HookWindow is how long update-status runs are collected on the 3-unit cluster.
	HookWindow time.Duration
	// ConfigChanges is how many no-op config changes run.
	ConfigChanges int
	// DBMiB is the database size for the large add-unit and for snapshot/restore.
	DBMiB int
	// WorkDir holds files of the direct snapshot measurement.
	WorkDir string
}

// MeasureCosts runs the charm's operations on a fresh model whose update-status interval is short, in an
// order where each step leaves what the next needs: deploy 3, hooks, add a unit (small database), fill,
// add a unit (large database), SIGKILL the raft leader, remove the raft leader's unit, snapshot, restore.
// A step that fails is recorded and the rest go on where they can.
func MeasureCosts(ctx context.Context, m *client.Model, a Artefacts, plan CostPlan, logf func(string, ...any)) *Costs {
	c := &Costs{}
	fail := func(step string, err error) {
		logf("%s: %v", step, err)
		c.Failures = append(c.Failures, fmt.Sprintf("%s (%v)", step, err))
	}
	if st, err := os.Stat(a.Dispatch); err == nil {
		c.BinaryBytes = st.Size()
	}
	var err error
	if c.BinaryStart, err = BinaryStart(ctx, a.Dispatch, 10); err != nil {
		fail("binary start", err)
	}
	if c.DeployActive, err = DeployActive(ctx, m, a.Charm, 3); err != nil {
		fail("deploy -n 3", err)
		return c
	}
	logf("deploy -n 3 to active: %s", c.DeployActive.Round(time.Millisecond))
	if err := m.WaitForIdle(ctx, client.WaitOptions{Status: "active", Timeout: 5 * time.Minute, IdlePeriod: time.Second}); err != nil {
		fail("settling after deploy", err)
		return c
	}

	since := time.Now()
	time.Sleep(plan.HookWindow)
	if c.UpdateStatus, err = HookCosts(ctx, m, "update-status", since); err != nil {
		fail("update-status cost", err)
	}
	logf("update-status: %d runs, median %s", c.UpdateStatus.Runs, fmtDur(c.UpdateStatus.MedianWall))
	if since, err = ConfigChangedWithoutChange(ctx, m, plan.ConfigChanges); err != nil {
		fail("config-changed without a change", err)
	} else if c.ConfigChanged, err = HookCosts(ctx, m, "config-changed", since); err != nil {
		fail("config-changed cost", err)
	}
	logf("config-changed: %d runs, median %s", c.ConfigChanged.Runs, fmtDur(c.ConfigChanged.MedianWall))
	if c.HookToolCall, err = HookToolCall(ctx, m, App+"/0", 20); err != nil {
		fail("hook tool call", err)
	}
	logf("binary start %s, one hook tool call %s", fmtDur(c.BinaryStart), fmtDur(c.HookToolCall))

	creds, eps, err := CharmTarget(ctx, m)
	if err != nil {
		fail("reading the charm's credentials", err)
		return c
	}
	if c.AddUnitSmall, err = AddVoter(ctx, m, creds, eps); err != nil {
		fail("add-unit, small database", err)
	}
	logf("add-unit (small db) to voter: %s", c.AddUnitSmall.Round(time.Millisecond))
	c.measureLargeAddUnit(ctx, m, plan, logf, fail)
	c.measureFailover(ctx, m, logf, fail)
	c.measureBackup(ctx, m, a, plan, logf, fail)
	return c
}

func (c *Costs) measureLargeAddUnit(ctx context.Context, m *client.Model, plan CostPlan, logf func(string, ...any), fail func(string, error)) {
	creds, t, err := settledCluster(ctx, m)
	if err != nil {
		fail("settling after add-unit", err)
		return
	}
	eps := t.Endpoints
	if err := Fill(ctx, t, plan.DBMiB); err != nil {
		fail(fmt.Sprintf("filling %d MiB", plan.DBMiB), err)
		return
	}
	cli, err := creds.Dial(ctx, eps)
	if err != nil {
		fail("dial", err)
		return
	}
	if st, err := cli.EndpointStatus(ctx, eps[0]); err == nil {
		c.BigDBBytes = st.DBSize
	}
	cli.Close()
	if c.AddUnitBig, err = AddVoter(ctx, m, creds, eps); err != nil {
		fail("add-unit, large database", err)
	}
	logf("add-unit (%d MiB db) to voter: %s", c.BigDBBytes>>20, c.AddUnitBig.Round(time.Millisecond))
}

func (c *Costs) measureFailover(ctx context.Context, m *client.Model, logf func(string, ...any), fail func(string, error)) {
	creds, t, err := settledCluster(ctx, m)
	if err != nil {
		fail("settling before failover", err)
		return
	}
	eps := t.Endpoints
	victim, err := RaftLeaderUnit(ctx, creds, eps)
	if err != nil {
		fail("finding the raft leader", err)
		return
	}
	c.GapKill, err = WriteGap(ctx, t, func() error { return m.SignalWorkload(ctx, victim, "etcd", syscall.SIGKILL) }, 5*time.Second)
	if err != nil {
		fail("write gap after SIGKILL", err)
	}
	logf("write gap after SIGKILL of %s's etcd: %s", victim, c.GapKill)
	// The killed member comes back through its service's restart; removal needs a healthy cluster.
	if err := waitHealthy(ctx, creds, eps); err != nil {
		fail("recovery after SIGKILL", err)
		return
	}
	if victim, err = RaftLeaderUnit(ctx, creds, eps); err != nil {
		fail("finding the raft leader", err)
		return
	}
	c.GapRemove, err = WriteGap(ctx, t, func() error {
		if err := m.RemoveUnit(ctx, victim); err != nil {
			return err
		}
		return waitUnitGone(ctx, m, victim)
	}, 2*time.Second)
	if err != nil {
		fail("write gap after remove-unit of the raft leader's unit", err)
	}
	logf("write gap after remove-unit %s (raft leader): %s", victim, c.GapRemove)
}

func (c *Costs) measureBackup(ctx context.Context, m *client.Model, a Artefacts, plan CostPlan, logf func(string, ...any), fail func(string, error)) {
	creds, t, err := settledCluster(ctx, m)
	if err != nil {
		fail("settling before snapshot", err)
		return
	}
	actionErr := c.backupThroughActions(ctx, m, logf)
	if actionErr == nil {
		return
	}
	logf("snapshot/restore actions: %v; measuring directly", actionErr)
	eps := t.Endpoints
	c.SnapshotVia = "cluster.Snapshot + etcdutl snapshot restore, not the actions: " + actionErr.Error()
	if c.Snapshot, c.Restore, c.SnapshotBytes, err = DirectSnapshotRestore(ctx, creds, eps, a.Dispatch, plan.WorkDir); err != nil {
		fail("direct snapshot and restore", err)
	}
}

// backupThroughActions runs the charm's snapshot action on the Juju leader and restores its file with the
// restore action; the restore is timed until every unit is active again.
func (c *Costs) backupThroughActions(ctx context.Context, m *client.Model, logf func(string, ...any)) error {
	start := time.Now()
	res, err := m.Run(ctx, App+"/leader", "snapshot", nil)
	if err != nil {
		return fmt.Errorf("snapshot action: %w", err)
	}
	if res.Status != "completed" {
		return fmt.Errorf("snapshot action %s: %s", res.Status, res.Message)
	}
	c.Snapshot = time.Since(start)
	snap, _ := res.Results["snapshot"].(map[string]any)
	path, _ := snap["path"].(string)
	c.SnapshotBytes, _ = strconv.ParseInt(fmt.Sprint(res.Results["size-bytes"]), 10, 64)
	if path == "" {
		return fmt.Errorf("snapshot action gave no snapshot.path: %v", res.Results)
	}
	logf("snapshot action: %s (%d MiB)", c.Snapshot.Round(time.Millisecond), c.SnapshotBytes>>20)
	units, err := m.Units(ctx)
	if err != nil {
		return err
	}
	start = time.Now()
	res, err = m.Run(ctx, App+"/leader", "restore", map[string]any{"path": path})
	if err != nil {
		return fmt.Errorf("restore action: %w", err)
	}
	if res.Status != "completed" {
		return fmt.Errorf("restore action %s: %s", res.Status, res.Message)
	}
	if _, err := WaitUnitsActive(ctx, m, len(units), start); err != nil {
		return fmt.Errorf("after restore: %w", err)
	}
	c.Restore = time.Since(start)
	c.SnapshotVia = "snapshot and restore actions; restore until every unit is active again"
	logf("restore action to all active: %s", c.Restore.Round(time.Millisecond))
	return nil
}

// settledCluster waits until the model is idle with every unit active and returns the admin view of the
// cluster as it is now (units come and go between steps).
func settledCluster(ctx context.Context, m *client.Model) (Credentials, Target, error) {
	if err := m.WaitForIdle(ctx, client.WaitOptions{Status: "active", Timeout: 5 * time.Minute, IdlePeriod: time.Second}); err != nil {
		return Credentials{}, Target{}, err
	}
	creds, eps, err := CharmTarget(ctx, m)
	if err != nil {
		return creds, Target{}, fmt.Errorf("reading the charm's credentials: %w", err)
	}
	tlsCfg, err := creds.TLS()
	return creds, Target{Endpoints: eps, TLS: tlsCfg}, err
}
