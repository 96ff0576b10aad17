package model_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/internal/modeltest"
	"github.com/etcd-charm/etcd/localmodel/model"
)

func TestGivenJitteredWaitsWhenTimePassesThenEachUnitGetsUpdateStatusAtItsOwnTimes(t *testing.T) {
	const interval = 10 * time.Minute
	// Draws are taken in this order: tc/0 and tc/1 at deploy, then each unit again when it fires.
	waits := []time.Duration{8 * time.Minute, 12 * time.Minute, 9 * time.Minute, 11 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	jitter := func(iv time.Duration) time.Duration {
		if iv != interval {
			t.Errorf("jitter got interval %s, want %s", iv, interval)
		}
		if len(waits) == 0 {
			t.Fatal("more jitter draws than expected")
		}
		w := waits[0]
		waits = waits[1:]
		return w
	}
	m := model.New(model.Options{AddressPrefix: "127.9.9.", UpdateStatusInterval: interval, Jitter: jitter})
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m.SetNow(t0)
	deploy(t, m, "tc", 2)
	modeltest.Drain(t, m)

	steps := []struct {
		at   time.Duration
		want map[string][]string
	}{
		{7 * time.Minute, map[string][]string{}},
		{8 * time.Minute, map[string][]string{"tc/0": {"update-status"}}},
		{12 * time.Minute, map[string][]string{"tc/1": {"update-status"}}},
		{16 * time.Minute, map[string][]string{}}, // tc/0 is due at 8+9 = 17m
		{17 * time.Minute, map[string][]string{"tc/0": {"update-status"}}},
		{22 * time.Minute, map[string][]string{}}, // tc/1 is due at 12+11 = 23m
		{23 * time.Minute, map[string][]string{"tc/1": {"update-status"}}},
	}
	for _, s := range steps {
		m.Tick(t0.Add(s.at))
		if ran := modeltest.Drain(t, m); !reflect.DeepEqual(ran, s.want) {
			t.Errorf("at +%s: ran %v, want %v", s.at, ran, s.want)
		}
	}
}

func TestGivenNoJitterOptionWhenDrawingThenWaitsAreJujusPlusMinusTwentyPercent(t *testing.T) {
	const interval = 5 * time.Minute
	lo, hi := interval*8/10, interval*12/10
	first := model.JujuJitter(interval)
	varied := false
	for i := 0; i < 1000; i++ {
		d := model.JujuJitter(interval)
		if d < lo || d >= hi {
			t.Fatalf("draw %d: %s outside [%s, %s)", i, d, lo, hi)
		}
		varied = varied || d != first
	}
	if !varied {
		t.Errorf("1000 draws all equal %s", first)
	}
	if d := model.JujuJitter(0); d != 0 {
		t.Errorf("a zero interval drew %s", d)
	}
}
