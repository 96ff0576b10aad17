package charm

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/pki"
)

// testCA makes a CA valid for a day: a root when parent is nil (no path length limit, so it may have
// issuing CAs under it, unlike the cluster's own CA), else one signed by parent, as an enterprise's issuing
// CA under its root.
func testCA(t *testing.T, cn string, parent *pki.KeyPair) pki.KeyPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	issuer, signer := tmpl, any(key)
	if parent != nil {
		if issuer, err = pki.ParseCertificate(parent.CertPEM); err != nil {
			t.Fatal(err)
		}
		if signer, err = pki.ParsePrivateKey(parent.KeyPEM); err != nil {
			t.Fatal(err)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pki.KeyPair{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})}
}

// Given the operator's own CA in config, when the options are checked before anything is changed, then a bad
// certificate, a key that is not the CA's, a missing key and a clash with the certificates relation each
// block naming the option and the fix, and good ones pass, with the key optional once it is kept.
func TestGivenAnOperatorCAInConfigWhenCheckedThenEachMistakeNamesTheOptionAndTheFix(t *testing.T) {
	now := time.Now()
	root := testCA(t, "enterprise root", nil)
	other, err := pki.NewCA("another CA", 48*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	expired, err := pki.NewCA("old CA", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	inter := testCA(t, "enterprise issuing CA", &root)
	member, err := pki.IssueClient(root, "not-a-ca", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	chain := string(inter.CertPEM) + string(root.CertPEM)
	rootOnly, err := parseOperatorCA(string(root.CertPEM), now)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name           string
		cert, key      string
		stored         string
		related        bool
		at             time.Time
		option, phrase string // "" when no problem is expected
	}{
		{"neither set", "", "", "", false, now, "", ""},
		{"the root and its key", string(root.CertPEM), string(root.KeyPEM), "", false, now, "", ""},
		{"an issuing CA, its chain and its key", chain, string(inter.KeyPEM), "", false, now, "", ""},
		{"no key, but kept for this CA", string(root.CertPEM), "", rootOnly.Digest, false, now, "", ""},
		{"a key alone", "", string(root.KeyPEM), "", false, now, "ca_key", "set ca_certificate too"},
		{"not PEM", "hello", string(root.KeyPEM), "", false, now, "ca_certificate", "not a PEM certificate"},
		{"a leaf, not a CA", string(member.CertPEM), string(member.KeyPEM), "", false, now, "ca_certificate", "not a CA certificate"},
		{"an expired CA", string(expired.CertPEM), string(expired.KeyPEM), "", false, now.Add(time.Hour), "ca_certificate", "valid only from"},
		{"the chain upside down", string(root.CertPEM) + string(inter.CertPEM), string(root.KeyPEM), "", false, now, "ca_certificate", "did not sign"},
		{"another CA's key", string(root.CertPEM), string(other.KeyPEM), "", false, now, "ca_key", "not the private key"},
		{"the root's key for the issuing CA", chain, string(root.KeyPEM), "", false, now, "ca_key", "not the private key"},
		{"not a key", string(root.CertPEM), "hello", "", false, now, "ca_key", "not the private key"},
		{"no key and none kept", string(root.CertPEM), "", "", false, now, "ca_key", "no key is kept"},
		{"no key, another CA's kept", chain, "", rootOnly.Digest, false, now, "ca_key", "no key is kept"},
		{"beside the relation", string(root.CertPEM), string(root.KeyPEM), "", true, now, "ca_certificate", "remove the relation"},
	}
	for _, c := range cases {
		cfg := defaults()
		cfg.CACertificate, cfg.CAKey = c.cert, c.key
		ps := cfg.operatorCAProblems(c.stored, c.related, c.at)
		if c.option == "" {
			if len(ps) != 0 {
				t.Errorf("%s: problems %v, want none", c.name, ps)
			}
			continue
		}
		if len(ps) != 1 || ps[0].Option != c.option || !strings.Contains(ps[0].Reason, c.phrase) {
			t.Errorf("%s: problems %v, want one on %s naming %q", c.name, ps, c.option, c.phrase)
			continue
		}
		if strings.Contains(ps[0].String(), "-----BEGIN") {
			t.Errorf("%s: the status quotes the config text: %s", c.name, ps[0])
		}
	}
}

// Given an issuing CA with its root in ca_certificate, when it is read, then clients are offered the root
// and the served certificate carries the issuing CA after the leaf.
func TestGivenAnIssuingCAAndItsRootWhenReadThenTheRootIsOfferedAndTheIssuerServed(t *testing.T) {
	root := testCA(t, "enterprise root", nil)
	inter := testCA(t, "enterprise issuing CA", &root)
	ca, err := parseOperatorCA(string(inter.CertPEM)+"\n"+string(root.CertPEM), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !sameCertificate(string(ca.Root), string(root.CertPEM)) || !sameCertificate(string(ca.Signer), string(inter.CertPEM)) ||
		!sameCertificate(string(ca.Intermediates), string(inter.CertPEM)) || strings.Count(string(ca.Intermediates), "BEGIN") != 1 {
		t.Fatalf("read %+v: want the root offered, the issuing CA signing and served as the one intermediate", ca)
	}
	key, err := pki.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := pki.NewCSR(key, "10.0.0.7", []string{"10.0.0.7"})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := pki.Sign(pki.KeyPair{CertPEM: ca.Signer, KeyPEM: inter.KeyPEM}, csr, pki.ServerAndClient, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	served, err := pki.CheckServerCertificate(ca.Root, leaf, ca.Intermediates, key, "10.0.0.7", time.Now())
	if err != nil || !pki.IssuedBy(served, ca.Root) {
		t.Fatalf("the served chain does not lead to the root: %v", err)
	}
}
