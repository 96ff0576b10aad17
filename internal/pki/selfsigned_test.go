package pki

import (
	"crypto/x509"
	"testing"
	"time"
)

func TestGivenARequirerIdentityWhenSelfSignedThenItIsAClientLeafForItsOwnKey(t *testing.T) {
	now := time.Now()
	kp, err := SelfSigned{CommonName: "app", NotBefore: now.Add(-time.Minute), NotAfter: now.Add(time.Hour)}.Issue()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ParseCertificate(kp.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "app" || cert.IsCA || !cert.BasicConstraintsValid {
		t.Fatalf("got CN %q, CA %v, constraints %v", cert.Subject.CommonName, cert.IsCA, cert.BasicConstraintsValid)
	}
	if err := Verify(kp.CertPEM, kp.CertPEM, x509.ExtKeyUsageClientAuth, now); err != nil {
		t.Fatalf("a pinned self-signed leaf must verify against itself: %v", err)
	}
	if ok, err := CertMatchesKey(kp.CertPEM, kp.KeyPEM); err != nil || !ok {
		t.Fatalf("certificate and key do not match: %v", err)
	}
	ca, err := SelfSigned{CommonName: "ca", NotBefore: now, NotAfter: now.Add(time.Hour), IsCA: true}.Issue()
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := ParseCertificate(ca.CertPEM); !c.IsCA || c.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Fatal("IsCA did not make a CA certificate")
	}
}
