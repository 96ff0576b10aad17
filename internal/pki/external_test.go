package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// issuedFor makes a key and a server certificate for it from ca, for names.
func issuedFor(t *testing.T, ca KeyPair, names ...string) (cert, key []byte) {
	t.Helper()
	key, err := NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := NewCSR(key, names[0], names)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = Sign(ca, csr, ServerAndClient, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// Given what an external CA sent for this unit, when checked before the unit serves it, then a good answer
// (with easyrsa's text dump before the PEM) passes and each broken one is refused naming what is wrong.
func TestGivenAnExternalServerCertificateWhenCheckedThenOnlyAGoodOneIsServed(t *testing.T) {
	ca, err := NewCA("enterprise CA", 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other CA", 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cert, key := issuedFor(t, ca, "10.1.2.3", "etcd-0")
	_, otherKey := issuedFor(t, ca, "10.1.2.3")
	foreign, foreignKey := issuedFor(t, other, "10.1.2.3")
	wrongName, wrongNameKey := issuedFor(t, ca, "10.9.9.9")

	served, err := CheckServerCertificate(ca.CertPEM, append([]byte("Certificate:\n    Data: text\n"), cert...), nil, key, "10.1.2.3", now)
	if err != nil || !strings.HasPrefix(string(served), "-----BEGIN CERTIFICATE-----") {
		t.Fatalf("a good certificate: %v", err)
	}
	if !IssuedBy(served, ca.CertPEM) || IssuedBy(served, other.CertPEM) {
		t.Fatal("IssuedBy does not tell the issuer")
	}
	for name, c := range map[string]struct {
		ca, cert, key []byte
		host          string
		at            time.Time
		want          string
	}{
		"not pem ca":     {[]byte("junk"), cert, key, "10.1.2.3", now, "ca is not a PEM"},
		"leaf as ca":     {cert, cert, key, "10.1.2.3", now, "not a CA certificate"},
		"not pem cert":   {ca.CertPEM, []byte("junk"), key, "10.1.2.3", now, "not PEM"},
		"other key":      {ca.CertPEM, cert, otherKey, "10.1.2.3", now, "not for this unit's key"},
		"other CA":       {ca.CertPEM, foreign, foreignKey, "10.1.2.3", now, "does not verify"},
		"expired":        {ca.CertPEM, cert, key, "10.1.2.3", now.Add(72 * time.Hour), "does not verify"},
		"wrong SANs":     {ca.CertPEM, wrongName, wrongNameKey, "10.1.2.3", now, "does not name 10.1.2.3"},
		"ca as the cert": {ca.CertPEM, ca.CertPEM, ca.KeyPEM, "10.1.2.3", now, "is a CA certificate"},
	} {
		_, err := CheckServerCertificate(c.ca, c.cert, nil, c.key, c.host, c.at)
		if !errors.Is(err, ErrInvalidServerCertificate) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a refusal naming %q", name, err, c.want)
		}
	}
}

// Given a provider whose CA signs through an intermediate (vault's shape: the leaf, then the chain), when
// the unit checks the answer, then the intermediate is found in the chain or after the leaf, is served
// after the leaf, and without it the leaf does not verify.
func TestGivenAnIntermediateCAWhenTheAnswerIsCheckedThenTheChainIsServed(t *testing.T) {
	root, rootKey := selfSignedCA(t, "root CA", -1)
	inter, interKey := signedCA(t, "intermediate CA", root, rootKey)
	interPair := KeyPair{CertPEM: encodePEM(pemCertificate, inter.Raw), KeyPEM: interKey}
	leaf, key := issuedFor(t, interPair, "10.1.2.3")
	rootPEM := encodePEM(pemCertificate, root.Raw)
	other, err := NewCA("other CA", 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()

	for name, c := range map[string]struct{ cert, chain []byte }{
		// A CA the leaf does not chain through (a provider's stale chain) is not served.
		"stale chain":     {leaf, append(append([]byte{}, other.CertPEM...), interPair.CertPEM...)},
		"chain key":       {leaf, append(append([]byte{}, leaf...), interPair.CertPEM...)},
		"after the leaf":  {append(append([]byte{}, leaf...), interPair.CertPEM...), nil},
		"chain with root": {leaf, append(append([]byte{}, interPair.CertPEM...), rootPEM...)},
	} {
		served, err := CheckServerCertificate(rootPEM, c.cert, c.chain, key, "10.1.2.3", now)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		certs, err := ParseCertificates(served)
		if err != nil || len(certs) != 2 || !certs[1].Equal(inter) {
			t.Fatalf("%s: served %d certificates, want the leaf then the intermediate", name, len(certs))
		}
		// What the unit serves is known to come from the root (so the leader keeps offering the root while
		// it is served), and still verifies with the root alone.
		if !IssuedBy(served, rootPEM) || IssuedBy(leaf, rootPEM) || IssuedBy(served, other.CertPEM) {
			t.Fatalf("%s: IssuedBy does not follow the served chain to the root", name)
		}
		if err := Verify(rootPEM, served, x509.ExtKeyUsageServerAuth, now); err != nil {
			t.Fatalf("%s: the served chain does not verify with the root: %v", name, err)
		}
	}
	if _, err := CheckServerCertificate(rootPEM, leaf, nil, key, "10.1.2.3", now); !errors.Is(err, ErrInvalidServerCertificate) {
		t.Fatalf("a leaf without its intermediate: %v", err)
	}
}

func selfSignedCA(t *testing.T, cn string, maxPath int) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, _, err := newKey()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := caTemplate(cn, maxPath)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func signedCA(t *testing.T, cn string, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, []byte) {
	t.Helper()
	key, keyPEM, err := newKey()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, caTemplate(cn, 0), parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, keyPEM
}

func caTemplate(cn string, maxPath int) *x509.Certificate {
	return &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true, MaxPathLen: maxPath,
		MaxPathLenZero: maxPath == 0}
}
