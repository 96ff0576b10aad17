package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// NewCA creates a self-signed ECDSA P-256 CA that may sign leaf
// certificates only (path length zero): the charm never delegates signing.
func NewCA(commonName string, validity time.Duration) (KeyPair, error) {
	if commonName == "" {
		return KeyPair{}, errors.New("creating CA: common name is empty")
	}
	if validity <= 0 {
		return KeyPair{}, fmt.Errorf("creating CA: validity %v is not positive", validity)
	}
	key, keyPEM, err := newKey()
	if err != nil {
		return KeyPair{}, fmt.Errorf("creating CA: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return KeyPair{}, fmt.Errorf("creating CA: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return KeyPair{}, fmt.Errorf("creating CA certificate: %w", err)
	}
	return KeyPair{CertPEM: encodePEM(pemCertificate, der), KeyPEM: keyPEM}, nil
}

// ValidateCA checks that ca is usable for signing at time now: a CA
// certificate allowed to sign certificates, currently valid, whose key
// matches. The charm runs it on the CA read back from its secret, and on an
// operator-supplied CA, which may be RSA.
func ValidateCA(ca KeyPair, now time.Time) error {
	cert, _, err := parseCA(ca)
	if err != nil {
		return err
	}
	if now.Before(cert.NotBefore) {
		return fmt.Errorf("CA %q is not valid until %s", cert.Subject.CommonName, cert.NotBefore.UTC().Format(time.RFC3339))
	}
	if now.After(cert.NotAfter) {
		return fmt.Errorf("CA %q expired at %s", cert.Subject.CommonName, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// parseCA returns the CA certificate and its signer after checking they
// belong together and the certificate may sign others.
func parseCA(ca KeyPair) (*x509.Certificate, crypto.Signer, error) {
	cert, err := ParseCertificate(ca.CertPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("reading CA: %w", err)
	}
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, nil, fmt.Errorf("reading CA: certificate %q is not a CA", cert.Subject.CommonName)
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, nil, fmt.Errorf("reading CA: certificate %q lacks the certSign key usage", cert.Subject.CommonName)
	}
	key, err := ParsePrivateKey(ca.KeyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("reading CA: %w", err)
	}
	if !publicKeysEqual(cert.PublicKey, key.Public()) {
		return nil, nil, fmt.Errorf("reading CA: private key does not match certificate %q", cert.Subject.CommonName)
	}
	return cert, key, nil
}

// newSerial returns a random positive 128-bit serial number, as the CA/B
// baseline asks, so serials never collide even without CA-side state.
func newSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("generating serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}
