package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Backoff between attempts of a transiently refused call. The cap stays
// well under etcd's 5 s membership-change window so a retry lands soon after
// the window closes.
const (
	retryFirstDelay = 100 * time.Millisecond
	retryMaxDelay   = 1 * time.Second
)

// retry calls attempt until it succeeds, returns an error retryable does not
// accept, or ctx ends. On ctx end it returns the last refusal (which says
// why etcd kept saying no), with the context error alongside.
func retry(ctx context.Context, retryable func(error) bool, attempt func(context.Context) error) error {
	delay := retryFirstDelay
	for {
		err := attempt(ctx)
		if err == nil || !retryable(err) {
			return err
		}
		// Jitter keeps several units of one application from retrying in step.
		wait := delay/2 + rand.N(delay/2+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (gave up: %w)", err, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, retryMaxDelay)
	}
}
