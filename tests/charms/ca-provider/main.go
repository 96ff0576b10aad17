// Command ca-provider is a tls-certificates provider for the tests: a CA that answers the classic format on
// `client` (as easyrsa does) and v4 on `certificates` (as self-signed-certificates does), key for key as
// ../shared/spec/ecosystem-interfaces.md section 1 describes them.
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
	leader, err := goops.IsLeader()
	if err != nil || !leader {
		return goops.SetUnitStatus(goops.StatusActive, "")
	}
	ca, err := ensureCA(cfg.CAName)
	if err != nil {
		return err
	}
	if cfg.Fault == "expired" {
		validity = time.Second
	}
	if err := answerClassic(ca, validity, cfg.Fault); err != nil {
		return err
	}
	if err := answerV4(ca, validity); err != nil {
		return err
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

// ensureCA keeps one CA per ca-name in the unit's state: a new name is a new CA, as a rotation.
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

// easyrsa's issued files start with openssl's text dump; requirers must skip it.
const textDump = "Certificate:\n    Data:\n        Version: 3 (0x2)\n"

// answerClassic answers every requirer unit's common_name on `client` in this unit's bag: ca, the global
// client certificate, and <unit_name>.server.cert/.server.key, issued once per (CA, CN, SANs).
func answerClassic(ca pki.KeyPair, validity time.Duration, fault string) error {
	ids, err := goops.GetRelationIDs("client")
	if err != nil {
		return err
	}
	for _, id := range ids {
		units, err := goops.ListRelationUnits(id)
		if err != nil {
			return err
		}
		out := map[string]string{tlscertificates.KeyCA: string(ca.CertPEM)}
		client, err := issued("client "+digest(string(ca.CertPEM)), func() (string, string, error) {
			kp, err := pki.IssueClient(ca, "client", validity)
			return string(kp.CertPEM), string(kp.KeyPEM), err
		})
		if err != nil {
			return err
		}
		out[tlscertificates.KeyClientCert], out[tlscertificates.KeyClientKey] = textDump+client[0], client[1]
		if err := keepFiles(map[string]string{"ca.crt": string(ca.CertPEM), "client.crt": client[0], "client.key": client[1]}); err != nil {
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
			id := fmt.Sprintf("server %s %s %s %s", digest(string(ca.CertPEM)), req.CommonName, strings.Join(sans, ","), fault)
			pair, err := issued(digest(id), func() (string, string, error) {
				key, err := pki.NewPrivateKey()
				if err != nil {
					return "", "", err
				}
				csr, err := pki.NewCSR(key, req.CommonName, sans)
				if err != nil {
					return "", "", err
				}
				cert, err := pki.Sign(ca, csr, pki.ServerAndClient, validity)
				return string(cert), string(key), err
			})
			if err != nil {
				goops.LogWarningf("not signing for %s: %v", u, err)
				continue
			}
			cert, key := textDump+pair[0], pair[1]
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
func answerV4(ca pki.KeyPair, validity time.Duration) error {
	ids, err := goops.GetRelationIDs("certificates")
	if err != nil {
		return err
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
				pair, err := issued("v4 "+digest(string(ca.CertPEM)+csr), func() (string, string, error) {
					cert, err := pki.Sign(ca, []byte(csr), pki.ServerAndClient, validity)
					return string(cert), "", err
				})
				if err != nil {
					goops.LogWarningf("not signing %s's CSR: %v", u, err)
					continue
				}
				entries = append(entries, tlscertificates.V4Entry{Certificate: pair[0], CSR: csr, CA: string(ca.CertPEM),
					Chain: []string{pair[0], string(ca.CertPEM)}})
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
