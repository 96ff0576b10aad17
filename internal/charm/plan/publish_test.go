package plan

import (
	"testing"
	"time"
)

// Given a new learner's metrics read every 100 ms, when its publish is judged, then it is lost only once it
// has been pending past the grace after the snapshot landed, and a reading without a snapshot starts over.
func TestGivenANewLearnersReadingsWhenItsPublishIsJudgedThenItIsLostOnlyPastTheGraceAfterItsSnapshot(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)
	grace := 500 * time.Millisecond
	applied := func(pending uint64) PublishProgress {
		return PublishProgress{Readable: true, Applied: 11, Pending: pending}
	}
	cases := []struct {
		name     string
		readings []PublishProgress
		want     []Publish
	}{
		{"metrics not up, then the snapshot lands and the publish follows",
			[]PublishProgress{{}, {Readable: true, Pending: 1}, applied(1), applied(0)},
			[]Publish{PublishPending, PublishPending, PublishPending, PublishDone}},
		{"publish pending past the grace after the snapshot",
			[]PublishProgress{applied(1), applied(1), applied(1), applied(1), applied(1), applied(1), applied(1)},
			[]Publish{PublishPending, PublishPending, PublishPending, PublishPending, PublishPending, PublishPending, PublishLost}},
		{"a failed read starts the grace over",
			[]PublishProgress{applied(1), applied(1), applied(1), applied(1), applied(1), {}, applied(1), applied(1)},
			[]Publish{PublishPending, PublishPending, PublishPending, PublishPending, PublishPending, PublishPending, PublishPending, PublishPending}},
		{"a large snapshot still on its way is never taken for lost",
			[]PublishProgress{{Readable: true, Pending: 1}, {Readable: true, Pending: 1}, {Readable: true, Pending: 1},
				{Readable: true, Pending: 1}, {Readable: true, Pending: 1}, {Readable: true, Pending: 1}, {Readable: true, Pending: 1}},
			[]Publish{PublishPending, PublishPending, PublishPending, PublishPending, PublishPending, PublishPending, PublishPending}},
	}
	for _, tc := range cases {
		var since time.Time
		for i, r := range tc.readings {
			var got Publish
			got, since = JudgePublish(r, since, t0.Add(time.Duration(i)*100*time.Millisecond), grace)
			if got != tc.want[i] {
				t.Errorf("%s: reading %d (%+v) judged %d, want %d", tc.name, i, r, got, tc.want[i])
			}
		}
	}
}
