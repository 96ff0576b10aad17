package plan

import (
	"slices"
	"time"
)

// Server certificates from an external CA (the certificates relation). The peer listener stays on the
// cluster's own CA: an external CA signs for anyone who asks it, so trusting it there would let any
// certificate it issued with the member CN speak raft. Only the client listener moves, and it moves without
// a restart (etcd reads its certificate at each handshake), so what must be ordered is what clients trust:
//
//  1. the leader offers the external CA beside the cluster CA to every client (db, proxy, etcd_client, the
//     charm's own clients) and records when;
//  2. a unit serves its external certificate only once its CA has been offered for OfferHold, so clients
//     have had their relation hooks to take it;
//  3. when the relation goes or its CA changes, units serve the cluster CA's certificate again at once
//     (clients never stopped trusting it), and the leader stops offering the old external CA only when no
//     unit still serves a certificate it signed.

// OfferHold is how long a CA is offered to clients before any member serves a certificate it signed.
const OfferHold = 30 * time.Second

// OfferedCA is an external CA offered to clients: its certificate, a digest naming it, and since when.
type OfferedCA struct {
	CA     string    `json:"ca"`
	Digest string    `json:"digest"`
	Since  time.Time `json:"since"`
}

// OfferServerCAs is the leader's list of external CAs to offer clients: current (the provider's CA now, ""
// when there is none or its answer is unusable) is added when new, and an old one is kept while any unit
// still serves a certificate it signed (serving: the digests units report). It returns whether the list
// changed.
func OfferServerCAs(offered []OfferedCA, current OfferedCA, serving []string, now time.Time) ([]OfferedCA, bool) {
	var out []OfferedCA
	have := false
	for _, o := range offered {
		switch {
		case current.Digest != "" && o.Digest == current.Digest:
			have = true
			out = append(out, o)
		case slices.Contains(serving, o.Digest):
			out = append(out, o)
		}
	}
	if current.Digest != "" && !have {
		current.Since = now
		out = append(out, current)
	}
	changed := len(out) != len(offered)
	for i := range out {
		if !changed && out[i].Digest != offered[i].Digest {
			changed = true
		}
	}
	return out, changed
}

// ServeExternal says whether a unit serves its external certificate, signed by the CA named digest: only once
// that CA has been offered to clients for OfferHold. Otherwise wait says how long until it may (0 when the
// CA is not offered at all).
func ServeExternal(offered []OfferedCA, digest string, now time.Time) (serve bool, wait time.Duration) {
	for _, o := range offered {
		if o.Digest == digest {
			if left := o.Since.Add(OfferHold).Sub(now); left > 0 {
				return false, left
			}
			return true, 0
		}
	}
	return false, 0
}
