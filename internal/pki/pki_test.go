package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"
)

func mustCA(t testing.TB, cn string) KeyPair {
	t.Helper()
	ca, err := NewCA(cn, CALifetime)
	if err != nil {
		t.Fatalf("NewCA: %v", err)
	}
	return ca
}

func mustKey(t testing.TB) []byte {
	t.Helper()
	k, err := NewPrivateKey()
	if err != nil {
		t.Fatalf("NewPrivateKey: %v", err)
	}
	return k
}

func mustCSR(t testing.TB, key []byte, cn string, sans ...string) []byte {
	t.Helper()
	csr, err := NewCSR(key, cn, sans)
	if err != nil {
		t.Fatalf("NewCSR: %v", err)
	}
	return csr
}

func mustSign(t testing.TB, ca KeyPair, csr []byte, p Profile) []byte {
	t.Helper()
	cert, err := Sign(ca, csr, p, MemberLifetime)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return cert
}

func TestNewCA(t *testing.T) {
	ca := mustCA(t, "etcd-ca")
	cert, err := ParseCertificate(ca.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.IsCA || !cert.BasicConstraintsValid || !cert.MaxPathLenZero || cert.MaxPathLen != 0 {
		t.Errorf("CA constraints: IsCA=%v valid=%v pathLenZero=%v pathLen=%d", cert.IsCA, cert.BasicConstraintsValid, cert.MaxPathLenZero, cert.MaxPathLen)
	}
	if want := x509.KeyUsageCertSign | x509.KeyUsageCRLSign; cert.KeyUsage != want {
		t.Errorf("KeyUsage = %v, want %v", cert.KeyUsage, want)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("CA key is %T, want ECDSA P-256", cert.PublicKey)
	}
	if cert.Subject.CommonName != "etcd-ca" {
		t.Errorf("CN = %q", cert.Subject.CommonName)
	}
	if err := ValidateCA(ca, time.Now()); err != nil {
		t.Errorf("ValidateCA: %v", err)
	}
	if err := ValidateCA(ca, time.Now().Add(CALifetime+time.Hour)); err == nil {
		t.Error("ValidateCA accepted an expired CA")
	}
	if err := Verify(ca.CertPEM, ca.CertPEM, x509.ExtKeyUsageAny, time.Now()); err != nil {
		t.Errorf("CA does not verify against itself: %v", err)
	}
	for _, bad := range []struct {
		name string
		cn   string
		v    time.Duration
	}{{"empty CN", "", time.Hour}, {"zero validity", "x", 0}, {"negative validity", "x", -time.Hour}} {
		if _, err := NewCA(bad.cn, bad.v); err == nil {
			t.Errorf("NewCA with %s succeeded", bad.name)
		}
	}
}

func TestNewPrivateKey(t *testing.T) {
	keyPEM := mustKey(t)
	block, _ := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("key PEM block = %v, want PRIVATE KEY", block)
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := key.(*ecdsa.PrivateKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("key is %T, want ECDSA P-256", key)
	}
	if bytes.Equal(keyPEM, mustKey(t)) {
		t.Error("two keys are identical")
	}
}

func TestSignMember(t *testing.T) {
	ca := mustCA(t, "etcd-ca")
	key := mustKey(t)
	csr := mustCSR(t, key, "etcd/0", "10.1.2.3", "127.0.0.1", "Etcd-0.Example.com", "10.1.2.3", "::1")
	certPEM := mustSign(t, ca, csr, ServerAndClient)
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "etcd/0" {
		t.Errorf("CN = %q", cert.Subject.CommonName)
	}
	if got := strings.Join(SANs(cert), ","); got != "10.1.2.3,127.0.0.1,::1,etcd-0.example.com" {
		t.Errorf("SANs = %s", got)
	}
	if cert.IsCA {
		t.Error("member cert is a CA")
	}
	if cert.SerialNumber.BitLen() < 64 {
		t.Errorf("serial %v looks too small for 128 random bits", cert.SerialNumber)
	}
	if !cert.NotBefore.Before(time.Now().Add(-time.Minute)) {
		t.Errorf("NotBefore %v is not backdated", cert.NotBefore)
	}
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if err := Verify(ca.CertPEM, certPEM, usage, time.Now()); err != nil {
			t.Errorf("Verify(%v): %v", usage, err)
		}
	}
	if ok, err := CertMatchesKey(certPEM, key); err != nil || !ok {
		t.Errorf("CertMatchesKey = %v, %v", ok, err)
	}
	if ok, err := CSRMatches(csr, key); err != nil || !ok {
		t.Errorf("CSRMatches = %v, %v", ok, err)
	}
	if ok, err := CoversSANs(certPEM, []string{"127.0.0.1", "etcd-0.example.COM", "::ffff:10.1.2.3"}); err != nil || !ok {
		t.Errorf("CoversSANs(subset) = %v, %v", ok, err)
	}
	missing, err := MissingSANs(certPEM, []string{"127.0.0.1", "10.9.9.9", "other.example.com"})
	if err != nil || strings.Join(missing, ",") != "10.9.9.9,other.example.com" {
		t.Errorf("MissingSANs = %v, %v", missing, err)
	}
}

func TestSignClientProfile(t *testing.T) {
	ca := mustCA(t, "etcd-ca")
	certPEM := mustSign(t, ca, mustCSR(t, mustKey(t), "app1"), Client)
	if err := Verify(ca.CertPEM, certPEM, x509.ExtKeyUsageClientAuth, time.Now()); err != nil {
		t.Errorf("client cert does not verify for clientAuth: %v", err)
	}
	if err := Verify(ca.CertPEM, certPEM, x509.ExtKeyUsageServerAuth, time.Now()); err == nil {
		t.Error("client cert verified for serverAuth")
	}
}

func TestSignNeverOutlivesCA(t *testing.T) {
	ca, err := NewCA("short", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := mustSign(t, ca, mustCSR(t, mustKey(t), "m", "127.0.0.1"), ServerAndClient)
	cert, _ := ParseCertificate(certPEM)
	caCert, _ := ParseCertificate(ca.CertPEM)
	if cert.NotAfter.After(caCert.NotAfter) {
		t.Errorf("leaf NotAfter %v is after CA NotAfter %v", cert.NotAfter, caCert.NotAfter)
	}
}

// tamperCSR changes one byte of the signed subject, leaving a structurally
// valid CSR whose signature no longer matches.
func tamperCSR(t *testing.T, csrPEM []byte) []byte {
	t.Helper()
	block, _ := pem.Decode(csrPEM)
	der := bytes.Clone(block.Bytes)
	i := bytes.Index(der, []byte("victim"))
	if i < 0 {
		t.Fatal("CN not found in CSR DER")
	}
	der[i] = 'V'
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func caCSR(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	bc, err := asn1.Marshal(struct{ IsCA bool }{true})
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject:         pkix.Name{CommonName: "evil-ca"},
		DNSNames:        []string{"evil.example.com"},
		ExtraExtensions: []pkix.Extension{{Id: oidBasicConstraints, Critical: true, Value: bc}},
	}, k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func TestSignRefuses(t *testing.T) {
	ca := mustCA(t, "etcd-ca")
	otherCA := mustCA(t, "other-ca")
	good := mustCSR(t, mustKey(t), "victim", "127.0.0.1")
	leaf := KeyPair{CertPEM: mustSign(t, ca, good, ServerAndClient), KeyPEM: mustKey(t)}

	tests := []struct {
		name    string
		ca      KeyPair
		csr     []byte
		profile Profile
		v       time.Duration
		want    string
	}{
		{"garbage PEM", ca, []byte("not a pem"), ServerAndClient, time.Hour, "no PEM block"},
		{"cert instead of CSR", ca, ca.CertPEM, ServerAndClient, time.Hour, "no PEM block"},
		{"garbage DER", ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte{1, 2, 3}}), ServerAndClient, time.Hour, "parsing CSR"},
		{"tampered signature", ca, tamperCSR(t, good), ServerAndClient, time.Hour, "signature is invalid"},
		{"CA request", ca, caCSR(t), ServerAndClient, time.Hour, "refusing a request for a CA"},
		{"member without SANs", ca, mustCSR(t, mustKey(t), "m"), ServerAndClient, time.Hour, "at least one IP or DNS SAN"},
		{"unknown profile", ca, good, Profile(7), time.Hour, "unknown certificate profile"},
		{"zero validity", ca, good, Client, 0, "not positive"},
		{"CA key mismatch", KeyPair{CertPEM: ca.CertPEM, KeyPEM: otherCA.KeyPEM}, good, Client, time.Hour, "does not match"},
		{"leaf as CA", leaf, good, Client, time.Hour, "is not a CA"},
		{"garbage CA key", KeyPair{CertPEM: ca.CertPEM, KeyPEM: []byte("x")}, good, Client, time.Hour, "no PEM block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Sign(tc.ca, tc.csr, tc.profile, tc.v)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Sign error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestNewCSRRefuses(t *testing.T) {
	key := mustKey(t)
	tests := []struct {
		name string
		key  []byte
		cn   string
		sans []string
	}{
		{"empty CN", key, "", nil},
		{"garbage key", []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "x", nil},
		{"no key", nil, "x", nil},
		{"empty SAN", key, "x", []string{""}},
		{"space in SAN", key, "x", []string{"a b"}},
		{"URL as SAN", key, "x", []string{"https://10.0.0.1:2379"}},
		{"bad label", key, "x", []string{"-bad.example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewCSR(tc.key, tc.cn, tc.sans); err == nil {
				t.Fatal("NewCSR succeeded")
			}
		})
	}
}

func TestWrongKey(t *testing.T) {
	ca := mustCA(t, "etcd-ca")
	key, other := mustKey(t), mustKey(t)
	csr := mustCSR(t, key, "m", "127.0.0.1")
	cert := mustSign(t, ca, csr, ServerAndClient)
	if ok, err := CertMatchesKey(cert, other); err != nil || ok {
		t.Errorf("CertMatchesKey(other key) = %v, %v; want false, nil", ok, err)
	}
	if ok, err := CSRMatches(csr, other); err != nil || ok {
		t.Errorf("CSRMatches(other key) = %v, %v; want false, nil", ok, err)
	}
	if _, err := CertMatchesKey([]byte("junk"), key); err == nil {
		t.Error("CertMatchesKey accepted a garbage certificate")
	}
}

func TestVerifyRefuses(t *testing.T) {
	ca, other := mustCA(t, "etcd-ca"), mustCA(t, "other-ca")
	cert := mustSign(t, ca, mustCSR(t, mustKey(t), "m", "127.0.0.1"), ServerAndClient)
	now := time.Now()
	tests := []struct {
		name     string
		ca, cert []byte
		now      time.Time
	}{
		{"other CA", other.CertPEM, cert, now},
		{"expired", ca.CertPEM, cert, now.Add(MemberLifetime + time.Hour)},
		{"not yet valid", ca.CertPEM, cert, now.Add(-time.Hour)},
		{"garbage cert", ca.CertPEM, []byte("x"), now},
		{"garbage CA", []byte("x"), cert, now},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := Verify(tc.ca, tc.cert, x509.ExtKeyUsageServerAuth, tc.now); err == nil {
				t.Fatal("Verify succeeded")
			}
		})
	}
	// During CA rotation the trust file holds both CAs.
	bundle := append(bytes.Clone(other.CertPEM), ca.CertPEM...)
	if err := Verify(bundle, cert, x509.ExtKeyUsageServerAuth, now); err != nil {
		t.Errorf("Verify against a two-CA bundle: %v", err)
	}
}

func TestNeedsRenewal(t *testing.T) {
	ca := mustCA(t, "etcd-ca")
	certPEM := mustSign(t, ca, mustCSR(t, mustKey(t), "m", "127.0.0.1"), ServerAndClient)
	cert, _ := ParseCertificate(certPEM)
	life := cert.NotAfter.Sub(cert.NotBefore)
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"fresh", cert.NotBefore.Add(time.Hour), false},
		{"just before two thirds", cert.NotBefore.Add(life*2/3 - time.Minute), false},
		{"at two thirds", cert.NotBefore.Add(life * 2 / 3), true},
		{"expired", cert.NotAfter.Add(time.Hour), true},
	}
	for _, tc := range tests {
		got, err := NeedsRenewal(certPEM, tc.at)
		if err != nil || got != tc.want {
			t.Errorf("%s: NeedsRenewal = %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if _, err := NeedsRenewal([]byte("junk"), time.Now()); err == nil {
		t.Error("NeedsRenewal accepted garbage")
	}
}

func TestValidateClientCertificate(t *testing.T) {
	ca := mustCA(t, "etcd-ca")
	client, err := IssueClient(ca, "app1", ClientLifetime)
	if err != nil {
		t.Fatal(err)
	}
	serverOnly := rawCert(t, ca, "web", x509.ExtKeyUsageServerAuth)
	noCN := rawCert(t, ca, "", x509.ExtKeyUsageClientAuth)
	now := time.Now()
	tests := []struct {
		name string
		pem  []byte
		now  time.Time
		want string // empty means valid
	}{
		{"valid", client.CertPEM, now, ""},
		{"member cert is fine for clients", mustSign(t, ca, mustCSR(t, mustKey(t), "m", "127.0.0.1"), ServerAndClient), now, ""},
		{"empty", []byte("  \n"), now, "empty"},
		{"garbage", []byte("hello"), now, "no PEM block"},
		{"key instead of cert", client.KeyPEM, now, "no PEM block"},
		{"expired", client.CertPEM, now.Add(ClientLifetime + time.Hour), "expired at"},
		{"not yet valid", client.CertPEM, now.Add(-time.Hour), "not valid until"},
		{"CA", ca.CertPEM, now, "is a CA"},
		{"no CN", noCN, now, "no common name"},
		{"server-only EKU", serverOnly, now, "clientAuth"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cert, err := ValidateClientCertificate(tc.pem, tc.now)
			if tc.want == "" {
				if err != nil || cert == nil {
					t.Fatalf("ValidateClientCertificate = %v, %v", cert, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalidClientCertificate) {
				t.Fatalf("error = %v, want ErrInvalidClientCertificate containing %q", err, tc.want)
			}
		})
	}
}

// rawCert issues a leaf directly, bypassing Sign's checks, to stand in for
// certificates a misbehaving client or another CA could hand us.
func rawCert(t *testing.T, ca KeyPair, cn string, ekus ...x509.ExtKeyUsage) []byte {
	t.Helper()
	caCert, caKey, err := parseCA(ca)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := newSerial()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  ekus,
	}, caCert, k.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestIssueClient(t *testing.T) {
	ca := mustCA(t, "etcd-ca")
	root, err := IssueClient(ca, "root", ClientLifetime)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := CertMatchesKey(root.CertPEM, root.KeyPEM); err != nil || !ok {
		t.Errorf("CertMatchesKey = %v, %v", ok, err)
	}
	cert, _ := ParseCertificate(root.CertPEM)
	if cert.Subject.CommonName != "root" || len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("root cert CN=%q EKU=%v", cert.Subject.CommonName, cert.ExtKeyUsage)
	}
	if _, err := IssueClient(ca, "", time.Hour); err == nil {
		t.Error("IssueClient with empty CN succeeded")
	}
}

func TestFingerprint(t *testing.T) {
	ca := mustCA(t, "etcd-ca")
	fp, err := Fingerprint(ca.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	if len(fp) != 32*3-1 || strings.ToUpper(fp) != fp || strings.Count(fp, ":") != 31 {
		t.Errorf("fingerprint %q is not colon-separated SHA-256 hex", fp)
	}
	fp2, _ := Fingerprint(mustCA(t, "etcd-ca").CertPEM)
	if fp == fp2 {
		t.Error("two CAs share a fingerprint")
	}
	if _, err := Fingerprint(nil); err == nil {
		t.Error("Fingerprint(nil) succeeded")
	}
}

func TestParseBundleSkipsOtherBlocks(t *testing.T) {
	ca := mustCA(t, "etcd-ca")
	mixed := append(bytes.Clone(ca.KeyPEM), ca.CertPEM...)
	if _, err := ParseCertificate(mixed); err != nil {
		t.Errorf("ParseCertificate with a leading key block: %v", err)
	}
	certs, err := ParseCertificates(append(mixed, mustCA(t, "b").CertPEM...))
	if err != nil || len(certs) != 2 {
		t.Errorf("ParseCertificates = %d certs, %v", len(certs), err)
	}
}

func TestAnonymousClientCertificatesHaveNoCNAndOnlyThatProfileMakesThem(t *testing.T) {
	ca := mustCA(t, "etcd-ca")
	key := mustKey(t)
	csr, err := NewAnonymousCSR(key)
	if err != nil {
		t.Fatal(err)
	}
	// A CN-less request signs only as an anonymous client, and a CN request never does.
	certPEM := mustSign(t, ca, csr, AnonymousClient)
	cert, _ := ParseCertificate(certPEM)
	if cert.Subject.CommonName != "" || len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("anonymous cert CN=%q EKU=%v", cert.Subject.CommonName, cert.ExtKeyUsage)
	}
	if err := Verify(ca.CertPEM, certPEM, x509.ExtKeyUsageClientAuth, time.Now()); err != nil {
		t.Errorf("anonymous cert does not verify for clientAuth: %v", err)
	}
	for _, profile := range []Profile{Client, ServerAndClient} {
		if _, err := Sign(ca, csr, profile, time.Hour); err == nil {
			t.Errorf("a CN-less request was signed as %s", profile)
		}
	}
	if _, err := Sign(ca, mustCSR(t, key, "app1"), AnonymousClient, time.Hour); err == nil {
		t.Error("a request with a CN was signed as an anonymous client")
	}
	kp, err := IssueAnonymousClient(ca, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := ParseCertificate(kp.CertPEM); c.Subject.CommonName != "" {
		t.Errorf("IssueAnonymousClient: CN %q", c.Subject.CommonName)
	}
	if ok, err := CertMatchesKey(kp.CertPEM, kp.KeyPEM); err != nil || !ok {
		t.Errorf("IssueAnonymousClient: key does not match: %v %v", ok, err)
	}
}
