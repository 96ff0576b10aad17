package pki

import (
	"errors"
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
