package pki

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"time"
)

// SelfSigned describes a certificate that signs itself, the way an etcd_client requirer makes its client
// identity. IsCA and a past NotAfter exist so tests can make the certificates a provider must refuse.
type SelfSigned struct {
	CommonName          string
	NotBefore, NotAfter time.Time
	IsCA                bool
}

// Issue makes a fresh key and the self-signed certificate: clientAuth, basic constraints present.
func (s SelfSigned) Issue() (KeyPair, error) {
	key, keyPEM, err := newKey()
	if err != nil {
		return KeyPair{}, err
	}
	serial, err := newSerial()
	if err != nil {
		return KeyPair{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: s.CommonName},
		NotBefore: s.NotBefore, NotAfter: s.NotAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true, IsCA: s.IsCA,
	}
	if s.IsCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return KeyPair{}, fmt.Errorf("self-signing a certificate for %q: %w", s.CommonName, err)
	}
	return KeyPair{CertPEM: encodePEM(pemCertificate, der), KeyPEM: keyPEM}, nil
}
