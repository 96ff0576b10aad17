package charm

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/etcd"
	"github.com/etcd-charm/etcd/internal/pki"
)

// An operator's own CA without a relation: config ca_certificate (the signing CA, perhaps followed by its
// chain up to the root) and ca_key (the signing CA's private key). The leader copies the key into an
// application secret the first time it reads it; from then on every unit reads the key from the secret, and
// the operator may reset ca_key so that the key lives nowhere else. Each unit signs its own client-listener
// certificate with it, and from there the change is the certificates relation's (offer, hold, serve, back,
// in plan/serverca.go): the CA signs what the client listener serves, and the peer listener and the client
// certificates stay on the cluster CA, for the same reason as with an external provider (docs/operations.md).
const (
	operatorCASource    = "config ca_certificate"
	keyOperatorCASecret = "operator-ca-secret-id"       // app bag: the secret holding the signing CA's key
	keyOperatorCADigest = "operator-ca-digest"          // app bag: digest of the ca_certificate whose key that secret holds
	keyOperatorCAOld    = "operator-ca-previous-secret" // app bag: a secret replaced or no longer needed, still to remove
)

// operatorCA is config ca_certificate, read.
type operatorCA struct {
	Signer        []byte // PEM: the CA that signs, the first certificate
	Intermediates []byte // PEM: the certificates between the signed leaf and the root (the signer unless it is the root)
	Root          []byte // PEM: the last certificate, what clients are offered
	Digest        string
	NotAfter      time.Time // the signer's
}

// parseOperatorCA reads config ca_certificate: one CA certificate, or a chain from the signing CA up to its
// root in which each certificate signed the one before it, every one a CA valid at now.
func parseOperatorCA(text string, now time.Time) (operatorCA, error) {
	certs, err := pki.ParseCertificates([]byte(text))
	if err != nil {
		return operatorCA{}, errors.New("not a PEM certificate; paste the CA certificate in PEM (the signing CA first, then its chain), or reset the option")
	}
	var der bytes.Buffer
	for i, c := range certs {
		if !c.IsCA || !c.BasicConstraintsValid || (c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0) {
			return operatorCA{}, fmt.Errorf("certificate %d (%q) is not a CA certificate that may sign certificates", i+1, c.Subject.CommonName)
		}
		if now.Before(c.NotBefore) || now.After(c.NotAfter) {
			return operatorCA{}, fmt.Errorf("certificate %d (%q) is valid only from %s to %s", i+1, c.Subject.CommonName,
				c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
		}
		if i > 0 && certs[i-1].CheckSignatureFrom(c) != nil {
			return operatorCA{}, fmt.Errorf("certificate %d (%q) did not sign certificate %d (%q); give the signing CA first, then each issuer in turn", i+1, c.Subject.CommonName, i, certs[i-1].Subject.CommonName)
		}
		der.Write(c.Raw)
	}
	encode := func(c *x509.Certificate) []byte {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	ca := operatorCA{Signer: encode(certs[0]), Root: encode(certs[len(certs)-1]), Digest: etcd.Digest(der.Bytes()), NotAfter: certs[0].NotAfter}
	for _, c := range certs[:len(certs)-1] {
		ca.Intermediates = append(ca.Intermediates, encode(c)...)
	}
	return ca, nil
}

// operatorCAProblems checks ca_certificate and ca_key. storedDigest is the ca_certificate whose key the
// application secret already holds ("" when none): ca_key may be empty then. related says a certificates
// relation also gives the client listener a CA.
func (c Config) operatorCAProblems(storedDigest string, related bool, now time.Time) []Problem {
	certText, keyText := strings.TrimSpace(c.CACertificate), strings.TrimSpace(c.CAKey)
	if certText == "" {
		if keyText != "" {
			return []Problem{{"ca_key", "set without ca_certificate; set ca_certificate too, or reset ca_key"}}
		}
		return nil
	}
	if related {
		return []Problem{{"ca_certificate", "set while a certificates relation also signs the client listener's certificate; reset ca_certificate or remove the relation"}}
	}
	ca, err := parseOperatorCA(certText, now)
	if err != nil {
		return []Problem{{"ca_certificate", err.Error()}}
	}
	if keyText == "" {
		if storedDigest != ca.Digest {
			return []Problem{{"ca_key", "empty, and no key is kept for this ca_certificate; set the signing CA's private key in PEM (it is kept in a secret once read, and the option may then be reset)"}}
		}
		return nil
	}
	if err := pki.ValidateCA(pki.KeyPair{CertPEM: ca.Signer, KeyPEM: []byte(keyText)}, now); err != nil {
		return []Problem{{"ca_key", fmt.Sprintf("not the private key of the first certificate of ca_certificate (%v); set the signing CA's key in PEM", err)}}
	}
	return nil
}

// storeOperatorCA is the leader's: the key of the configured CA goes into an application secret, and a
// secret no longer needed (the CA changed, or the options were reset) is removed. Safe to repeat after a
// hook dies anywhere: the secret is found again by its label, and the secret to remove is named in the
// app bag until it is gone.
func (c *unitContext) storeOperatorCA() error {
	if err := c.removeOldOperatorCASecret(); err != nil {
		return err
	}
	current := c.peers.App[keyOperatorCASecret]
	if strings.TrimSpace(c.cfg.CACertificate) == "" {
		if current == "" {
			return nil
		}
		return c.retireOperatorCASecret(current, "", "")
	}
	ca, err := parseOperatorCA(c.cfg.CACertificate, c.now) // validated before
	if err != nil {
		return err
	}
	if c.peers.App[keyOperatorCADigest] == ca.Digest {
		return nil
	}
	label := "etcd-operator-ca-" + ca.Digest
	id := ""
	if info, err := goops.GetSecretInfoByLabel(label); err == nil {
		for found := range info {
			id = found // stored by a hook that died before recording it
		}
	}
	if id == "" {
		if id, err = goops.AddSecret(&goops.AddSecretOptions{
			Content:     map[string]string{"certificate": string(ca.Signer), "private-key": strings.TrimSpace(c.cfg.CAKey) + "\n"},
			Description: "the operator's CA (config ca_certificate) that signs the etcd client listener's certificates",
			Label:       label,
			Owner:       goops.OwnerApplication,
		}); err != nil {
			return fmt.Errorf("storing the operator's CA key in a secret: %w", err)
		}
	}
	goops.LogInfof("the key of the operator's CA %s is kept in secret %s; config ca_key may be reset", ca.Digest, strings.TrimSpace(id))
	return c.retireOperatorCASecret(current, strings.TrimSpace(id), ca.Digest)
}

// retireOperatorCASecret records the new secret (or none) and removes the one it replaces.
func (c *unitContext) retireOperatorCASecret(old, id, digest string) error {
	if old == id {
		old = ""
	}
	if err := c.peers.setApp(map[string]string{keyOperatorCASecret: id, keyOperatorCADigest: digest, keyOperatorCAOld: old}); err != nil {
		return err
	}
	return c.removeOldOperatorCASecret()
}

// removeOldOperatorCASecret removes the secret the app bag names as replaced, and forgets it once it is gone:
// removed now, or by an earlier hook that died before it could say so. A removal that fails while the
// secret is still there is tried again by the next leader hook.
func (c *unitContext) removeOldOperatorCASecret() error {
	old := c.peers.App[keyOperatorCAOld]
	if old == "" {
		return nil
	}
	if err := goops.RemoveSecret(old); err != nil {
		if _, still := goops.GetSecretInfoByID(old); still == nil {
			goops.LogWarningf("removing the replaced operator CA secret %s: %v (tried again next hook)", old, err)
			return nil
		}
	}
	return c.peers.setApp(map[string]string{keyOperatorCAOld: ""})
}

// readOperatorCACert is readExternalCert for config ca_certificate: this unit's client-listener certificate,
// signed here with the operator's CA, kept on disk and signed again only when it no longer fits (another CA or
// key, names that changed, two thirds of its life gone while the CA lives on).
func (c *unitContext) readOperatorCACert() (externalCert, error) {
	e := externalCert{Related: true, Source: operatorCASource}
	ca, err := parseOperatorCA(c.cfg.CACertificate, c.now) // validated before
	if err != nil {
		return e, err
	}
	if c.peers.App[keyOperatorCADigest] != ca.Digest || c.peers.App[keyOperatorCASecret] == "" {
		return e, nil // the leader has not stored the key yet: not answered
	}
	key, err := c.ensureKey(c.paths.ExternalKey)
	if err != nil {
		return e, err
	}
	leaf, _ := os.ReadFile(c.paths.OperatorCert)
	if !c.operatorLeafFits(leaf, key, ca) {
		// The CA's key is read only to sign, so hooks with a fitting certificate make no secret-get.
		content, err := goops.GetSecretByID(c.peers.App[keyOperatorCASecret], false, false)
		if err != nil {
			return e, fmt.Errorf("reading the operator's CA secret: %w", err)
		}
		if !sameCertificate(content["certificate"], string(ca.Signer)) {
			return e, nil // a secret of another CA: the leader has not caught up with the config yet
		}
		signer := pki.KeyPair{CertPEM: ca.Signer, KeyPEM: []byte(content["private-key"])}
		csr, err := pki.NewCSR(key, c.address, c.memberSANs())
		if err != nil {
			return e, fmt.Errorf("creating the request to the operator's CA: %w", err)
		}
		if leaf, err = pki.Sign(signer, csr, pki.ServerAndClient, pki.MemberLifetime); err != nil {
			return e, fmt.Errorf("signing the client listener's certificate with the operator's CA: %w", err)
		}
		if _, err := etcd.WriteFile(c.paths.OperatorCert, leaf, 0o644); err != nil {
			return e, err
		}
		goops.LogInfof("signed the client listener's certificate with the operator's CA %s", ca.Digest)
	}
	e.Answered, e.CA, e.Key = true, string(ca.Root), key
	e.Served, e.Err = pki.CheckServerCertificate(ca.Root, leaf, ca.Intermediates, key, c.address, c.now)
	return e, nil
}

// operatorLeafFits reports whether the certificate signed earlier still serves: the signing CA's, for this
// key, naming every address and name of the unit, and not due for renewal unless the CA itself ends first
// (a new one would end no later).
func (c *unitContext) operatorLeafFits(leaf, key []byte, ca operatorCA) bool {
	if len(leaf) == 0 || !pki.IssuedBy(leaf, ca.Signer) {
		return false
	}
	if ok, err := pki.CertMatchesKey(leaf, key); err != nil || !ok {
		return false
	}
	if ok, err := pki.CoversSANs(leaf, append([]string{c.address}, c.memberSANs()...)); err != nil || !ok {
		return false
	}
	cert, err := pki.ParseCertificate(leaf)
	if err != nil || c.now.After(cert.NotAfter) {
		return false
	}
	return !c.needsRenewal(string(leaf)) || !cert.NotAfter.Before(ca.NotAfter)
}
