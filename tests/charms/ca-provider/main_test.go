package main

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/pki"
)

// The vault flavour's PKI must be a chain a requirer can verify: a leaf signed by the intermediate checks
// out against the root alone once the chain is given, for both EKUs, as an etcd unit checks it.
func TestVaultPKIChainsToTheRoot(t *testing.T) {
	root, inter, err := newVaultPKI("operator root")
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := pki.NewCSR(key, "127.0.0.1", []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	leafPEM, err := pki.Sign(inter, csr, pki.ServerAndClient, time.Hour)
	if err != nil {
		t.Fatalf("the intermediate cannot sign: %v", err)
	}
	chain := string(inter.CertPEM) + string(root.CertPEM)
	if _, err := pki.CheckServerCertificate(root.CertPEM, leafPEM, []byte(chain), key, "127.0.0.1", time.Now()); err != nil {
		t.Fatalf("a requirer refuses the leaf: %v", err)
	}
	rootCert, _ := pki.ParseCertificate(root.CertPEM)
	interCert, _ := pki.ParseCertificate(inter.CertPEM)
	leaf, _ := pki.ParseCertificate(leafPEM)
	if rootCert.Subject.CommonName != "operator root" || interCert.Subject.CommonName != vaultIntermediateCN {
		t.Fatalf("names: root %q, intermediate %q", rootCert.Subject.CommonName, interCert.Subject.CommonName)
	}
	if len(rootCert.SubjectKeyId) == 0 || !bytes.Equal(interCert.AuthorityKeyId, rootCert.SubjectKeyId) {
		t.Fatalf("the intermediate's authority key ID %x does not name the root's key %x", interCert.AuthorityKeyId, rootCert.SubjectKeyId)
	}
	roots, inters := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(rootCert)
	inters.AddCert(interCert)
	for _, eku := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{eku}}); err != nil {
			t.Errorf("the leaf does not verify for %v: %v", eku, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots}); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Errorf("the leaf verifies without the intermediate: %v", err)
	}
	client, err := pki.IssueClient(inter, "global-client", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cc, _ := pki.ParseCertificate(client.CertPEM)
	if _, err := cc.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("the global client certificate does not verify: %v", err)
	}
}
