package plan

import (
	"strings"
	"testing"
	"time"
)

func TestGivenSamplesOfLiveDataWhenTheQuotaIsForecastThenGrowthIsProjectedOnlyOverAnHourOrMore(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	var samples []SpaceSample
	var changed bool
	samples, changed = AddSample(samples, t0, 100<<20)
	if !changed || len(samples) != 1 {
		t.Fatalf("the first reading was not kept: %v", samples)
	}
	if _, changed = AddSample(samples, t0.Add(5*time.Minute), 101<<20); changed {
		t.Error("a reading 5 min after the last was kept")
	}
	if _, ok := QuotaForecast(samples, t0.Add(30*time.Minute), 110<<20, 2<<30); ok {
		t.Error("a forecast was made from 30 minutes of samples")
	}
	// 2 h later the live data grew by 100 MiB: 1200 MiB/day; 1848 MiB left of 2 GiB is about 37 h.
	now := t0.Add(2 * time.Hour)
	f, ok := QuotaForecast(samples, now, 200<<20, 2<<30)
	if !ok || int64(f.PerDay)>>20 != 1200 || f.ToQuota.Round(time.Hour) != 37*time.Hour {
		t.Fatalf("got %+v %v, want 1200 MiB/day and about 37 h to the quota", f, ok)
	}
	if w := QuotaWarning(f, ok); !strings.Contains(w, "reaches the quota in 37h0m0s") || !strings.Contains(w, "1200 MiB/day") {
		t.Errorf("warning %q", w)
	}
	if line := SpaceLine(300<<20, 200<<20, 2<<30, f, ok); line != "db 300 MiB (200 MiB in use) of 2048 MiB, growing 1200 MiB/day" {
		t.Errorf("space line %q", line)
	}
	// Slow growth: 10 MiB a day against 1.8 GiB left is months away, no warning.
	slow, ok := QuotaForecast([]SpaceSample{{At: t0.Unix(), InUse: 200 << 20}}, t0.Add(24*time.Hour), 210<<20, 2<<30)
	if !ok || QuotaWarning(slow, ok) != "" {
		t.Errorf("slow growth %+v warned: %q", slow, QuotaWarning(slow, ok))
	}
	// Shrinking data forecasts nothing, and the line says no growth.
	shrink, ok := QuotaForecast(samples, now, 50<<20, 2<<30)
	if !ok || shrink.ToQuota != 0 || QuotaWarning(shrink, ok) != "" || strings.Contains(SpaceLine(60<<20, 50<<20, 2<<30, shrink, ok), "growing") {
		t.Errorf("shrinking data: %+v", shrink)
	}
}

func TestGivenOldSamplesWhenANewOneIsAddedThenTheWindowKeepsOnlyADayAndAClockGoingBackStartsAfresh(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	var samples []SpaceSample
	for i := range 30 { // one an hour for 30 h
		samples, _ = AddSample(samples, t0.Add(time.Duration(i)*time.Hour), int64(i)<<20)
	}
	if first := time.Unix(samples[0].At, 0).UTC(); first != t0.Add(5*time.Hour) || len(samples) != 25 {
		t.Errorf("kept %d samples from %s, want 25 from 05:00", len(samples), first)
	}
	back, changed := AddSample(samples, t0, 1)
	if !changed || len(back) != 1 || back[0].At != t0.Unix() {
		t.Errorf("after the clock went back: %v", back)
	}
}
