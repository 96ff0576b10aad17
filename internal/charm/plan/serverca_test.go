package plan

import (
	"testing"
	"time"
)

// Given the leader's offered external CAs, when the provider's CA appears, changes and goes, then a new CA is
// offered from now, an old one stays while a unit still serves a certificate it signed, and then goes.
func TestGivenOfferedCAsWhenTheProviderCAChangesThenOldOnesStayWhileServed(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	a, b := OfferedCA{CA: "A", Digest: "a"}, OfferedCA{CA: "B", Digest: "b"}

	offered, changed := OfferServerCAs(nil, a, nil, t0)
	if !changed || len(offered) != 1 || !offered[0].Since.Equal(t0) {
		t.Fatalf("a new CA: %+v %v", offered, changed)
	}
	if again, changed := OfferServerCAs(offered, a, []string{"a"}, t0.Add(time.Minute)); changed || !again[0].Since.Equal(t0) {
		t.Fatalf("the same CA again: %+v %v", again, changed)
	}
	offered, changed = OfferServerCAs(offered, b, []string{"a", ""}, t0.Add(2*time.Minute))
	if !changed || len(offered) != 2 || offered[1].Digest != "b" || !offered[1].Since.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("the provider's CA changed while a unit serves the old one: %+v %v", offered, changed)
	}
	offered, changed = OfferServerCAs(offered, OfferedCA{}, []string{"b"}, t0.Add(3*time.Minute))
	if !changed || len(offered) != 1 || offered[0].Digest != "b" {
		t.Fatalf("relation gone, a unit still serves b: %+v %v", offered, changed)
	}
	if offered, changed = OfferServerCAs(offered, OfferedCA{}, []string{"", ""}, t0.Add(4*time.Minute)); !changed || len(offered) != 0 {
		t.Fatalf("nothing served any more: %+v %v", offered, changed)
	}
}

// Given a CA offered at t0, when a unit asks whether to serve a certificate it signed, then it waits out the
// hold, and a CA never offered is never served.
func TestGivenAnOfferedCAWhenAUnitAsksThenItServesOnlyAfterTheHold(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	offered := []OfferedCA{{CA: "A", Digest: "a", Since: t0}}
	if serve, wait := ServeExternal(offered, "a", t0.Add(10*time.Second)); serve || wait != OfferHold-10*time.Second {
		t.Fatalf("within the hold: %v %v", serve, wait)
	}
	if serve, _ := ServeExternal(offered, "a", t0.Add(OfferHold)); !serve {
		t.Fatal("after the hold: not served")
	}
	if serve, wait := ServeExternal(offered, "z", t0.Add(time.Hour)); serve || wait != 0 {
		t.Fatalf("a CA never offered: %v %v", serve, wait)
	}
}
