package plan

import (
	"fmt"
	"time"
)

// The quota forecast: each unit keeps samples of its member's live data (bytes in use) and projects their
// growth onto the quota. Live data, not the file: defragmentation shrinks the file but not what is in use,
// and the file's free pages are reused before it grows.
const (
	// SampleEvery is the least time between two samples; a hook in between takes none.
	SampleEvery = 10 * time.Minute
	// SampleWindow is how far back the samples reach, and so the growth the forecast follows.
	SampleWindow = 24 * time.Hour
	// ForecastMinSpan is the least time the samples must cover before a growth rate is believed.
	ForecastMinSpan = time.Hour
	// QuotaForecastWarn: a quota reached sooner than this at the current growth is warned of.
	QuotaForecastWarn = 7 * 24 * time.Hour
)

// SpaceSample is one reading of a member's live data.
type SpaceSample struct {
	At    int64 `json:"t"` // Unix seconds
	InUse int64 `json:"u"` // bytes
}

// AddSample adds a reading to samples when the newest is SampleEvery old or more (or none exists), and
// drops those older than SampleWindow; it reports whether the samples changed. A clock that went back
// leaves only the new reading.
func AddSample(samples []SpaceSample, now time.Time, inUse int64) ([]SpaceSample, bool) {
	n := len(samples)
	if n > 0 && now.Unix() >= samples[n-1].At && now.Unix()-samples[n-1].At < int64(SampleEvery/time.Second) {
		return samples, false
	}
	if n > 0 && now.Unix() < samples[n-1].At {
		return []SpaceSample{{At: now.Unix(), InUse: inUse}}, true
	}
	cutoff := now.Add(-SampleWindow).Unix()
	kept := make([]SpaceSample, 0, n+1)
	for _, s := range samples {
		if s.At >= cutoff {
			kept = append(kept, s)
		}
	}
	return append(kept, SpaceSample{At: now.Unix(), InUse: inUse}), true
}

// Forecast is where the live data is heading.
type Forecast struct {
	// PerDay is the growth of the live data over the samples' span, in bytes per day (negative: shrinking).
	PerDay float64
	// ToQuota is when the live data reaches the quota at that growth; zero when it does not grow.
	ToQuota time.Duration
}

// QuotaForecast projects the growth between the oldest sample and now (inUse) onto quota. ok is false when
// the samples span less than ForecastMinSpan, so that no forecast is made from a few minutes' noise.
func QuotaForecast(samples []SpaceSample, now time.Time, inUse, quota int64) (f Forecast, ok bool) {
	if len(samples) == 0 || quota <= 0 {
		return Forecast{}, false
	}
	span := now.Sub(time.Unix(samples[0].At, 0))
	if span < ForecastMinSpan {
		return Forecast{}, false
	}
	growth := float64(inUse - samples[0].InUse)
	f.PerDay = growth / span.Hours() * 24
	if growth > 0 && inUse < quota {
		f.ToQuota = time.Duration(float64(quota-inUse) / growth * float64(span))
	}
	return f, true
}

// SpaceLine is the active status's word on the member's database: file size, live data and quota, and the
// growth when it is known.
func SpaceLine(dbSize, inUse, quota int64, f Forecast, known bool) string {
	line := fmt.Sprintf("db %s (%s in use) of %s", mib(dbSize), mib(inUse), mib(quota))
	if known && f.PerDay >= 1<<20 {
		line += fmt.Sprintf(", growing %s/day", mib(int64(f.PerDay)))
	}
	return line
}

// QuotaWarning is the warning for a quota the live data reaches within QuotaForecastWarn, "" otherwise.
func QuotaWarning(f Forecast, known bool) string {
	if !known || f.ToQuota <= 0 || f.ToQuota >= QuotaForecastWarn {
		return ""
	}
	return fmt.Sprintf("at the current growth (%s/day) the live data reaches the quota in %s: delete or compact "+
		"what is not needed, or raise quota_backend_bytes", mib(int64(f.PerDay)), roundDays(f.ToQuota))
}

func roundDays(d time.Duration) string {
	if d < 48*time.Hour {
		return d.Round(time.Hour).String()
	}
	return fmt.Sprintf("%.1f days", d.Hours()/24)
}
