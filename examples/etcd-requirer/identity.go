package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/gruyaume/goops"
)

// The client identity lives in an application-owned secret: every unit of the application can read it and
// only the leader changes it, so all units present the same certificate to etcd.
const (
	identityLabel  = "etcd-requirer.identity"
	secretCert     = "client-cert"
	secretKey      = "client-key"
	secretConfigCN = "config-cn" // the common-name config value the identity was made for
)

// identity is this application's client key pair.
type identity struct {
	CertPEM, KeyPEM string
	ConfigCN        string
}

// commonName is the CN of the certificate; it is the etcd user name on etcd-client.
func (id identity) commonName() string {
	block, _ := pem.Decode([]byte(id.CertPEM))
	if block == nil {
		return ""
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return ""
	}
	return cert.Subject.CommonName
}

// fingerprint tells units apart which identity they hold, without sending the certificate around.
func (id identity) fingerprint() string {
	sum := sha256.Sum256([]byte(id.CertPEM))
	return hex.EncodeToString(sum[:8])
}

// newIdentity makes an ECDSA P-256 key and a self-signed end-entity client certificate for cn. The provider
// trusts this very certificate (not an issuer), so it must not be a CA and must allow client authentication.
func newIdentity(cn, configCN string) (identity, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return identity{}, fmt.Errorf("generating a client key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return identity{}, fmt.Errorf("generating a serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-5 * time.Minute), // tolerate clock skew between us and etcd
		NotAfter:              now.AddDate(1, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return identity{}, fmt.Errorf("signing the client certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return identity{}, fmt.Errorf("encoding the client key: %w", err)
	}
	return identity{
		CertPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
		ConfigCN: configCN,
	}, nil
}

// errNoIdentity means the leader has not created the identity yet.
var errNoIdentity = errors.New("no client identity yet")

// loadIdentity reads the identity secret; any unit of the application may.
func loadIdentity() (identity, error) {
	content, err := goops.GetSecretByLabel(identityLabel, false, false)
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return identity{}, errNoIdentity
		}
		return identity{}, fmt.Errorf("reading the client identity: %w", err)
	}
	return identity{CertPEM: content[secretCert], KeyPEM: content[secretKey], ConfigCN: content[secretConfigCN]}, nil
}

// storeIdentity creates the secret, or writes the new identity as its next revision (leader only).
func storeIdentity(id identity, exists bool) error {
	content := map[string]string{secretCert: id.CertPEM, secretKey: id.KeyPEM, secretConfigCN: id.ConfigCN}
	if !exists {
		if _, err := goops.AddSecret(&goops.AddSecretOptions{Content: content, Label: identityLabel, Owner: goops.OwnerApplication}); err != nil {
			return fmt.Errorf("storing the client identity: %w", err)
		}
		return nil
	}
	info, err := goops.GetSecretInfoByLabel(identityLabel)
	if err != nil {
		return fmt.Errorf("finding the client identity secret: %w", err)
	}
	for secretID := range info {
		// secret-info-get keys its answer by the bare ID; secret-set wants a URI.
		if err := goops.SetSecret(&goops.SetSecretOptions{ID: "secret:" + strings.TrimPrefix(secretID, "secret:"), Content: content}); err != nil {
			return fmt.Errorf("updating the client identity: %w", err)
		}
	}
	return nil
}

// ensureIdentity returns the identity, creating it, or replacing it when the configured CN changed; only
// the leader writes. Non-leaders get errNoIdentity until the leader has made one.
func ensureIdentity(leader bool, cn string) (identity, error) {
	id, err := loadIdentity()
	exists := err == nil
	if err != nil && !errors.Is(err, errNoIdentity) {
		return identity{}, err
	}
	if !leader || exists && id.ConfigCN == cn {
		return id, err
	}
	if id, err = newIdentity(cn, cn); err != nil {
		return identity{}, err
	}
	return id, storeIdentity(id, exists)
}
