package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Verify checks that certPEM's first certificate chains to a CA in caPEM
// (one CA or a bundle, as during CA rotation), through any intermediates
// that follow it in certPEM, is valid at now, and allows usage. Hostnames
// are not checked here; TLS does that per connection.
func Verify(caPEM, certPEM []byte, usage x509.ExtKeyUsage, now time.Time) error {
	cas, err := ParseCertificates(caPEM)
	if err != nil {
		return fmt.Errorf("verifying certificate: %w", err)
	}
	certs, err := ParseCertificates(certPEM)
	if err != nil {
		return fmt.Errorf("verifying certificate: %w", err)
	}
	cert := certs[0]
	roots := x509.NewCertPool()
	for _, ca := range cas {
		roots.AddCert(ca)
	}
	intermediates := x509.NewCertPool()
	for _, c := range certs[1:] {
		intermediates.AddCert(c)
	}
	_, err = cert.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: intermediates,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{usage},
	})
	if err != nil {
		return fmt.Errorf("verifying certificate %q: %w", cert.Subject.CommonName, err)
	}
	return nil
}

// NeedsRenewal reports whether two thirds of the certificate's lifetime
// have passed (or it has expired). Renewing at two thirds leaves a third of
// the lifetime to retry through failed hooks or an absent leader.
func NeedsRenewal(certPEM []byte, now time.Time) (bool, error) {
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return false, fmt.Errorf("checking renewal: %w", err)
	}
	lifetime := cert.NotAfter.Sub(cert.NotBefore)
	renewAt := cert.NotBefore.Add(lifetime * 2 / 3)
	return !now.Before(renewAt), nil
}

// ErrInvalidClientCertificate wraps every reason ValidateClientCertificate
// refuses a certificate, so callers can tell bad input from internal failures.
var ErrInvalidClientCertificate = errors.New("invalid client certificate")

// ValidateClientCertificate checks a certificate a client supplied over a
// relation before the charm trusts its CN as an etcd user name: one parsable
// certificate, valid at now, not a CA, usable for client authentication, and
// with a non-empty CN (etcd maps the CN to the user). It returns the parsed
// certificate.
func ValidateClientCertificate(certPEM []byte, now time.Time) (*x509.Certificate, error) {
	if len(strings.TrimSpace(string(certPEM))) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrInvalidClientCertificate)
	}
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidClientCertificate, err)
	}
	cn := cert.Subject.CommonName
	switch {
	case now.Before(cert.NotBefore):
		return nil, fmt.Errorf("%w: %q is not valid until %s", ErrInvalidClientCertificate, cn, cert.NotBefore.UTC().Format(time.RFC3339))
	case now.After(cert.NotAfter):
		return nil, fmt.Errorf("%w: %q expired at %s", ErrInvalidClientCertificate, cn, cert.NotAfter.UTC().Format(time.RFC3339))
	case cert.BasicConstraintsValid && cert.IsCA:
		return nil, fmt.Errorf("%w: %q is a CA certificate", ErrInvalidClientCertificate, cn)
	case strings.TrimSpace(cn) == "":
		return nil, fmt.Errorf("%w: subject has no common name (etcd uses the CN as the user name)", ErrInvalidClientCertificate)
	case len(cert.ExtKeyUsage) > 0 &&
		!slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) &&
		!slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny):
		return nil, fmt.Errorf("%w: %q lacks the clientAuth extended key usage", ErrInvalidClientCertificate, cn)
	}
	return cert, nil
}

// Fingerprint returns the SHA-256 fingerprint of the certificate's DER, in
// the colon-separated upper-case form `openssl x509 -fingerprint -sha256`
// prints, so operators can compare it by eye.
func Fingerprint(certPEM []byte) (string, error) {
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return "", fmt.Errorf("fingerprinting: %w", err)
	}
	return FingerprintOf(cert), nil
}

// FingerprintOf is Fingerprint for an already parsed certificate.
func FingerprintOf(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}
