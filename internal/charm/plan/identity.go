package plan

// IdentityRequest is a cluster identity a unit started on its own member (a restore or a rebuild-cluster) and
// recorded in its own peer bag. The unit that starts it may not lead, may lose leadership half way, or may
// gain it only later, so the record, not the action that made it, is what the leader publishes.
type IdentityRequest struct {
	Unit  string
	Epoch string // orders identities by when they were started (restore.go's newEpoch)
	// ClusterID and Token are what the new identity was started with; empty from a unit of an older revision,
	// which recorded the epoch alone (a rebuild keeps the cluster ID, so nothing is lost then).
	ClusterID string
	Token     string
}

// AdoptIdentity is the leader's rule: publish the newest request whose epoch is newer than the published one,
// whichever unit recorded it (the leader's own bag included). Older requests are identities since replaced;
// following one would wipe members of the current cluster. ok is false when nothing is newer.
func AdoptIdentity(published string, requests []IdentityRequest) (adopt IdentityRequest, ok bool) {
	for _, r := range requests {
		if r.Epoch == "" || r.Epoch <= published {
			continue
		}
		if !ok || r.Epoch > adopt.Epoch {
			adopt, ok = r, true
		}
	}
	return adopt, ok
}
