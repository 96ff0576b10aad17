package model

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"maps"
	"regexp"
	"strings"
	"time"
)

// Secret is a Juju secret with its revisions, grants and consumers.
type Secret struct {
	ID          string
	OwnerApp    string
	OwnerUnit   string // set for unit-owned secrets
	Label       string // the owner's label
	Description string
	Rotate      string
	Expire      time.Time
	revisions   map[int]map[string]string
	Latest      int
	grants      []Grant
	// tracking is the revision each consumer unit reads; removeSent marks revisions the owner was told to remove.
	tracking   map[string]int
	removeSent map[int]bool
	nextRotate time.Time
}

// Grant gives an application, or one of its units, view access through a relation.
type Grant struct {
	RelationID int
	App        string
	Unit       string
}

var secretKeyRE = regexp.MustCompile(`^[a-z](-?[a-z0-9]){2,}$`)

// base32hex lower-case without padding gives Juju's 20-character xid-style secret ids.
var secretIDEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

func newSecretID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return secretIDEncoding.EncodeToString(b[:])
}

func secretURI(id string) string { return "secret:" + id }

// ParseSecretID accepts "secret:ID", "secret://MODEL/ID" and a bare ID.
func ParseSecretID(s string) string {
	s = strings.TrimPrefix(s, "secret:")
	s = strings.TrimPrefix(s, "//")
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// OwnerTag is "application-NAME" or "unit-APP-N", as Juju names owners.
func (s *Secret) OwnerTag() string {
	if s.OwnerUnit != "" {
		return "unit-" + unitTag(s.OwnerUnit)
	}
	return "application-" + s.OwnerApp
}

// Revisions lists the secret's live revision numbers in order.
func (s *Secret) Revisions() []int {
	var out []int
	for r := range s.revisions {
		out = append(out, r)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Content returns a revision's content.
func (s *Secret) Content(rev int) map[string]string { return maps.Clone(s.revisions[rev]) }

// Grants lists the secret's grants.
func (s *Secret) Grants() []Grant { return append([]Grant(nil), s.grants...) }

// Tracking maps consumer units to the revision they track.
func (s *Secret) Tracking() map[string]int { return maps.Clone(s.tracking) }

func (s *Secret) revokeRelation(id int) {
	kept := s.grants[:0]
	for _, g := range s.grants {
		if g.RelationID != id {
			kept = append(kept, g)
		}
	}
	s.grants = kept
}

// Secrets lists every secret in the model.
func (m *Model) Secrets() []*Secret {
	var out []*Secret
	for _, k := range sortedKeys(m.secrets) {
		out = append(out, m.secrets[k])
	}
	return out
}

// SecretConsumerLabels maps consumer units to their label for the secret.
func (m *Model) SecretConsumerLabels(id string) map[string]string {
	out := map[string]string{}
	for _, u := range m.units {
		if l, ok := u.consumerLabels[id]; ok {
			out[u.Name] = l
		}
	}
	return out
}

// SecretArgs are the options of secret-add and secret-set.
type SecretArgs struct {
	Content     map[string]string
	Label       *string
	Description *string
	Owner       string
	Rotate      *string
	Expire      *time.Time
}

func validateContent(content map[string]string) error {
	size := 0
	for k, v := range content {
		base := strings.TrimSuffix(strings.TrimSuffix(k, "#base64"), "#file")
		if !secretKeyRE.MatchString(base) {
			return fmt.Errorf("invalid key %q", k)
		}
		size += len(v)
	}
	if size > 8*1024 {
		return fmt.Errorf("secret content too large: %d bytes", size)
	}
	return nil
}

func validRotate(p string) bool {
	switch p {
	case "never", "hourly", "daily", "weekly", "monthly", "quarterly", "yearly":
		return true
	}
	return false
}

// canManage reports whether the unit may change the secret: the leader for application-owned secrets,
// the owning unit for unit-owned ones.
// managedSecret resolves a secret this unit may change (set, grant, revoke), with Juju's refusal otherwise:
// an application's secret is managed by its leader only.
func (c *Context) managedSecret(ref string) (*Secret, error) {
	s, err := c.ResolveSecret(ref, "")
	if err != nil {
		return nil, err
	}
	if !c.canManage(s) {
		if s.OwnerUnit == "" && s.OwnerApp == c.Unit.App.Name {
			return nil, fmt.Errorf("this unit is not the leader")
		}
		return nil, ErrPermissionDenied
	}
	return s, nil
}

func (c *Context) canManage(s *Secret) bool {
	if s.OwnerUnit != "" {
		return s.OwnerUnit == c.Unit.Name
	}
	return s.OwnerApp == c.Unit.App.Name && c.Unit.IsLeader()
}

// owns reports whether the unit is on the owning side: any unit of the owning application for
// application-owned secrets, the owning unit for unit-owned ones.
func (c *Context) owns(s *Secret) bool {
	if s.OwnerUnit != "" {
		return s.OwnerUnit == c.Unit.Name
	}
	return s.OwnerApp == c.Unit.App.Name
}

func (c *Context) labelTaken(label string, except string) bool {
	for _, s := range c.allSecrets() {
		if s.ID != except && c.owns(s) && s.Label == label {
			return true
		}
	}
	return false
}

func (c *Context) allSecrets() []*Secret {
	out := c.m.Secrets()
	for _, k := range sortedKeys(c.newSecrets) {
		out = append(out, c.newSecrets[k])
	}
	return out
}

func (c *Context) secret(id string) (*Secret, bool) {
	if s, ok := c.newSecrets[id]; ok {
		return s, true
	}
	s, ok := c.m.secrets[id]
	return s, ok
}

// SecretAdd creates a secret. Its URI exists at once; the secret is committed with the hook.
func (c *Context) SecretAdd(a SecretArgs) (string, error) {
	if len(a.Content) == 0 {
		return "", fmt.Errorf("missing secret value")
	}
	if err := validateContent(a.Content); err != nil {
		return "", err
	}
	s := &Secret{ID: newSecretID(), OwnerApp: c.Unit.App.Name, revisions: map[int]map[string]string{}, tracking: map[string]int{}, removeSent: map[int]bool{}}
	switch a.Owner {
	case "", "application":
		if !c.Unit.IsLeader() {
			return "", fmt.Errorf("this unit is not the leader")
		}
	case "unit":
		s.OwnerUnit = c.Unit.Name
	default:
		return "", fmt.Errorf("invalid owner %q", a.Owner)
	}
	if err := c.applyArgs(s, a); err != nil {
		return "", err
	}
	s.Latest = 1
	s.revisions[1] = maps.Clone(a.Content)
	c.newSecrets[s.ID] = s
	m := c.m
	c.secretOps = append(c.secretOps, func() {
		delete(c.newSecrets, s.ID)
		m.secrets[s.ID] = s
	})
	return secretURI(s.ID), nil
}

func (c *Context) applyArgs(s *Secret, a SecretArgs) error {
	if a.Label != nil {
		if c.labelTaken(*a.Label, s.ID) {
			return fmt.Errorf("secret with label %q already exists", *a.Label)
		}
		s.Label = *a.Label
	}
	if a.Description != nil {
		s.Description = *a.Description
	}
	if a.Rotate != nil {
		if !validRotate(*a.Rotate) {
			return fmt.Errorf("rotate policy %q not valid", *a.Rotate)
		}
		s.Rotate = *a.Rotate
		s.nextRotate = c.m.now.Add(rotateInterval(*a.Rotate))
	}
	if a.Expire != nil {
		s.Expire = *a.Expire
	}
	return nil
}

func rotateInterval(p string) time.Duration {
	switch p {
	case "hourly":
		return time.Hour
	case "daily":
		return 24 * time.Hour
	case "weekly":
		return 7 * 24 * time.Hour
	case "monthly":
		return 30 * 24 * time.Hour
	case "quarterly":
		return 90 * 24 * time.Hour
	case "yearly":
		return 365 * 24 * time.Hour
	}
	return 0
}

// ResolveSecret finds a secret by URI or by label: the unit's owner labels first, then its consumer labels.
func (c *Context) ResolveSecret(ref, label string) (*Secret, error) {
	if ref != "" {
		id := ParseSecretID(ref)
		s, ok := c.secret(id)
		if !ok {
			return nil, fmt.Errorf("secret %q not found", ref)
		}
		return s, nil
	}
	if label == "" {
		return nil, fmt.Errorf("require either a secret URI or label")
	}
	for _, s := range c.allSecrets() {
		if c.owns(s) && s.Label == label {
			return s, nil
		}
	}
	for id, l := range c.Unit.consumerLabels {
		if l == label {
			if s, ok := c.secret(id); ok {
				return s, nil
			}
		}
	}
	return nil, fmt.Errorf("secret %q not found", label)
}

// canView reports whether the unit may read the secret's content: owners, or consumers with a grant.
func (c *Context) canView(s *Secret) bool {
	if c.owns(s) {
		return true
	}
	for _, g := range s.grants {
		if g.Unit == c.Unit.Name || (g.Unit == "" && g.App == c.Unit.App.Name) {
			return true
		}
	}
	return false
}

// SecretGet returns secret content. Owners read the latest revision; a consumer's first read pins it to the
// latest, --refresh moves it to the latest, --peek reads the latest once. Consumers may set their label.
func (c *Context) SecretGet(ref, label string, peek, refresh bool) (map[string]string, error) {
	s, err := c.ResolveSecret(ref, labelIfNoRef(ref, label))
	if err != nil {
		return nil, err
	}
	if !c.canView(s) {
		return nil, ErrPermissionDenied
	}
	if c.owns(s) {
		if ref != "" && label != "" && c.canManage(s) {
			if c.labelTaken(label, s.ID) {
				return nil, fmt.Errorf("secret with label %q already exists", label)
			}
			s.Label = label
		}
		return maps.Clone(s.revisions[s.Latest]), nil
	}
	if ref != "" && label != "" {
		c.Unit.consumerLabels[s.ID] = label
	}
	rev, tracking := s.tracking[c.Unit.Name]
	switch {
	case peek:
		rev = s.Latest
	case refresh || !tracking:
		rev = s.Latest
		s.tracking[c.Unit.Name] = rev
		c.m.checkObsoleteRevisions()
	}
	content, ok := s.revisions[rev]
	if !ok {
		return nil, fmt.Errorf("secret %q revision %d not found", ref+label, rev)
	}
	return maps.Clone(content), nil
}

func labelIfNoRef(ref, label string) string {
	if ref != "" {
		return ""
	}
	return label
}

// SecretInfo returns owner-side metadata; consumers get "not found" as in Juju.
func (c *Context) SecretInfo(ref, label string) (*Secret, error) {
	s, err := c.ResolveSecret(ref, label)
	if err != nil || !c.owns(s) {
		name := ref
		if name == "" {
			name = label
		}
		return nil, fmt.Errorf("secret %q not found", name)
	}
	return s, nil
}

// SecretIDs lists the secrets the unit owns (its application's and its own).
func (c *Context) SecretIDs() []string {
	var out []string
	for _, s := range c.allSecrets() {
		if c.owns(s) {
			out = append(out, s.ID)
		}
	}
	return out
}

// SecretSet updates a secret. New content different from the latest revision creates a revision at commit.
func (c *Context) SecretSet(ref string, a SecretArgs) error {
	s, err := c.managedSecret(ref)
	if err != nil {
		return err
	}
	if len(a.Content) > 0 {
		if err := validateContent(a.Content); err != nil {
			return err
		}
	}
	if a.Owner != "" {
		return fmt.Errorf("cannot change secret owner")
	}
	staged := *s
	if err := c.applyArgs(&staged, a); err != nil {
		return err
	}
	m := c.m
	content := maps.Clone(a.Content)
	c.secretOps = append(c.secretOps, func() {
		s.Label, s.Description, s.Rotate, s.Expire, s.nextRotate = staged.Label, staged.Description, staged.Rotate, staged.Expire, staged.nextRotate
		if len(content) == 0 || maps.Equal(content, s.revisions[s.Latest]) {
			return
		}
		s.Latest++
		s.revisions[s.Latest] = content
		m.notifyConsumers(s)
	})
	return nil
}

func (m *Model) notifyConsumers(s *Secret) {
	for _, name := range sortedKeys(s.tracking) {
		u, ok := m.units[name]
		if !ok || s.tracking[name] >= s.Latest {
			continue
		}
		m.enqueue(u, &Event{Hook: "secret-changed", RelationID: -1, SecretID: s.ID, SecretLabel: u.consumerLabels[s.ID]})
	}
}

// checkObsoleteRevisions tells owners to remove revisions that are neither the latest nor tracked by anyone.
func (m *Model) checkObsoleteRevisions() {
	for _, s := range m.Secrets() {
		for _, rev := range s.Revisions() {
			if rev == s.Latest || s.removeSent[rev] {
				continue
			}
			used := false
			for _, t := range s.tracking {
				if t == rev {
					used = true
				}
			}
			if used {
				continue
			}
			owner := s.OwnerUnit
			if owner == "" {
				if a, ok := m.apps[s.OwnerApp]; ok {
					owner = a.Leader
				}
			}
			u, ok := m.units[owner]
			if !ok {
				continue
			}
			s.removeSent[rev] = true
			m.enqueue(u, &Event{Hook: "secret-remove", RelationID: -1, SecretID: s.ID, SecretLabel: s.Label, SecretRev: rev})
		}
	}
}

// SecretRemove removes the whole secret, or one revision, at commit.
func (c *Context) SecretRemove(ref string, revision int) error {
	s, err := c.ResolveSecret(ref, "")
	if err != nil {
		return err
	}
	if !c.canManage(s) {
		return ErrPermissionDenied
	}
	if revision > 0 {
		if _, ok := s.revisions[revision]; !ok {
			return fmt.Errorf("secret revision %d not found", revision)
		}
	}
	m := c.m
	c.secretOps = append(c.secretOps, func() {
		if revision > 0 && len(s.revisions) > 1 {
			delete(s.revisions, revision)
			if revision == s.Latest {
				s.Latest = s.Revisions()[len(s.revisions)-1]
			}
			return
		}
		delete(m.secrets, s.ID)
		delete(c.newSecrets, s.ID)
		for _, u := range m.units {
			delete(u.consumerLabels, s.ID)
		}
	})
	return nil
}

// SecretGrant gives the relation's remote application (or one of its units) access, at commit.
func (c *Context) SecretGrant(ref string, r *Relation, unit string) error {
	s, err := c.managedSecret(ref)
	if err != nil {
		return err
	}
	remote := r.RemoteApp(c.Unit.App.Name)
	if unit != "" && !strings.HasPrefix(unit, remote+"/") {
		return fmt.Errorf("cannot grant access to unit %q: it is not in relation with remote application %q", unit, remote)
	}
	g := Grant{RelationID: r.ID, App: remote, Unit: unit}
	c.secretOps = append(c.secretOps, func() {
		for _, x := range s.grants {
			if x == g {
				return
			}
		}
		s.grants = append(s.grants, g)
	})
	return nil
}

// SecretRevoke removes grants matching the relation, application or unit, at commit.
func (c *Context) SecretRevoke(ref string, r *Relation, app, unit string) error {
	s, err := c.managedSecret(ref)
	if err != nil {
		return err
	}
	m := c.m
	c.secretOps = append(c.secretOps, func() {
		kept := s.grants[:0]
		for _, g := range s.grants {
			match := (r != nil && g.RelationID == r.ID && unit == "" && app == "") ||
				(app != "" && g.App == app) || (unit != "" && g.Unit == unit)
			if !match {
				kept = append(kept, g)
			}
		}
		s.grants = kept
		for name := range s.tracking {
			if u, ok := m.units[name]; ok && !(&Context{m: m, Unit: u}).canView(s) {
				delete(s.tracking, name)
			}
		}
	})
	return nil
}
