package pki

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"

	"time"
)

// ErrInvalidServerCertificate wraps every reason CheckServerCertificate refuses what a CA provider sent, so
// callers can tell bad provider data from their own failures.
var ErrInvalidServerCertificate = errors.New("invalid server certificate")

// CheckServerCertificate checks a server certificate an external CA issued for this unit before the unit
// serves it: caPEM holds one CA certificate; certPEM the leaf (text before the PEM block, as easyrsa writes,
// is skipped), perhaps followed by intermediates; chainPEM optional intermediates (the leaf and the CA may
// appear there too). The leaf must belong to keyPEM, chain to the CA at now, allow server authentication
// and name the host clients dial. It returns what the listener serves: the leaf, then the intermediates.
func CheckServerCertificate(caPEM, certPEM, chainPEM, keyPEM []byte, host string, now time.Time) ([]byte, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidServerCertificate, fmt.Sprintf(format, args...))
	}
	cas, err := ParseCertificates(caPEM)
	if err != nil {
		return nil, bad("the ca is not a PEM certificate")
	}
	ca := cas[0]
	if !ca.IsCA || !ca.BasicConstraintsValid {
		return nil, bad("the ca %q is not a CA certificate", ca.Subject.CommonName)
	}
	certs, err := ParseCertificates(certPEM)
	if err != nil {
		return nil, bad("the certificate is not PEM")
	}
	leaf := certs[0]
	if leaf.IsCA {
		return nil, bad("the certificate %q is a CA certificate, not a server certificate", leaf.Subject.CommonName)
	}
	if ok, err := CertMatchesKey(encodePEM(pemCertificate, leaf.Raw), keyPEM); err != nil || !ok {
		return nil, bad("the certificate %q is not for this unit's key", leaf.Subject.CommonName)
	}
	more := certs[1:]
	if len(bytes.TrimSpace(chainPEM)) > 0 {
		chain, err := ParseCertificates(chainPEM)
		if err != nil {
			return nil, bad("the chain is not PEM")
		}
		more = append(more, chain...)
	}
	pool := x509.NewCertPool()
	for _, c := range more {
		if c.Equal(leaf) || c.Equal(ca) || !c.IsCA {
			continue
		}
		pool.AddCert(c) // a certificate already in the pool is not added twice
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	chains, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: pool, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	if err != nil {
		return nil, bad("the certificate %q does not verify with the provider's ca %q: %v", leaf.Subject.CommonName, ca.Subject.CommonName, err)
	}
	if err := leaf.VerifyHostname(host); err != nil {
		return nil, bad("the certificate %q does not name %s, which clients dial (its names: %v)", leaf.Subject.CommonName, host, SANs(leaf))
	}
	// Serve the leaf and the intermediates of the path that verified, not whatever else the provider sent
	// (a stale chain would otherwise go out in every handshake).
	served := encodePEM(pemCertificate, leaf.Raw)
	path := chains[0]
	for _, c := range path[1 : len(path)-1] {
		served = append(served, encodePEM(pemCertificate, c.Raw)...)
	}
	return served, nil
}

// IssuedBy reports whether certPEM's first certificate was signed by the CA in caPEM, directly or through
// the intermediates that follow it in certPEM (a served file: the leaf, then its chain, as vault's
// intermediate under an operator's root gives). Only signatures are checked, not validity dates.
func IssuedBy(certPEM, caPEM []byte) bool {
	certs, err := ParseCertificates(certPEM)
	if err != nil {
		return false
	}
	ca, err := ParseCertificate(caPEM)
	if err != nil {
		return false
	}
	// Walk up from the leaf, each step to an intermediate that signed the one below; bounded by the
	// number of intermediates, so a chain that loops ends.
	cert := certs[0]
	for range certs {
		if cert.CheckSignatureFrom(ca) == nil {
			return true
		}
		var parent *x509.Certificate
		for _, c := range certs[1:] {
			if c.IsCA && !c.Equal(cert) && cert.CheckSignatureFrom(c) == nil {
				parent = c
				break
			}
		}
		if parent == nil {
			return false
		}
		cert = parent
	}
	return false
}
