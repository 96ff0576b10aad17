package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

const (
	pemCertificate = "CERTIFICATE"
	pemPrivateKey  = "PRIVATE KEY"
	pemCSR         = "CERTIFICATE REQUEST"
)

// ErrNoPEM is returned when input holds no PEM block of the expected type.
var ErrNoPEM = errors.New("no PEM block found")

// decodeBlock returns the first PEM block of one of the wanted types,
// skipping others so bundles with leading comments or chains still parse.
func decodeBlock(data []byte, wanted ...string) (*pem.Block, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("%w of type %q", ErrNoPEM, wanted)
		}
		for _, w := range wanted {
			if block.Type == w {
				return block, nil
			}
		}
	}
}

// ParseCertificate parses the first CERTIFICATE block of certPEM.
func ParseCertificate(certPEM []byte) (*x509.Certificate, error) {
	block, err := decodeBlock(certPEM, pemCertificate)
	if err != nil {
		return nil, fmt.Errorf("parsing certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing certificate: %w", err)
	}
	return cert, nil
}

// ParseCertificates parses every CERTIFICATE block of a bundle, in order.
func ParseCertificates(bundlePEM []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := bundlePEM
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != pemCertificate {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate %d of bundle: %w", len(certs)+1, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("parsing certificate bundle: %w of type %q", ErrNoPEM, pemCertificate)
	}
	return certs, nil
}

// ParsePrivateKey parses a PKCS#8, SEC1 ("EC PRIVATE KEY") or PKCS#1
// ("RSA PRIVATE KEY") PEM key; the latter two so an operator-supplied CA in
// an older format is still usable.
func ParsePrivateKey(keyPEM []byte) (crypto.Signer, error) {
	block, err := decodeBlock(keyPEM, pemPrivateKey, "EC PRIVATE KEY", "RSA PRIVATE KEY")
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	var key any
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		return k, nil
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("parsing private key: RSA key of %d bits is too small (need 2048 or more)", k.N.BitLen())
		}
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	default:
		return nil, fmt.Errorf("parsing private key: unsupported key type %T", key)
	}
}

// ParseCSR parses a CERTIFICATE REQUEST block and checks its self-signature.
func ParseCSR(csrPEM []byte) (*x509.CertificateRequest, error) {
	block, err := decodeBlock(csrPEM, pemCSR, "NEW CERTIFICATE REQUEST")
	if err != nil {
		return nil, fmt.Errorf("parsing CSR: %w", err)
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing CSR: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("CSR signature is invalid: %w", err)
	}
	return csr, nil
}

func encodePEM(blockType string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: blockType, Bytes: der})
}
