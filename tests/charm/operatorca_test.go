package charm_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/pki"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// enterpriseCA makes what an enterprise hands the operator: a root, and an issuing CA under it with its key.
func enterpriseCA(t *testing.T) (root, issuing pki.KeyPair) {
	t.Helper()
	mk := func(cn string, parent *x509.Certificate, parentKey any) (*x509.Certificate, pki.KeyPair) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: []string{"Example Corp"}},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(30 * 24 * time.Hour),
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, BasicConstraintsValid: true, IsCA: true}
		if parent == nil {
			parent, parentKey = tmpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
		return cert, pki.KeyPair{CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})}
	}
	rootCert, root := mk("Example Corp Root CA", nil, nil)
	rootKey, err := pki.ParsePrivateKey(root.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	_, issuing = mk("Example Corp etcd Issuing CA", rootCert, rootKey)
	return root, issuing
}

// everyEtcdUnitBlocked waits until every etcd unit is blocked with a message containing each phrase.
func everyEtcdUnitBlocked(t *testing.T, m *client.Model, what string, phrases ...string) {
	t.Helper()
	waitFor(t, 2*time.Minute, "every etcd unit blocked: "+what, func() bool {
		st, err := m.Status(context.Background())
		if err != nil {
			return false
		}
		for _, u := range st.Applications["etcd"].Units {
			if u.WorkloadStatus.Current != "blocked" {
				return false
			}
			for _, p := range phrases {
				if !strings.Contains(u.WorkloadStatus.Message, p) {
					return false
				}
			}
		}
		return true
	})
}

// operatorCASecrets counts the model's secrets holding an operator's CA (their label names it).
func operatorCASecrets(t *testing.T, m *client.Model) int {
	t.Helper()
	secrets, err := m.Secrets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range secrets {
		if strings.HasPrefix(s.Label, "etcd-operator-ca-") {
			n++
		}
	}
	return n
}

// filesContaining lists the files under dir whose content contains needle.
func filesContaining(t *testing.T, dir string, needle []byte) []string {
	t.Helper()
	var found []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err != nil || info.Size() > 64<<20 {
			return nil
		}
		if data, err := os.ReadFile(path); err == nil && bytes.Contains(data, needle) {
			found = append(found, path)
		}
		return nil
	})
	return found
}

// Given a three-member cluster under recorded traffic with a db consumer, when the operator sets their own
// issuing CA and its root in ca_certificate, then a missing or wrong ca_key blocks every unit naming the
// option and nothing changes; with the right key clients are offered the root first and every client
// listener moves to a certificate the issuing CA signed (presented with it) with no restart, Debian's
// etcdctl verifies every member with the root alone, and the db consumer has the root; when ca_key is reset
// the cluster stays as it is and the key is in no unit's files; when ca_certificate is reset every listener
// is back on the cluster CA; and the history is linearizable throughout.
func TestGivenAClusterUnderTrafficWhenTheOperatorSetsAndResetsTheirOwnCAThenClientListenersMoveLiveAndBack(t *testing.T) {
	buildRequirers(t)
	m := newModel(t)
	ctx := context.Background()
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 3}); err != nil {
		t.Fatal(err)
	}
	deployRequirer(t, m, "kube", nil)
	integrate(t, m, "kube:db", "etcd:db")
	waitAppsActive(t, m, 6*time.Minute, "etcd", "kube")
	units := aliveUnits(t, m)
	clusterCA := serverCAs(t, m, units[0])[0]
	restarts := countRestarts(t, m)
	rec := recordTraffic(t, m, "operator-ca/", 15*time.Minute, "the switch")
	defer rec.Stop()

	root, issuing := enterpriseCA(t)
	chain := string(issuing.CertPEM) + string(root.CertPEM)
	other, err := pki.NewCA("someone else's CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	// When the CA comes without its key, or with another key, every unit says which option to fix, and
	// the listeners keep serving the cluster CA's certificates.
	if err := m.SetConfig(ctx, "etcd", map[string]string{"ca_certificate": chain}); err != nil {
		t.Fatal(err)
	}
	everyEtcdUnitBlocked(t, m, "no key", "ca_key", "no key is kept")
	if err := m.SetConfig(ctx, "etcd", map[string]string{"ca_key": string(other.KeyPEM)}); err != nil {
		t.Fatal(err)
	}
	everyEtcdUnitBlocked(t, m, "another CA's key", "ca_key", "not the private key")
	if out, err := etcdctlWithCA(t, m, clusterCA, "endpoint", "health"); err != nil {
		t.Fatalf("a bad ca_key changed what the members serve: %v\n%s", err, out)
	}

	// When the right key is given, the root is offered, then served through the issuing CA.
	if err := m.SetConfig(ctx, "etcd", map[string]string{"ca_key": string(issuing.KeyPEM)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "every unit offering the operator's root", func() bool {
		for _, u := range aliveUnits(t, m) {
			cas := serverCAs(t, m, u)
			if len(cas) != 2 || !bytes.Equal(bytes.TrimSpace(cas[1]), bytes.TrimSpace(root.CertPEM)) {
				return false
			}
		}
		return true
	})
	everyUnitServes(t, m, root.CertPEM, "a certificate from the operator's issuing CA")
	for _, u := range units {
		chainPEM, err := presentedChain(unitInfo(t, m, u).Address)
		if err != nil {
			t.Fatal(err)
		}
		if certs, err := pki.ParseCertificates(chainPEM); err != nil || len(certs) != 2 || !pki.IssuedBy(chainPEM, issuing.CertPEM) {
			t.Errorf("%s presents %d certificates; want its own, then the issuing CA that signed it", u, len(certs))
		}
	}
	if out, err := etcdctlWithCA(t, m, root.CertPEM, "endpoint", "health"); err != nil {
		t.Fatalf("etcdctl with the operator's root alone: %v\n%s", err, out)
	}
	if out, err := etcdctlWithCA(t, m, clusterCA, "endpoint", "health"); err == nil {
		t.Fatalf("etcdctl with the cluster CA alone still verifies the members:\n%s", out)
	}
	waitFor(t, time.Minute, "the db consumer offered the operator's root", func() bool {
		data, err := os.ReadFile(filepath.Join(requirerFiles(t, m, "kube/0", "db").dir, "ca.crt"))
		return err == nil && bytes.Contains(data, bytes.TrimSpace(root.CertPEM)) && bytes.Contains(data, bytes.TrimSpace(clusterCA))
	})
	if out, err := requirerFiles(t, m, "kube/0", "db").etcdctl(clientEndpoints(t, m), "put", "/kube/operator-ca", "ok"); err != nil {
		t.Fatalf("the db consumer after the switch: %v\n%s", err, out)
	}

	// When ca_key is reset, the key lives on in the secret only: nothing changes, and no unit's files hold it.
	if err := m.SetConfig(ctx, "etcd", nil, "ca_key"); err != nil {
		t.Fatal(err)
	}
	waitAppsActive(t, m, 3*time.Minute, "etcd")
	everyUnitServes(t, m, root.CertPEM, "the operator's CA's certificate after ca_key is reset")
	keyBody := bytes.Split(bytes.TrimSpace(issuing.KeyPEM), []byte("\n"))[1] // a line of the key itself
	for _, u := range units {
		if found := filesContaining(t, unitInfo(t, m, u).Root, keyBody); len(found) > 0 {
			t.Errorf("%s keeps the operator's CA key in %v", u, found)
		}
	}

	if n := operatorCASecrets(t, m); n != 1 {
		t.Errorf("%d secrets hold the operator's CA key while it is set, want 1", n)
	}

	// When ca_certificate is reset, every listener is back on the cluster CA, the root is no longer offered,
	// and the secret with the key is removed.
	if err := m.SetConfig(ctx, "etcd", nil, "ca_certificate"); err != nil {
		t.Fatal(err)
	}
	backOnTheClusterCA(t, m, clusterCA)
	waitFor(t, time.Minute, "the operator's CA secret removed", func() bool { return operatorCASecrets(t, m) == 0 })
	switchedWithoutLossOrRestart(t, m, rec, restarts, "operator-ca", "the operator's CA")
}
