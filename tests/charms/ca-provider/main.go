// Command ca-provider is a tls-certificates provider for the tests: a CA that answers the classic format on
// `client` (as easyrsa does) and v4 on `certificates` (as self-signed-certificates does), key for key as
// ../shared/spec/ecosystem-interfaces.md section 1 describes them. With certificates-format=classic the
// `certificates` endpoint answers classic too (the classic vault charm's endpoint), and with flavour=vault
// the classic answers are shaped as that charm's are, its PKI an intermediate under an operator's root.
package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/interfaces/tlscertificates"
	"github.com/etcd-charm/etcd/internal/pki"
)

func main() {
	if err := reconcile(); err != nil {
		goops.LogErrorf("%v", err)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type config struct {
	Validity string `json:"validity"`
	CAName   string `json:"ca-name"`
	Fault    string `json:"fault"`
	Format   string `json:"certificates-format"`
	Flavour  string `json:"flavour"`
}

func reconcile() error {
	var cfg config
	if err := goops.GetConfig(&cfg); err != nil {
		return err
	}
	validity, err := time.ParseDuration(cfg.Validity)
	if err != nil || validity <= 0 {
		return goops.SetUnitStatus(goops.StatusBlocked, "validity: not a positive Go duration")
	}
	if cfg.Format != "v4" && cfg.Format != "classic" {
		return goops.SetUnitStatus(goops.StatusBlocked, "certificates-format: v4 or classic")
	}
	if cfg.Flavour != "easyrsa" && cfg.Flavour != "vault" {
		return goops.SetUnitStatus(goops.StatusBlocked, "flavour: easyrsa or vault")
	}
	leader, err := goops.IsLeader()
	if err != nil || !leader {
		return goops.SetUnitStatus(goops.StatusActive, "")
	}
	iss, err := ensureIssuer(cfg.Flavour, cfg.CAName)
	if err != nil {
		return err
	}
	if cfg.Fault == "expired" {
		validity = time.Second
	}
	classic := []string{"client"}
	if cfg.Format == "classic" {
		classic = append(classic, "certificates")
	}
	for _, endpoint := range classic {
		if err := answerClassic(endpoint, iss, validity, cfg.Fault); err != nil {
			return err
		}
	}
	if cfg.Format == "v4" {
		if err := answerV4(iss, validity); err != nil {
			return err
		}
	}
	if cfg.Flavour == "vault" {
		return goops.SetUnitStatus(goops.StatusActive, "CA "+cfg.CAName+", vault's intermediate under it")
	}
	return goops.SetUnitStatus(goops.StatusActive, "CA "+cfg.CAName)
}

func state(key string) string {
	v, _ := goops.GetState(key) // a missing key is an error to goops; it reads as ""
	return v
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// issuer is one flavour's PKI and the habits of its answers.
type issuer struct {
	Signer   pki.KeyPair // signs every certificate: easyrsa's CA, or vault's intermediate
	CA       string      // the `ca` key, what requirers trust: easyrsa's CA, or the operator's root
	Chain    []string    // the `chain` key, vault's ca_chain (intermediate, root); easyrsa sends none
	ClientCN string      // the CN of the global client certificate
	TextDump string      // what comes before an issued PEM in the bag: easyrsa's openssl dump; vault has none
	PKCS1    bool        // server keys as "RSA PRIVATE KEY" (vault's PKI returns PKCS #1); easyrsa's are PKCS #8
}

// newServerKey makes the key the provider sends with a server certificate: RSA 2048, as both easyrsa and
// the classic vault charm's PKI role make them, in the PEM form each writes.
func (iss issuer) newServerKey() ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	if iss.PKCS1 {
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// easyrsa's issued files start with openssl's text dump; requirers must skip it.
const textDump = "Certificate:\n    Data:\n        Version: 3 (0x2)\n"

// vaultIntermediateCN is what the classic vault charm names the intermediate it asks the operator's root to
// sign (vault_pki.get_csr, mount charm-pki-local).
const vaultIntermediateCN = "Vault Intermediate Certificate Authority (charm-pki-local)"

// ensureIssuer keeps one PKI per flavour and ca-name in the unit's state: a new name is a new CA, as a
// rotation.
func ensureIssuer(flavour, name string) (issuer, error) {
	if flavour == "easyrsa" {
		ca, err := ensureCA(name)
		return issuer{Signer: ca, CA: string(ca.CertPEM), ClientCN: "client", TextDump: textDump}, err
	}
	key := "vault-pki " + digest(name)
	var p struct{ Root, Intermediate pki.KeyPair }
	if raw := state(key); raw == "" || json.Unmarshal([]byte(raw), &p) != nil {
		var err error
		if p.Root, p.Intermediate, err = newVaultPKI(name); err != nil {
			return issuer{}, err
		}
		raw, _ := json.Marshal(p)
		if err := goops.SetState(key, string(raw)); err != nil {
			return issuer{}, err
		}
	}
	root, inter := string(p.Root.CertPEM), string(p.Intermediate.CertPEM)
	return issuer{Signer: p.Intermediate, CA: root, Chain: []string{inter, root}, ClientCN: "global-client", PKCS1: true}, nil
}

// ensureCA keeps easyrsa's one CA per ca-name in the unit's state.
func ensureCA(name string) (pki.KeyPair, error) {
	key := "ca " + digest(name)
	if raw := state(key); raw != "" {
		var kp pki.KeyPair
		if err := json.Unmarshal([]byte(raw), &kp); err == nil {
			return kp, nil
		}
	}
	kp, err := pki.NewCA(name, 10*365*24*time.Hour)
	if err != nil {
		return pki.KeyPair{}, err
	}
	raw, _ := json.Marshal(kp)
	return kp, goops.SetState(key, string(raw))
}

// newVaultPKI makes the operator's root (named name) and the intermediate it signed for vault (vault's
// get-csr, then upload-signed-csr). pki.NewCA cannot serve as the root: it makes CAs that sign leaves only.
func newVaultPKI(name string) (root, inter pki.KeyPair, err error) {
	now := time.Now()
	ca := func(cn string, maxPathLen int, lifetime time.Duration) *x509.Certificate {
		serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		return &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
			NotBefore: now.Add(-5 * time.Minute), NotAfter: now.Add(lifetime), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, MaxPathLen: maxPathLen, MaxPathLenZero: maxPathLen == 0}
	}
	if root, err = makeCert(ca(name, 1, 10*365*24*time.Hour), nil, nil); err != nil {
		return root, inter, err
	}
	// The parsed root, not its template, signs: it carries the key ID the intermediate's authority key ID names.
	rootCert, err := pki.ParseCertificate(root.CertPEM)
	if err != nil {
		return root, inter, err
	}
	rootKey, err := pki.ParsePrivateKey(root.KeyPEM)
	if err != nil {
		return root, inter, err
	}
	// 87599h is the lifetime vault asks for its intermediate by default.
	inter, err = makeCert(ca(vaultIntermediateCN, 0, 87599*time.Hour), rootCert, rootKey)
	return root, inter, err
}

// makeCert makes a key and a certificate for it from tmpl, signed by parent (nil: self-signed).
func makeCert(tmpl, parent *x509.Certificate, parentKey crypto.Signer) (pki.KeyPair, error) {
	keyPEM, err := pki.NewPrivateKey()
	if err != nil {
		return pki.KeyPair{}, err
	}
	key, err := pki.ParsePrivateKey(keyPEM)
	if err != nil {
		return pki.KeyPair{}, err
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return pki.KeyPair{}, fmt.Errorf("making %q: %w", tmpl.Subject.CommonName, err)
	}
	return pki.KeyPair{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), KeyPEM: keyPEM}, nil
}

// answerClassic answers every requirer unit's common_name on endpoint in this unit's bag: ca, chain, the
// global client certificate, and <unit_name>.server.cert/.server.key, issued once per (CA, CN, SANs).
func answerClassic(endpoint string, iss issuer, validity time.Duration, fault string) error {
	ids, err := goops.GetRelationIDs(endpoint)
	if err != nil {
		return err
	}
	signer := digest(string(iss.Signer.CertPEM))
	for _, id := range ids {
		units, err := goops.ListRelationUnits(id)
		if err != nil {
			return err
		}
		// An empty chain deletes the key (easyrsa sends none), so one left by the vault flavour goes with it.
		out := map[string]string{tlscertificates.KeyCA: iss.CA, tlscertificates.KeyChain: strings.Join(iss.Chain, "")}
		// vault's global client certificate comes from its client-only role (local-client, server_flag
		// false), as easyrsa's build-client-full: clientAuth alone.
		client, err := issued(iss.ClientCN+" "+signer, func() (string, string, error) {
			kp, err := pki.IssueClient(iss.Signer, iss.ClientCN, validity)
			return string(kp.CertPEM), string(kp.KeyPEM), err
		})
		if err != nil {
			return err
		}
		out[tlscertificates.KeyClientCert], out[tlscertificates.KeyClientKey] = iss.TextDump+client[0], client[1]
		if err := keepFiles(map[string]string{"ca.crt": iss.CA, "client.crt": client[0], "client.key": client[1]}); err != nil {
			return err
		}
		sort.Strings(units)
		for _, u := range units {
			bag, err := goops.GetUnitRelationData(id, u)
			if err != nil {
				return err
			}
			req, ok, _, err := tlscertificates.ReadRequests(u, bag)
			if err != nil || !ok {
				continue
			}
			sans := req.SANs
			if fault == "wrong-sans" {
				sans = []string{"10.255.255.1"}
			}
			id := fmt.Sprintf("server %s %s %s %s", signer, req.CommonName, strings.Join(sans, ","), fault)
			pair, err := issued(digest(id), func() (string, string, error) {
				key, err := iss.newServerKey()
				if err != nil {
					return "", "", err
				}
				csr, err := pki.NewCSR(key, req.CommonName, sans)
				if err != nil {
					return "", "", err
				}
				// Both EKUs: easyrsa's patched server type, and vault's `local` role (server_flag, client_flag).
				cert, err := pki.Sign(iss.Signer, csr, pki.ServerAndClient, validity)
				return string(cert), string(key), err
			})
			if err != nil {
				goops.LogWarningf("not signing for %s: %v", u, err)
				continue
			}
			cert, key := iss.TextDump+pair[0], pair[1]
			switch fault {
			case "not-pem":
				cert = "this is not a certificate"
			case "other-key":
				key = client[1]
			}
			for k, v := range tlscertificates.ClassicAnswer(req.UnitName, cert, key) {
				out[k] = v
			}
		}
		if fault == "no-ca" {
			out[tlscertificates.KeyCA] = ""
		}
		if fault == "expired" {
			time.Sleep(2 * time.Second) // the one-second certificates have expired before anyone reads them
		}
		if err := goops.SetUnitRelationData(id, out); err != nil {
			return err
		}
	}
	return nil
}

// keepFiles writes the CA and the global client credential under /var/lib/ca-provider, as easyrsa keeps its
// PKI on disk (and so tests can present what any application related to the CA holds).
func keepFiles(files map[string]string) error {
	dir := filepath.Join(os.Getenv("LOCALJUJU_ROOT"), "/var/lib/ca-provider")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// issued returns a certificate and key made once under id and kept in the unit's state.
func issued(id string, mint func() (string, string, error)) ([2]string, error) {
	key := "issued " + id
	if raw := state(key); raw != "" {
		var pair [2]string
		if json.Unmarshal([]byte(raw), &pair) == nil {
			return pair, nil
		}
	}
	cert, k, err := mint()
	if err != nil {
		return [2]string{}, err
	}
	pair := [2]string{cert, k}
	raw, _ := json.Marshal(pair)
	return pair, goops.SetState(key, string(raw))
}

// answerV4 signs every requirer unit's CSRs on `certificates`, answering in the application bag with the
// chain leaf first, as self-signed-certificates does.
func answerV4(iss issuer, validity time.Duration) error {
	ids, err := goops.GetRelationIDs("certificates")
	if err != nil {
		return err
	}
	above := iss.Chain // what follows the leaf in each chain: the intermediate and the root, or the CA
	if len(above) == 0 {
		above = []string{iss.CA}
	}
	for _, id := range ids {
		units, err := goops.ListRelationUnits(id)
		if err != nil {
			return err
		}
		sort.Strings(units)
		var entries []tlscertificates.V4Entry
		for _, u := range units {
			bag, err := goops.GetUnitRelationData(id, u)
			if err != nil {
				return err
			}
			_, _, csrs, err := tlscertificates.ReadRequests(u, bag)
			if err != nil {
				continue
			}
			for _, csr := range csrs {
				pair, err := issued("v4 "+digest(string(iss.Signer.CertPEM)+csr), func() (string, string, error) {
					cert, err := pki.Sign(iss.Signer, []byte(csr), pki.ServerAndClient, validity)
					return string(cert), "", err
				})
				if err != nil {
					goops.LogWarningf("not signing %s's CSR: %v", u, err)
					continue
				}
				entries = append(entries, tlscertificates.V4Entry{Certificate: pair[0], CSR: csr, CA: iss.CA,
					Chain: append([]string{pair[0]}, above...)})
			}
		}
		list, err := tlscertificates.V4Certificates(entries)
		if err != nil {
			return err
		}
		if err := goops.SetAppRelationData(id, map[string]string{tlscertificates.KeyCertificates: list}); err != nil {
			return err
		}
	}
	return nil
}
