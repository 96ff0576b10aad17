package pki

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
)

// NewCSR makes a certificate request for the key in keyPEM. Each SAN is an
// IP literal or a DNS name. The CSR asks for no extensions beyond SANs: the
// signer decides usages from its Profile, not from the request.
func NewCSR(keyPEM []byte, commonName string, sans []string) ([]byte, error) {
	if commonName == "" {
		return nil, errors.New("creating CSR: common name is empty")
	}
	return newCSR(keyPEM, pkix.Name{CommonName: commonName}, sans)
}

// NewAnonymousCSR makes a certificate request without a CN, to be signed with the AnonymousClient profile.
func NewAnonymousCSR(keyPEM []byte) ([]byte, error) {
	return newCSR(keyPEM, anonymousSubject, nil)
}

func newCSR(keyPEM []byte, subject pkix.Name, sans []string) ([]byte, error) {
	key, err := ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("creating CSR: %w", err)
	}
	ips, dns, err := splitSANs(sans)
	if err != nil {
		return nil, fmt.Errorf("creating CSR: %w", err)
	}
	tmpl := &x509.CertificateRequest{
		Subject:     subject,
		IPAddresses: ips,
		DNSNames:    dns,
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		return nil, fmt.Errorf("creating CSR: %w", err)
	}
	return encodePEM(pemCSR, der), nil
}
