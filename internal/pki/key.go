package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"fmt"
)

// KeyPair is a certificate and its private key, both PEM encoded.
type KeyPair struct{ CertPEM, KeyPEM []byte }

// NewPrivateKey returns a fresh ECDSA P-256 key as PKCS#8 PEM ("PRIVATE KEY").
func NewPrivateKey() ([]byte, error) {
	_, keyPEM, err := newKey()
	return keyPEM, err
}

func newKey() (*ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating ECDSA P-256 key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding private key: %w", err)
	}
	return key, encodePEM(pemPrivateKey, der), nil
}

// publicKeysEqual compares public keys by their Equal method, which every
// key type in the standard library implements.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// CertMatchesKey reports whether certPEM was issued for the key in keyPEM.
// The charm checks this before writing a freshly signed certificate next to
// the unit's key, so a stale signing response never breaks the listener.
func CertMatchesKey(certPEM, keyPEM []byte) (bool, error) {
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return false, err
	}
	key, err := ParsePrivateKey(keyPEM)
	if err != nil {
		return false, err
	}
	return publicKeysEqual(cert.PublicKey, key.Public()), nil
}

// CSRMatches reports whether csrPEM was made from the key in keyPEM, so the
// charm can tell whether a CSR it published earlier is still for its
// current key.
func CSRMatches(csrPEM, keyPEM []byte) (bool, error) {
	csr, err := ParseCSR(csrPEM)
	if err != nil {
		return false, err
	}
	key, err := ParsePrivateKey(keyPEM)
	if err != nil {
		return false, err
	}
	return publicKeysEqual(csr.PublicKey, key.Public()), nil
}
