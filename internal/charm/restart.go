package charm

import (
	"context"
	"fmt"
	"time"

	"github.com/gruyaume/goops"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// restartLockKey serialises rolling restarts across units. The lock lives in etcd itself: every member
// holding a pending restart queues on it, so exactly one member restarts at a time without a round of
// relation events per step, and a unit that dies holding it releases it when its lease expires.
const (
	restartLockKey     = "/etcd-charm/locks/restart"
	restartLockTimeout = 5 * time.Minute
	restartLeaseTTL    = 30
)

// rollingRestart restarts this member with its new configuration when it is its turn: leadership moved away
// first if it leads, and healthy again before the next member may go.
func (c *unitContext) rollingRestart() error {
	ctx, cancel := context.WithTimeout(context.Background(), restartLockTimeout)
	defer cancel()
	cli, err := c.dialVoters(ctx)
	if err != nil {
		return err
	}
	defer cli.Close()
	session, err := concurrency.NewSession(cli.Raw(), concurrency.WithTTL(restartLeaseTTL), concurrency.WithContext(ctx))
	if err != nil {
		return waiting("cannot take the restart lock: %v", err)
	}
	defer session.Close()
	mutex := concurrency.NewMutex(session, restartLockKey)
	_ = goops.SetUnitStatus(goops.StatusMaintenance, "waiting for its turn to restart with the new configuration")
	if err := mutex.Lock(ctx); err != nil {
		return waiting("another member is restarting; will restart afterwards")
	}
	defer func() {
		unlockCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = mutex.Unlock(unlockCtx)
	}()
	_ = goops.SetUnitStatus(goops.StatusMaintenance, "restarting with the new configuration")
	if err := c.handOffLeadership(ctx, cli); err != nil {
		return err
	}
	if err := systemctl("restart", serviceName); err != nil {
		return err
	}
	if err := c.waitServing(startTimeout); err != nil {
		return fmt.Errorf("after restart: %w", err)
	}
	return c.waitClusterHealthy(ctx, cli)
}
