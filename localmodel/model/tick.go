package model

import (
	"math/rand/v2"
	"time"
)

// JujuJitter is Juju's update-status wait: uniform in [0.8, 1.2) times the interval. Juju's uniter
// randomises every wait so that the units of a model, which all start around the same time, spread their
// update-status hooks instead of running them at once.
func JujuJitter(interval time.Duration) time.Duration {
	fifth := interval / 5
	if fifth <= 0 {
		return interval
	}
	return interval - fifth + rand.N(2*fifth)
}

// Tick performs what time causes: leadership moves once a leaderless application's lease has expired,
// update-status is queued on every started unit whose own jittered wait is over, and owners learn of
// expired secrets and of secrets due to rotate.
func (m *Model) Tick(now time.Time) {
	m.now = now
	for _, a := range m.Applications() {
		if a.Leader != "" || a.leaderlessSince.IsZero() || now.Before(a.leaderlessSince.Add(m.opts.LeaseDuration)) {
			continue
		}
		for _, u := range a.Units() {
			if u.Life == Alive {
				a.Leader = u.Name
				a.leaderlessSince = time.Time{}
				m.opts.Log("unit-"+unitTag(u.Name), "INFO", "juju.worker.leadership", u.Name+" promoted to leadership of "+a.Name)
				m.enqueue(u, hookEvent("leader-elected"))
				break
			}
		}
	}
	if iv := m.opts.UpdateStatusInterval; iv > 0 {
		for _, u := range m.Units() {
			if u.started && u.Life == Alive && !now.Before(u.nextUpdateStatus) {
				u.nextUpdateStatus = now.Add(m.opts.Jitter(iv))
				m.enqueue(u, hookEvent("update-status"))
			}
		}
	}
	for _, s := range m.Secrets() {
		owner := m.secretOwnerUnit(s)
		if owner == nil {
			continue
		}
		if !s.Expire.IsZero() && !now.Before(s.Expire) {
			s.Expire = time.Time{}
			m.enqueue(owner, &Event{Hook: "secret-expired", RelationID: -1, SecretID: s.ID, SecretLabel: s.Label, SecretRev: s.Latest})
		}
		if !s.nextRotate.IsZero() && !now.Before(s.nextRotate) {
			s.nextRotate = now.Add(rotateInterval(s.Rotate))
			m.enqueue(owner, &Event{Hook: "secret-rotate", RelationID: -1, SecretID: s.ID, SecretLabel: s.Label})
		}
	}
}

func (m *Model) secretOwnerUnit(s *Secret) *Unit {
	name := s.OwnerUnit
	if name == "" {
		if a, ok := m.apps[s.OwnerApp]; ok {
			name = a.Leader
		}
	}
	return m.units[name]
}

// LeadershipPending reports whether an application is waiting for its leader lease to expire.
func (m *Model) LeadershipPending(app string) bool {
	a, ok := m.apps[app]
	return ok && a.Leader == "" && !a.leaderlessSince.IsZero() && len(a.units) > 0
}

// Idle reports whether the given applications (all when empty) have nothing to run: no hook running, no
// queued work, no leadership election pending. Units in error are listed; their queue is blocked.
func (m *Model) Idle(apps []string) (idle bool, errored []string) {
	want := map[string]bool{}
	for _, a := range apps {
		want[a] = true
	}
	idle = true
	for _, a := range m.Applications() {
		if len(want) > 0 && !want[a.Name] {
			continue
		}
		if m.LeadershipPending(a.Name) || a.Life != Alive {
			idle = false
		}
		for _, u := range a.Units() {
			if u.failed != nil {
				errored = append(errored, u.Name)
				continue
			}
			if u.running != nil || len(u.queue) > 0 || len(u.tasks) > 0 {
				idle = false
			}
		}
	}
	for _, r := range m.relations {
		if r.Life != Alive {
			idle = false
		}
	}
	return idle, errored
}

// FormatSince renders a time the way `juju status` does.
func FormatSince(t time.Time) string { return t.UTC().Format("02 Jan 2006 15:04:05Z07:00") }
