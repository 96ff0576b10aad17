package s3backup

import (
	"sort"
	"time"
)

// Owner is the application whose scheduled backups a retention rule may delete: backups of other
// applications sharing the bucket and prefix are never touched, and a restore (which gives the cluster a new
// ID) does not orphan the backups taken before it.
type Owner struct {
	Model       string
	Application string
}

// Retention is how many scheduled backups to keep, and how old they may grow (0: no age limit).
type Retention struct {
	Keep   int
	MaxAge time.Duration
}

// ToPrune returns the backups that retention deletes: the owner's scheduled backups beyond the newest Keep,
// and those older than MaxAge. The newest scheduled backup is always kept, so a stalled schedule never leaves
// the bucket without one.
func ToPrune(ms []Manifest, owner Owner, r Retention, now time.Time) []Manifest {
	var mine []Manifest
	for _, m := range ms {
		if m.Kind == KindScheduled && m.Model == owner.Model && m.Application == owner.Application {
			mine = append(mine, m)
		}
	}
	sort.Slice(mine, func(i, j int) bool { return mine[i].ID > mine[j].ID })
	var prune []Manifest
	for i, m := range mine {
		if i == 0 {
			continue
		}
		if (r.Keep > 0 && i >= r.Keep) || (r.MaxAge > 0 && now.Sub(m.Taken) > r.MaxAge) {
			prune = append(prune, m)
		}
	}
	return prune
}
