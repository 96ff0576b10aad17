package charm

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/cluster"
)

// The client trust generation counts the Juju leader's changes to the client trust bundle. It lives in the
// peer application bag beside the registry, and the leader mirrors it into etcd (trustGenerationKey) with the
// time it changed. A hook's bags are a snapshot taken when it starts, but etcd answers now: a member about to
// restart onto a new bundle learns from etcd whether a newer one is already on its way to it, and whether
// the change is so recent that more requirers may follow (plan.TrustSettle). So requirers that arrive
// together cost one restart per member, not one each.
const (
	keyTrustGeneration = "client-trust-generation" // app bag: the generation of the bundle the registry makes
	keyTrustDigest     = "client-trust-digest"     // app bag: the digest of that bundle
	trustGenerationKey = "/etcd-charm/clients/trust-generation"
	// trustSettle is how long a new bundle must stand before members restart onto it when no client relation
	// the leader knows is still to send its request: it covers relations made so recently that the leader
	// has not run their first hook yet.
	trustSettle = 3 * time.Second
	// trustHold bounds how long requirers still to send their requests hold restarts back after a change:
	// requirers related together reach the leader seconds apart (each relation is several of its hooks, run
	// one after another), and a member that restarts between two of them restarts again.
	trustHold = 30 * time.Second
)

// trustGeneration is what the leader publishes in etcd.
type trustGeneration struct {
	Generation int64 `json:"generation"`
	Changed    int64 `json:"changed"` // unix nanoseconds
	// Pending counts the client relations the leader saw without a request yet; each brings a certificate.
	Pending int `json:"pending,omitempty"`
}

func (p *peerRelation) trustGeneration() int64 {
	n, _ := strconv.ParseInt(p.App[keyTrustGeneration], 10, 64)
	return n
}

// advanceTrustGeneration is the leader's: a registry whose bundle differs from the recorded one gets the next
// generation, and etcd is told, with the client relations still to send a request (pending); again when an
// earlier hook could not tell it, or something else wrote there.
func (c *unitContext) advanceTrustGeneration(ctx context.Context, cli *cluster.Client, pending int) error {
	digest := trustDigest(c.clientTrustBundle())
	gen := c.peers.trustGeneration()
	if c.peers.App[keyTrustDigest] != digest {
		gen++
		if err := c.peers.setApp(map[string]string{keyTrustGeneration: strconv.FormatInt(gen, 10), keyTrustDigest: digest}); err != nil {
			return err
		}
	}
	published, ok, err := readTrustGeneration(ctx, cli)
	if err != nil || (ok && published.Generation == gen && published.Pending == pending) {
		return err
	}
	changed := time.Now().UnixNano()
	if ok && published.Generation == gen {
		changed = published.Changed // only the pending count moved: the bundle is as old as it was
	}
	// Any other generation in etcd is not the leader's word (an administering db consumer can write there):
	// it is replaced, so a member never waits on a bundle that is not coming.
	raw, _ := json.Marshal(trustGeneration{Generation: gen, Changed: changed, Pending: pending})
	if _, err := cli.Raw().Put(ctx, trustGenerationKey, string(raw)); err != nil {
		goops.LogWarningf("publishing client trust generation %d: %v (members restart without waiting for it)", gen, err)
	}
	return nil
}

func readTrustGeneration(ctx context.Context, cli *cluster.Client) (trustGeneration, bool, error) {
	resp, err := cli.Raw().Get(ctx, trustGenerationKey)
	if err != nil {
		return trustGeneration{}, false, err
	}
	if len(resp.Kvs) == 0 {
		return trustGeneration{}, false, nil
	}
	var g trustGeneration
	if json.Unmarshal(resp.Kvs[0].Value, &g) != nil {
		return trustGeneration{}, false, nil
	}
	return g, true, nil
}

// trustSettled holds a trust-only restart back while a newer bundle is on its way to this unit, and waits
// out a change too young to have settled. Without an answer from etcd it goes ahead.
func (c *unitContext) trustSettled() error {
	cli, err := c.votersClient()
	if err != nil {
		return nil //nolint:nilerr // no answer: restart as the bags say
	}
	seen := c.peers.trustGeneration()
	var logged trustGeneration
	// Each look is bounded and at most trustLook apart, so a pending count that drops lets the member go at
	// once; trustHold bounds the whole wait, and the last look goes ahead whatever it finds. A member waits
	// here rather than ending its hook, so the pending count needs no databag key to wake it.
	for range int(trustHold/trustLook) + 2 {
		ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
		published, ok, err := readTrustGeneration(ctx, cli)
		cancel()
		if err != nil || !ok {
			return nil
		}
		wait, stale := plan.TrustSettle(seen, published.Generation, published.Pending, time.Unix(0, published.Changed),
			time.Now(), trustSettle, trustHold)
		if stale {
			goops.LogInfof("client trust generation %d here, %d published: a newer one is on its way", seen, published.Generation)
			return heldBack("client trust changed; a newer change (generation %d) is on its way to this unit", published.Generation)
		}
		if wait == 0 {
			return nil
		}
		if logged != published { // every log line is a hook tool call: one per change, not one per look
			goops.LogInfof("client trust generation %d published %s ago with %d client relations still to send a request: waiting for it to settle",
				published.Generation, time.Since(time.Unix(0, published.Changed)).Round(time.Millisecond), published.Pending)
			logged = published
		}
		select {
		case <-time.After(min(wait, trustLook)):
		case <-c.ctx.Done():
			return c.ctx.Err()
		}
	}
	return nil
}

// trustLook is how often a member waiting for client trust to settle looks at etcd again.
const trustLook = 2 * time.Second
