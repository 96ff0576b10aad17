package main

// Compaction as kube-apiserver does it (k8s.io/apiserver, storage/etcd3/compact.go), so that this example
// stands in for kubernetes-control-plane in full: etcd keeps every revision until a client compacts, and in
// Charmed Kubernetes that client is kube-apiserver. All compactors share one key, compact_rev_key: its value
// is the revision the last round claimed, its version counts the rounds. A round reads the key, claims the
// round with a transaction that succeeds only if nobody claimed one since that read (the version is
// unchanged), and, when it won, compacts to the revision claimed the round before. Compacting one round
// behind the claim keeps at least one interval of history for watchers that lag.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/gruyaume/goops"
)

const compactRevKey = "compact_rev_key"

// round is what one compaction round did.
type round struct {
	Claimed   int64 // the revision this round claimed; the next round compacts to it
	Compacted int64 // the revision compacted to; 0 when compact_rev_key held no earlier claim
	Already   bool  // etcd had compacted past Compacted before us (its own auto-compaction)
}

func (r round) String() string {
	switch {
	case r.Compacted == 0:
		return fmt.Sprintf("no earlier claim in %s: claimed revision %d, which the next round compacts to", compactRevKey, r.Claimed)
	case r.Already:
		return fmt.Sprintf("etcd had already compacted past revision %d; claimed revision %d for the next round", r.Compacted, r.Claimed)
	}
	return fmt.Sprintf("compacted to revision %d; claimed revision %d for the next round", r.Compacted, r.Claimed)
}

// errRoundLost means another compactor claimed the round between our read and our claim, as happens when
// several kube-apiservers share a cluster. It is not a fault: that compactor does the work.
var errRoundLost = errors.New("another compactor claimed this round first (" + compactRevKey + " changed after it was read)")

// compactRound runs one round. The earlier claim is read from the key rather than remembered here, so the
// rounds stay one sequence whoever runs them: the leader at update-status, a new leader, the compact action.
func compactRound(ctx context.Context, kv clientv3.KV) (round, error) {
	get, err := kv.Get(ctx, compactRevKey)
	if err != nil {
		return round{}, fmt.Errorf("reading %s: %w", compactRevKey, err)
	}
	var version, earlier int64
	if len(get.Kvs) > 0 {
		version = get.Kvs[0].Version
		// A value that is not a revision is no claim; this round's claim replaces it.
		earlier, _ = strconv.ParseInt(string(get.Kvs[0].Value), 10, 64)
	}
	r := round{Claimed: get.Header.Revision}
	txn, err := kv.Txn(ctx).If(clientv3.Compare(clientv3.Version(compactRevKey), "=", version)).
		Then(clientv3.OpPut(compactRevKey, strconv.FormatInt(r.Claimed, 10))).
		Else(clientv3.OpGet(compactRevKey)).Commit()
	if err != nil {
		return round{}, fmt.Errorf("claiming the round: %w", err)
	}
	if !txn.Succeeded {
		return round{}, errRoundLost
	}
	if earlier <= 0 {
		return r, nil
	}
	// The claim is written before compacting: if the compaction fails, the next round still has a claim.
	if _, err := kv.Compact(ctx, earlier); err != nil {
		if !errors.Is(err, rpctypes.ErrCompacted) {
			return r, fmt.Errorf("compacting to revision %d (claimed revision %d for the next round): %w", earlier, r.Claimed, err)
		}
		r.Already = true
	}
	r.Compacted = earlier
	return r, nil
}

// compactOnDB dials etcd with the db endpoint's saved credentials (kube-apiserver's) and runs one round.
func compactOnDB() (round, error) {
	c, _, err := dial(endpointDB)
	if err != nil {
		return round{}, err
	}
	defer c.Close()
	ctx, cancel := withTimeout()
	defer cancel()
	return compactRound(ctx, c)
}

// compactAction runs one round now; its results say what it compacted and claimed.
func compactAction() error {
	r, err := compactOnDB()
	if err != nil {
		if errors.Is(err, rpctypes.ErrPermissionDenied) {
			return goops.FailActionf("%v: compacting needs etcd's root role, which db consumers hold while etcd's db_admin is true", err)
		}
		return goops.FailActionf("%v", err)
	}
	results := map[string]string{"claimed": strconv.FormatInt(r.Claimed, 10), "message": r.String()}
	if r.Compacted > 0 {
		results["compacted"] = strconv.FormatInt(r.Compacted, 10)
	}
	return goops.SetActionResults(results)
}

// lastRoundKey is the time of the leader's last round (RFC 3339) in the unit's Juju state.
const lastRoundKey = "compaction-last-round"

// compactionDue says whether the leader runs a round now: after interval since its last round. Interval 0
// is off, and with no round on record it is not due: the caller starts the clock instead, as kube-apiserver
// runs its first round one interval after it starts, so a new leader never compacts history younger than
// an interval.
func compactionDue(interval time.Duration, last, now time.Time) bool {
	return interval > 0 && !last.IsZero() && !now.Before(last.Add(interval))
}

// periodicCompaction runs in every hook: on the leader it starts the clock and, at update-status, runs a
// round when one is due; anywhere else it forgets the clock, so a unit that becomes leader later starts
// afresh. A failed round is logged, not a failed hook (a failed hook would stop the unit's other work); the
// next one comes an interval later, as kube-apiserver retries.
func periodicCompaction(leader bool, interval time.Duration) error {
	raw, _ := goops.GetState(lastRoundKey) // a missing key is an error to goops
	if !leader || interval == 0 {
		if raw == "" {
			return nil
		}
		return goops.DeleteState(lastRoundKey)
	}
	now := time.Now()
	last, err := time.Parse(time.RFC3339, raw)
	switch {
	case err != nil:
		return goops.SetState(lastRoundKey, now.Format(time.RFC3339))
	case goops.ReadEnv().HookName != "update-status" || !compactionDue(interval, last, now):
		return nil
	}
	if _, err := load(root(), endpointDB); err != nil {
		goops.LogInfof("compaction: db is not ready yet; the round waits for it")
		return nil
	}
	if r, err := compactOnDB(); err != nil {
		goops.LogWarningf("compaction round: %v", err)
	} else {
		goops.LogInfof("compaction round: %s", r)
	}
	return goops.SetState(lastRoundKey, now.Format(time.RFC3339))
}
