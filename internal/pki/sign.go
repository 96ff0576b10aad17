package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"net"
	"time"
)

// Profile selects the extended key usages of an issued certificate.
type Profile int

const (
	// ServerAndClient is for etcd members. Peer links authenticate both
	// ways with the same certificate, and etcd's gRPC gateway dials its own
	// client port presenting the server certificate, so both EKUs are needed.
	ServerAndClient Profile = iota
	// Client is for the charm's own root credential and for relation clients.
	Client
	// AnonymousClient is a client certificate without a CN. With client-cert-auth etcd takes a verified
	// certificate's CN as the user, so this one names nobody: its holder completes the TLS handshake and
	// must log in with a password. It is what etcd's gRPC gateway presents on its own connection to the
	// member (so a gateway request without a token runs as no one), and what gateway users (Patroni) hold,
	// since the gateway refuses any client certificate that has a CN.
	AnonymousClient
)

// anonymousSubject names an AnonymousClient certificate for people (etcd reads only the CN).
var anonymousSubject = pkix.Name{Organization: []string{"etcd charm"}, OrganizationalUnit: []string{"anonymous client"}}

func (p Profile) String() string {
	switch p {
	case ServerAndClient:
		return "server-and-client"
	case Client:
		return "client"
	case AnonymousClient:
		return "anonymous-client"
	default:
		return fmt.Sprintf("Profile(%d)", int(p))
	}
}

func (p Profile) extKeyUsages() ([]x509.ExtKeyUsage, error) {
	switch p {
	case ServerAndClient:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, nil
	case Client, AnonymousClient:
		return []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil
	default:
		return nil, fmt.Errorf("unknown certificate profile %d", int(p))
	}
}

var oidBasicConstraints = asn1.ObjectIdentifier{2, 5, 29, 19}

// requestsCA reports whether a CSR asks for basicConstraints cA=TRUE. Sign
// ignores requested extensions anyway; refusing such requests outright makes
// a confused or hostile requester visible instead of silently downgraded.
func requestsCA(csr *x509.CertificateRequest) (bool, error) {
	for _, ext := range csr.Extensions {
		if !ext.Id.Equal(oidBasicConstraints) {
			continue
		}
		var bc struct {
			IsCA       bool `asn1:"optional"`
			MaxPathLen int  `asn1:"optional,default:-1"`
		}
		if _, err := asn1.Unmarshal(ext.Value, &bc); err != nil {
			return false, fmt.Errorf("parsing requested basic constraints: %w", err)
		}
		if bc.IsCA {
			return true, nil
		}
	}
	return false, nil
}

// Sign issues a certificate for a CSR. It checks the CSR's signature (proof
// the requester holds the key), refuses CA requests, copies only the CN and
// the IP/DNS SANs, and takes key usages from profile. The certificate never
// outlives the CA.
func Sign(ca KeyPair, csrPEM []byte, profile Profile, validity time.Duration) ([]byte, error) {
	csr, err := ParseCSR(csrPEM)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	isCA, err := requestsCA(csr)
	if err != nil {
		return nil, fmt.Errorf("signing request for %q: %w", csr.Subject.CommonName, err)
	}
	if isCA {
		return nil, fmt.Errorf("signing request for %q: refusing a request for a CA certificate", csr.Subject.CommonName)
	}
	if (profile == AnonymousClient) != (csr.Subject.CommonName == "") {
		return nil, fmt.Errorf("signing request for %q: an anonymous client certificate, and only one, has no common name", csr.Subject.CommonName)
	}
	if profile == ServerAndClient && len(csr.IPAddresses)+len(csr.DNSNames) == 0 {
		return nil, fmt.Errorf("signing request for %q: a member certificate needs at least one IP or DNS SAN", csr.Subject.CommonName)
	}
	der, err := issue(ca, csr.PublicKey, csr.Subject.CommonName, csr.IPAddresses, csr.DNSNames, profile, validity)
	if err != nil {
		return nil, fmt.Errorf("signing request for %q: %w", csr.Subject.CommonName, err)
	}
	return encodePEM(pemCertificate, der), nil
}

// IssueClient makes a key and a client certificate in one step. It is for
// credentials the charm hands out whole (its own root credential, and client
// bundles for relations that cannot make their own CSR); units' member
// certificates always go through NewCSR and Sign so their keys stay local.
func IssueClient(ca KeyPair, commonName string, validity time.Duration) (KeyPair, error) {
	if commonName == "" {
		return KeyPair{}, errors.New("issuing client certificate: common name is empty")
	}
	key, keyPEM, err := newKey()
	if err != nil {
		return KeyPair{}, fmt.Errorf("issuing client certificate for %q: %w", commonName, err)
	}
	der, err := issue(ca, key.Public(), commonName, nil, nil, Client, validity)
	if err != nil {
		return KeyPair{}, fmt.Errorf("issuing client certificate for %q: %w", commonName, err)
	}
	return KeyPair{CertPEM: encodePEM(pemCertificate, der), KeyPEM: keyPEM}, nil
}

// IssueAnonymousClient makes a key and a client certificate without a CN (see AnonymousClient).
func IssueAnonymousClient(ca KeyPair, validity time.Duration) (KeyPair, error) {
	key, keyPEM, err := newKey()
	if err != nil {
		return KeyPair{}, fmt.Errorf("issuing an anonymous client certificate: %w", err)
	}
	der, err := issue(ca, key.Public(), "", nil, nil, AnonymousClient, validity)
	if err != nil {
		return KeyPair{}, fmt.Errorf("issuing an anonymous client certificate: %w", err)
	}
	return KeyPair{CertPEM: encodePEM(pemCertificate, der), KeyPEM: keyPEM}, nil
}

func issue(ca KeyPair, pub crypto.PublicKey, commonName string, ips []net.IP, dns []string, profile Profile, validity time.Duration) ([]byte, error) {
	subject := pkix.Name{CommonName: commonName}
	switch {
	case profile == AnonymousClient && commonName != "":
		return nil, errors.New("an anonymous client certificate has no common name")
	case profile == AnonymousClient:
		subject = anonymousSubject
	case commonName == "":
		return nil, errors.New("common name is empty")
	}
	if validity <= 0 {
		return nil, fmt.Errorf("validity %v is not positive", validity)
	}
	ekus, err := profile.extKeyUsages()
	if err != nil {
		return nil, err
	}
	caCert, caKey, err := parseCA(ca)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	notAfter := now.Add(validity)
	if notAfter.After(caCert.NotAfter) {
		notAfter = caCert.NotAfter
	}
	if !notAfter.After(now) {
		return nil, fmt.Errorf("CA %q expired at %s", caCert.Subject.CommonName, caCert.NotAfter.UTC().Format(time.RFC3339))
	}
	usage := x509.KeyUsageDigitalSignature
	if _, ok := pub.(*rsa.PublicKey); ok {
		// RSA key exchange in TLS 1.2 encrypts to the certificate key.
		usage |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              usage,
		ExtKeyUsage:           ekus,
		BasicConstraintsValid: true,
		IsCA:                  false,
		IPAddresses:           ips,
		DNSNames:              dns,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, pub, caKey)
	if err != nil {
		return nil, fmt.Errorf("creating certificate: %w", err)
	}
	return der, nil
}
