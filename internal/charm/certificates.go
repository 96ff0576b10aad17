package charm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/interfaces/tlscertificates"
	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/etcd"
	"github.com/etcd-charm/etcd/internal/pki"
)

// The certificates relation (interface tls-certificates, classic and v4 on the same endpoint): an external CA
// (easyrsa, vault, self-signed-certificates, an enterprise CA behind lego or manual-tls-certificates) signs
// the certificate each member's client listener serves. The order of the change is plan's (serverca.go):
// the leader offers the CA to clients first, a unit serves the certificate only after the hold, and the
// cluster CA's certificate comes back at once when the relation goes. Every unit asks for and reads its own
// certificate; only the leader decides what clients are offered.
const (
	certificatesEndpoint = "certificates"
	keyServerCAs         = "server-cas" // app bag: the external CAs offered to clients (plan.OfferedCA, JSON)
	keyServingCA         = "serving-ca" // unit bag: digest of the external CA whose certificate the client listener serves; "" for the cluster CA
)

// externalCert is what the certificates relation says now for this unit.
type externalCert struct {
	Source   string // what the status names: the certificates relation, or config ca_certificate
	Related  bool
	Answered bool   // the provider has answered this unit's request
	CA       string // the provider's CA, PEM
	Served   []byte // leaf and intermediates, checked
	Key      []byte
	Err      error // what is wrong with the provider's answer
}

func (e externalCert) usable() bool { return e.Related && e.Answered && e.Err == nil }

// offered is the external CA this answer offers clients, or nothing.
func (e externalCert) offered() plan.OfferedCA {
	if !e.usable() {
		return plan.OfferedCA{}
	}
	return plan.OfferedCA{CA: e.CA, Digest: etcd.Digest([]byte(e.CA))}
}

// readExternalCert asks the provider for this unit's server certificate (both formats, in this unit's bag)
// and reads and checks its answer. Provider data is untrusted: an answer that is not for this unit's key,
// does not chain to the CA sent with it, does not name the unit's address or has expired is an Err, and the
// unit goes on serving what it serves.
func (c *unitContext) readExternalCert() (externalCert, error) {
	if strings.TrimSpace(c.cfg.CACertificate) != "" {
		return c.readOperatorCACert() // never beside the relation (a config problem)
	}
	ids, err := c.optionalRelationIDs(certificatesEndpoint)
	if err != nil || len(ids) == 0 {
		return externalCert{}, err
	}
	id := ids[0]
	e := externalCert{Related: true, Source: "certificates relation"}
	csr, err := c.requestExternalCert(id)
	if err != nil {
		return e, err
	}
	units, err := goops.ListRelationUnits(id)
	if err != nil {
		return e, fmt.Errorf("listing the units of relation %s: %w", id, err)
	}
	var bags []map[string]string
	for _, u := range units {
		bag, err := goops.GetUnitRelationData(id, u)
		if err != nil {
			return e, fmt.Errorf("reading %s's bag on relation %s: %w", u, id, err)
		}
		bags = append(bags, bag)
	}
	app, err := remoteAppBag(id)
	if err != nil {
		return e, err
	}
	iss, ok, err := tlscertificates.Answer(c.unit, csr, bags, app)
	if err != nil {
		e.Err = err
		return e, nil
	}
	if !ok {
		return e, nil
	}
	if served, due := c.renewalDue(id); due && iss.Format == tlscertificates.Classic && sameCertificate(served, iss.Certificate) {
		// Ask again, differently: a later hook reads the provider's new certificate.
		if err := c.bumpClassicRenewal(id, served); err != nil {
			return e, err
		}
		if _, err := c.requestExternalCert(id); err != nil {
			return e, err
		}
	}
	e.Answered = true
	key := []byte(iss.Key)
	if iss.Format == tlscertificates.V4 {
		if key, err = os.ReadFile(c.paths.ExternalKey); err != nil {
			return e, fmt.Errorf("reading %s: %w", c.paths.ExternalKey, err)
		}
	}
	e.CA, e.Key = strings.TrimSpace(iss.CA)+"\n", key
	e.Served, e.Err = pki.CheckServerCertificate([]byte(iss.CA), []byte(iss.Certificate), []byte(iss.Chain), key, c.address, c.now)
	return e, nil
}

// requestExternalCert writes this unit's request (classic keys and a v4 CSR) when it is not written yet or
// no longer covers the unit's names, and returns the CSR.
func (c *unitContext) requestExternalCert(relationID string) (string, error) {
	key, err := c.ensureKey(c.paths.ExternalKey)
	if err != nil {
		return "", err
	}
	sans := c.memberSANs()
	stateKey := "certificates-csr " + relationID
	csr := getState(stateKey)
	// v4 renewal: a provider issues for a new CSR only (the same CSR again is a no-op to every provider), so
	// renewing is a new CSR from the same key; the old certificate is served until the new one is answered.
	served, due := c.renewalDue(relationID)
	renew := due && csr != "" && certAnswersCSR(served, csr)
	if !csrCovers(csr, key, c.address, sans) || renew {
		raw, err := pki.NewCSR(key, c.address, sans)
		if err != nil {
			return "", fmt.Errorf("creating the certificates request: %w", err)
		}
		csr = string(raw)
		if renew {
			if err := c.markRenewalAsked(relationID, served); err != nil {
				return "", err
			}
		}
	}
	classicSANs := sans
	if gen := c.classicRenewal(relationID); gen > 0 {
		classicSANs = append(slices.Clone(sans), classicRenewalSAN(gen))
	}
	bag, err := tlscertificates.Request{Unit: c.unit, CommonName: c.address, SANs: classicSANs, CSR: csr}.UnitBag()
	if err != nil {
		return "", err
	}
	raw, _ := json.Marshal(bag)
	if err := onceUntilChanged("certificates-request "+relationID, etcd.Digest(raw), func() error {
		return goops.SetUnitRelationData(relationID, bag)
	}); err != nil {
		return "", fmt.Errorf("writing the certificates request on %s: %w", relationID, err)
	}
	if getState(stateKey) != csr {
		if err := setState(stateKey, csr); err != nil {
			return "", err
		}
	}
	return csr, nil
}

// renewalDue reports whether the certificate the client listener serves is past two thirds of its life
// and no new certificate has been asked for in its place yet, and returns it. Asking once per served
// certificate matters: the request that replaces it looks, to every check on the served certificate, just
// like the one it answered (same key, CN and SANs for v4), so without the mark each hook until the provider
// answers would ask again, and the answer would never match the newest request.
func (c *unitContext) renewalDue(relationID string) (served string, due bool) {
	raw, err := os.ReadFile(c.paths.ServerPair)
	if err != nil || !c.needsRenewal(string(raw)) {
		return "", false
	}
	fp, err := pki.Fingerprint(raw)
	if err != nil || getState("certificates-renewal-of "+relationID) == fp {
		return "", false
	}
	return string(raw), true
}

// markRenewalAsked records that a new certificate has been asked for in place of served.
func (c *unitContext) markRenewalAsked(relationID, served string) error {
	fp, err := pki.Fingerprint([]byte(served))
	if err != nil {
		return err
	}
	return setState("certificates-renewal-of "+relationID, fp)
}

// sameCertificate reports whether two PEM texts hold the same first certificate.
func sameCertificate(a, b string) bool {
	ca, err1 := pki.ParseCertificate([]byte(a))
	cb, err2 := pki.ParseCertificate([]byte(b))
	return err1 == nil && err2 == nil && ca.Equal(cb)
}

// Classic providers (easyrsa, the classic vault charm) never renew, and issue again only when a unit's
// common name or set of SANs changes (their shared interface library compares the sorted SANs). So at two
// thirds of the served certificate's life the unit asks again with one more SAN, renewal-N.etcd.invalid: a
// name under the reserved .invalid domain (RFC 2606), which resolves nowhere and so lends the certificate
// to nothing. N counts the renewals on this relation, in the unit's state.
func classicRenewalSAN(gen int) string { return fmt.Sprintf("renewal-%d.etcd.invalid", gen) }

func (c *unitContext) classicRenewal(relationID string) int {
	gen, _ := strconv.Atoi(getState("certificates-renewal " + relationID))
	return gen
}

// bumpClassicRenewal asks the classic provider again, once per served certificate (renewalDue).
func (c *unitContext) bumpClassicRenewal(relationID, served string) error {
	gen := c.classicRenewal(relationID) + 1
	goops.LogInfof("asking the classic CA provider for a new certificate before this one expires (request %d)", gen)
	if err := setState("certificates-renewal "+relationID, strconv.Itoa(gen)); err != nil {
		return err
	}
	return c.markRenewalAsked(relationID, served)
}

// offeredServerCAs reads the leader's list of external CAs offered to clients.
func (p *peerRelation) offeredServerCAs() []plan.OfferedCA {
	var offered []plan.OfferedCA
	if raw := p.App[keyServerCAs]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &offered) // the leader wrote it; unreadable reads as none offered
	}
	return offered
}

// serverCABundle is what clients verify the client listener with: the cluster CA, then each external CA
// offered. Clients of the classic charm got a CA file ending in a newline.
func (c *unitContext) serverCABundle() string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(c.peers.App[keyCACert]) + "\n")
	for _, o := range c.peers.offeredServerCAs() {
		b.WriteString(strings.TrimSpace(o.CA) + "\n")
	}
	return b.String()
}

// offerServerCAs is the leader's: the provider's CA is offered from now, and a CA no longer current stays
// offered while a unit still serves a certificate it signed.
func (c *unitContext) offerServerCAs(ext externalCert) (changed bool, err error) {
	if !ext.Related && c.peers.App[keyServerCAs] == "" {
		return false, nil // the usual case: nothing offered and nothing to offer (no peer bags to read)
	}
	units, err := c.peers.Units()
	if err != nil {
		return false, err
	}
	serving := []string{c.peers.Self[keyServingCA]}
	for _, bag := range units {
		serving = append(serving, bag[keyServingCA])
	}
	offered, changed := plan.OfferServerCAs(c.peers.offeredServerCAs(), ext.offered(), serving, c.now)
	if !changed {
		return false, nil
	}
	value := "" // none offered: the key goes, and hooks without the relation read no peer bags for it
	if len(offered) > 0 {
		raw, err := json.Marshal(offered)
		if err != nil {
			return false, err
		}
		value = string(raw)
	}
	goops.LogInfof("offering clients %d external CA(s) beside the cluster CA", len(offered))
	return true, c.peers.setApp(map[string]string{keyServerCAs: value})
}

// installServerCertificate writes what the client listener serves (etcd reads it at each handshake): the
// external certificate once its CA has been offered to clients long enough, otherwise the member
// certificate. While related, an external certificate still valid and still offered is not taken away by an
// answer that is pending or went bad: the unit keeps serving it (and says what is wrong). It reports the provider's problem, and
// tells the peers which CA the listener now serves.
//
// offeredNow is true in the leader's hook that changed the offer: what it wrote reaches clients and peers
// only when the hook ends, so that hook does not wait out the hold; a later one (a peer's change of
// serving-ca, or update-status) finds it over.
func (c *unitContext) installServerCertificate(ext externalCert, offeredNow bool) error {
	offered := c.peers.offeredServerCAs()
	if _, err := etcd.WriteFile(c.paths.ServerCA, []byte(c.serverCABundle()), 0o644); err != nil {
		return err
	}
	cert, key := []byte(nil), []byte(nil)
	if ext.usable() {
		serve, wait := plan.ServeExternal(offered, ext.offered().Digest, c.now)
		if !serve && wait > 0 && wait <= plan.OfferHold && !offeredNow {
			// Offered moments ago (by the leader's hook that woke this one): wait the rest of the hold here
			// rather than until the next hook, which may be update-status minutes away.
			goops.LogInfof("serving the external certificate in %s, once clients have had the CA offered for %s", wait.Round(time.Second), plan.OfferHold)
			time.Sleep(wait)
			serve = true
		}
		if serve {
			cert, key = ext.Served, ext.Key
		} else if wait > 0 {
			c.externalWait = wait
		}
	}
	if cert == nil && ext.Related && c.servingStillValid(offered) {
		// Related, but nothing new to serve yet (a renewal or a new CA not answered or not offered long
		// enough, or an answer that went bad): what is served stays until it expires.
		return c.publishServingCA(offered)
	}
	if cert == nil {
		member, err1 := os.ReadFile(c.paths.MemberCert)
		mkey, err2 := os.ReadFile(c.paths.MemberKey)
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("reading the member certificate: %w", err)
		}
		cert, key = member, mkey
	}
	// One file, written by rename: etcd's next handshake reads either the old pair or the new one.
	pair := append(append(bytes.TrimSpace(cert), '\n'), bytes.TrimSpace(key)...)
	if _, err := etcd.WriteFile(c.paths.ServerPair, append(pair, '\n'), 0o600); err != nil {
		return err
	}
	return c.publishServingCA(offered)
}

// servingStillValid reports whether the client listener serves an external certificate that an offered CA
// signed and that has not expired.
func (c *unitContext) servingStillValid(offered []plan.OfferedCA) bool {
	served, err := os.ReadFile(c.paths.ServerPair)
	if err != nil {
		return false
	}
	for _, o := range offered {
		if pki.IssuedBy(served, []byte(o.CA)) && pki.Verify([]byte(o.CA), served, 0, c.now) == nil {
			return true
		}
	}
	return false
}

// publishServingCA tells the peers which external CA signed what the client listener serves, read from the
// file itself: the leader keeps offering that CA to clients until no unit serves it.
func (c *unitContext) publishServingCA(offered []plan.OfferedCA) error {
	served, err := os.ReadFile(c.paths.ServerPair)
	if err != nil {
		return err
	}
	digest := ""
	for _, o := range offered {
		if pki.IssuedBy(served, []byte(o.CA)) {
			digest = o.Digest
		}
	}
	return c.peers.setUnit(map[string]string{keyServingCA: digest})
}

// certificatesStatus is what the unit says about the relation or config ca_certificate: "" when there is
// nothing to say.
func (c *unitContext) certificatesStatus(ext externalCert) (blocked bool, msg string) {
	operator := ext.Source == operatorCASource
	switch {
	case !ext.Related:
		return false, ""
	case operator && ext.Err != nil:
		return true, fmt.Sprintf("%s: %v; set another CA or reset ca_certificate (the client listener serves its current certificate meanwhile)", ext.Source, ext.Err)
	case operator && !ext.Answered:
		return false, ext.Source + ": waiting for the leader to keep the CA's key in a secret"
	case ext.Err != nil:
		return true, fmt.Sprintf("certificates relation: %v; fix the CA provider's answer or remove the relation (the client listener serves its current certificate meanwhile)", ext.Err)
	case !ext.Answered:
		return false, "certificates relation: waiting for the CA provider to sign this unit's request"
	case c.externalWait > 0:
		return false, fmt.Sprintf("%s: serving the external certificate once clients have had its CA for %s (%s left)", ext.Source, plan.OfferHold, c.externalWait.Round(time.Second))
	}
	// A served external certificate past two thirds of its life that no new CSR renews (a classic provider
	// makes the key and never renews; a v4 one that has not answered the new CSR): say so while it still works.
	served, err := os.ReadFile(c.paths.ServerPair)
	if err != nil || !c.needsRenewal(string(served)) || pki.IssuedBy(served, []byte(c.peers.App[keyCACert])) {
		return false, ""
	}
	cert, err := pki.ParseCertificate(served)
	if err != nil {
		return false, ""
	}
	if operator {
		// The unit signs again at two thirds of the life; what is left to warn of is a CA that ends first.
		return false, fmt.Sprintf("warning: the client listener's certificate expires %s with the operator's CA (config ca_certificate); set a CA that lives longer",
			cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return false, fmt.Sprintf("warning: the external certificate expires %s and the CA provider has not answered the request for a new one (classic vault: run its reissue-certificates action)",
		cert.NotAfter.UTC().Format(time.RFC3339))
}
