package charm_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/pki"
	"github.com/etcd-charm/etcd/internal/robustness"
	"github.com/etcd-charm/etcd/localmodel/client"
)

var (
	caProviderOnce sync.Once
	caProviderErr  error
	caProvider     string
)

// buildCAProvider packs the test CA (tests/charms/ca-provider): easyrsa's classic format on `client`,
// self-signed-certificates' v4 format on `certificates`.
func buildCAProvider(t *testing.T) {
	t.Helper()
	build(t)
	caProviderOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ca-provider-")
		if err != nil {
			caProviderErr = err
			return
		}
		root := repoRoot()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		_, caProvider, caProviderErr = buildCharm(ctx, root, dir, "./tests/charms/ca-provider",
			filepath.Join(root, "tests/charms/ca-provider/charmcraft.yaml"), "ca-provider")
	})
	if caProviderErr != nil {
		t.Fatalf("building the CA provider charm: %v", caProviderErr)
	}
}

// presented is what a unit's client listener presents, the leaf first, whoever signed it.
func presented(addr string) ([]*x509.Certificate, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 3 * time.Second}, "tcp", addr+":2379", &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // we only read what is presented
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates, nil
}

// presentedCertificate is the certificate a unit's client listener presents.
func presentedCertificate(addr string) (*x509.Certificate, error) {
	certs, err := presented(addr)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// serverCAs reads the CAs a unit offers clients (server-ca.crt): the cluster CA first, then external ones.
func serverCAs(t *testing.T, m *client.Model, unit string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(unitInfo(t, m, unit).Root, "etc/etcd/tls/server-ca.crt"))
	if err != nil {
		return nil
	}
	var out [][]byte
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out
		}
		out = append(out, pem.EncodeToMemory(b))
	}
}

// presentedChain is everything a unit's client listener presents, the leaf first, in PEM.
func presentedChain(addr string) ([]byte, error) {
	certs, err := presented(addr)
	if err != nil {
		return nil, err
	}
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out, nil
}

// everyUnitServes waits until every etcd unit's client listener presents a certificate issued by ca,
// directly or through the intermediates it presents with it.
func everyUnitServes(t *testing.T, m *client.Model, ca []byte, what string) {
	t.Helper()
	waitFor(t, 3*time.Minute, "every member's client listener serving "+what, func() bool {
		for _, u := range aliveUnits(t, m) {
			chain, err := presentedChain(unitInfo(t, m, u).Address)
			if err != nil || !pki.IssuedBy(chain, ca) {
				return false
			}
		}
		return true
	})
}

// etcdctlWithCA runs Debian's etcdctl as root against every member, verifying the servers with caPEM only.
func etcdctlWithCA(t *testing.T, m *client.Model, caPEM []byte, args ...string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	tlsDir := filepath.Join(unitInfo(t, m, aliveUnits(t, m)[0]).Root, "etc/etcd/tls")
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	eps := clientEndpoints(t, m)
	out, err := etcdctl([]string{"ETCDCTL_API=3", "ETCDCTL_CACERT=" + filepath.Join(dir, "ca.crt"),
		"ETCDCTL_CERT=" + filepath.Join(tlsDir, "root.crt"), "ETCDCTL_KEY=" + filepath.Join(tlsDir, "root.key"),
		"ETCDCTL_ENDPOINTS=" + strings.Join(eps, ","), "ETCDCTL_DIAL_TIMEOUT=3s", "ETCDCTL_COMMAND_TIMEOUT=5s"},
		args...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// clientEndpoints are the etcd units' client URLs.
func clientEndpoints(t *testing.T, m *client.Model) []string {
	t.Helper()
	var eps []string
	for _, u := range aliveUnits(t, m) {
		eps = append(eps, "https://"+unitInfo(t, m, u).Address+":2379")
	}
	return eps
}

// waitRenewed waits until every unit (first: unit → serial it served before) presents another certificate
// from externalCA that also passes extra, and fails if any unit presents the cluster CA's certificate on the
// way: a renewal must take the place of the certificate before it expires, not after the unit fell back.
func waitRenewed(t *testing.T, m *client.Model, first map[string]string, externalCA, clusterCA []byte, what string, extra func(*x509.Certificate) bool) {
	t.Helper()
	var fellBack []string
	waitFor(t, 4*time.Minute, what, func() bool {
		done := true
		for u, serial := range first {
			cert, err := presentedCertificate(unitInfo(t, m, u).Address)
			if err != nil {
				return false
			}
			certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
			if pki.IssuedBy(certPEM, clusterCA) && !slices.Contains(fellBack, u) {
				fellBack = append(fellBack, u)
			}
			if cert.SerialNumber.String() == serial || !pki.IssuedBy(certPEM, externalCA) || (extra != nil && !extra(cert)) {
				done = false
			}
		}
		return done
	})
	if len(fellBack) > 0 {
		t.Errorf("%v served the cluster CA's certificate before the renewed one: the renewal came only after the old certificate expired", fellBack)
	}
}

// Given a three-member cluster under recorded traffic and an easyrsa-shaped CA, when etcd:certificates is
// related to it, then clients are offered its CA first and every client listener moves to its certificate
// with no restart, Debian's etcdctl verifies every member with the external CA alone, the peer listeners
// stay on the cluster CA, and a db consumer gets both CAs; when the provider's answer goes bad (wrong names,
// not PEM, another key, no CA, expired), each unit is blocked naming the relation and keeps serving; when the relation is removed,
// every listener is back on the cluster CA; and the history is linearizable throughout.
func TestGivenAClusterUnderTrafficWhenAClassicCAIsRelatedAndRemovedThenClientListenersMoveLiveAndBack(t *testing.T) {
	buildCAProvider(t)
	buildRequirers(t)
	m := newModel(t)
	ctx := context.Background()
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Deploy(ctx, caProvider, client.DeployOptions{App: "easyrsa", NumUnits: 1}); err != nil {
		t.Fatal(err)
	}
	deployRequirer(t, m, "kube", nil)
	integrate(t, m, "kube:db", "etcd:db")
	waitAppsActive(t, m, 6*time.Minute, "etcd", "easyrsa", "kube")
	units := aliveUnits(t, m)
	clusterCA := serverCAs(t, m, units[0])[0]
	restarts := countRestarts(t, m)

	// When the relation is made, the leader offers the external CA before anyone serves it.
	integrate(t, m, "etcd:certificates", "easyrsa:client")
	waitFor(t, time.Minute, "every unit offering the external CA", func() bool {
		for _, u := range aliveUnits(t, m) {
			if len(serverCAs(t, m, u)) != 2 {
				return false
			}
		}
		return true
	})
	externalCA := serverCAs(t, m, units[0])[1]
	for _, u := range units {
		cert, err := presentedCertificate(unitInfo(t, m, u).Address)
		if err == nil && !pki.IssuedBy(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), clusterCA) {
			t.Errorf("%s serves the external certificate before the hold", u)
		}
	}
	rec := recordTraffic(t, m, "certificates/", 15*time.Minute, "the switch")
	defer rec.Stop()

	// Then every client listener moves, and the real etcdctl trusts the members through the external CA.
	everyUnitServes(t, m, externalCA, "the external CA's certificate")
	if out, err := etcdctlWithCA(t, m, externalCA, "endpoint", "health"); err != nil {
		t.Fatalf("etcdctl with the external CA alone: %v\n%s", err, out)
	}
	if out, err := etcdctlWithCA(t, m, clusterCA, "endpoint", "health"); err == nil {
		t.Fatalf("etcdctl with the cluster CA alone still verifies the members:\n%s", out)
	}
	for _, u := range units {
		if err := peerPortAnswers("https://"+unitInfo(t, m, u).Address+":2380", memberKeyPair(t, m, u), string(clusterCA)); err != nil {
			t.Errorf("%s's peer listener is not on the cluster CA: %v", u, err)
		}
	}
	// Any application related to the same CA holds a client certificate from it (easyrsa's global one): it
	// authenticates as no etcd user, and the peer listeners refuse it.
	easyrsaDir := filepath.Join(unitInfo(t, m, "easyrsa/0").Root, "var/lib/ca-provider")
	foreign := readKeyPair(t, easyrsaDir, "client.crt", "client.key")
	for _, u := range units {
		addr := unitInfo(t, m, u).Address
		if err := peerPortAnswers("https://"+addr+":2380", foreign, string(clusterCA)); err == nil {
			t.Errorf("%s's peer listener admits the external CA's client certificate", u)
		}
	}
	if out, err := etcdctl([]string{"ETCDCTL_API=3", "ETCDCTL_CACERT=" + filepath.Join(easyrsaDir, "ca.crt"),
		"ETCDCTL_CERT=" + filepath.Join(easyrsaDir, "client.crt"), "ETCDCTL_KEY=" + filepath.Join(easyrsaDir, "client.key"),
		"ETCDCTL_ENDPOINTS=" + strings.Join(clientEndpoints(t, m), ","), "ETCDCTL_DIAL_TIMEOUT=3s", "ETCDCTL_COMMAND_TIMEOUT=5s"},
		"get", "--prefix", "/").CombinedOutput(); err == nil {
		t.Errorf("the external CA's client certificate reads the keyspace:\n%s", out)
	}
	waitFor(t, time.Minute, "the db consumer offered both CAs", func() bool {
		data, err := os.ReadFile(filepath.Join(requirerFiles(t, m, "kube/0", "db").dir, "ca.crt"))
		return err == nil && bytes.Contains(data, bytes.TrimSpace(externalCA)) && bytes.Contains(data, bytes.TrimSpace(clusterCA))
	})
	if out, err := requirerFiles(t, m, "kube/0", "db").etcdctl(clientEndpoints(t, m), "put", "/kube/after-switch", "ok"); err != nil {
		t.Fatalf("the db consumer after the switch: %v\n%s", err, out)
	}

	// When the provider's answer goes bad in each way, each unit is blocked naming the relation and what is
	// wrong, and keeps serving the certificate it has.
	for _, fault := range []struct{ name, want string }{
		{"wrong-sans", "does not name"}, {"not-pem", "not PEM"}, {"other-key", "not for this unit's key"},
		{"no-ca", "no ca"}, {"expired", "does not verify"},
	} {
		if err := m.SetConfig(ctx, "easyrsa", map[string]string{"fault": fault.name}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 2*time.Minute, "every etcd unit blocked on the certificates relation ("+fault.name+")", func() bool {
			st, err := m.Status(ctx)
			if err != nil {
				return false
			}
			for _, u := range st.Applications["etcd"].Units {
				if u.WorkloadStatus.Current != "blocked" || !strings.Contains(u.WorkloadStatus.Message, "certificates relation") ||
					!strings.Contains(u.WorkloadStatus.Message, fault.want) {
					return false
				}
			}
			return true
		})
		if out, err := etcdctlWithCA(t, m, externalCA, "endpoint", "health"); err != nil {
			t.Fatalf("bad provider data (%s) took the served certificates away: %v\n%s", fault.name, err, out)
		}
	}
	if err := m.SetConfig(ctx, "easyrsa", nil, "fault"); err != nil {
		t.Fatal(err)
	}
	waitAppsActive(t, m, 3*time.Minute, "etcd")

	// When the relation is removed, every listener is back on the cluster CA, and the external CA is no
	// longer offered once no member serves it.
	if err := m.RemoveRelation(ctx, "etcd:certificates", "easyrsa:client"); err != nil {
		t.Fatal(err)
	}
	backOnTheClusterCA(t, m, clusterCA)
	switchedWithoutLossOrRestart(t, m, rec, restarts, "certificates-classic", "the external CA")
}

// backOnTheClusterCA waits until every client listener serves the cluster CA's certificate again and no
// other CA is offered, then checks with Debian's etcdctl and the cluster CA alone.
func backOnTheClusterCA(t *testing.T, m *client.Model, clusterCA []byte) {
	t.Helper()
	everyUnitServes(t, m, clusterCA, "the cluster CA's certificate")
	waitFor(t, 2*time.Minute, "no CA offered but the cluster CA", func() bool {
		for _, u := range aliveUnits(t, m) {
			if len(serverCAs(t, m, u)) != 1 {
				return false
			}
		}
		return true
	})
	if out, err := etcdctlWithCA(t, m, clusterCA, "endpoint", "health"); err != nil {
		t.Fatalf("etcdctl with the cluster CA once back on it: %v\n%s", err, out)
	}
	waitAppsActive(t, m, 3*time.Minute, "etcd")
}

// switchedWithoutLossOrRestart checks a CA switch's recorded history (linearizable, writes acknowledged) and
// that no member restarted for it, and logs the figures docs/reliability.md reports.
func switchedWithoutLossOrRestart(t *testing.T, m *client.Model, rec *robustness.Recorder, restarts *restartCounter, name, ca string) {
	t.Helper()
	report := stopAndCheck(t, m, rec, reliabilitySettings{}, name)
	if len(report.Violations) > 0 || report.Stats.Acknowledged == 0 {
		t.Errorf("history: %d acknowledged, violations %q", report.Stats.Acknowledged, report.Violations)
	}
	for u, n := range restarts.finish() {
		if n > 0 {
			t.Errorf("%s's etcd restarted %d times for the switch; certificates are read at each handshake", u, n)
		}
	}
	t.Logf("switch to %s and back: %d operations acknowledged, longest write gap %s",
		ca, report.Stats.Acknowledged, report.Stats.LongestWriteGap.Round(time.Millisecond))
}

// Given a three-member cluster and a provider issuing short-lived certificates, when etcd:certificates is
// related to its v4 endpoint (self-signed-certificates' shape), then every client listener serves a
// certificate for the key the unit made (it never left the unit) and each unit renews it with a new CSR
// before it expires; when it is related to its classic endpoint instead (easyrsa's shape, which never
// renews), each unit asks again with a changed request and serves the new certificate; and removing the
// relation brings the cluster CA's certificates back.
func TestGivenShortLivedExternalCertificatesWhenRelatedThenUnitsRenewThemFromV4AndClassicProviders(t *testing.T) {
	buildCAProvider(t)
	m := newModel(t)
	ctx := context.Background()
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Deploy(ctx, caProvider, client.DeployOptions{App: "self-signed", NumUnits: 1,
		Config: map[string]string{"validity": "150s"}}); err != nil {
		t.Fatal(err)
	}
	waitAppsActive(t, m, 6*time.Minute, "etcd", "self-signed")
	units := aliveUnits(t, m)
	clusterCA := serverCAs(t, m, units[0])[0]

	integrate(t, m, "etcd:certificates", "self-signed:certificates")
	waitFor(t, time.Minute, "the external CA offered", func() bool { return len(serverCAs(t, m, units[0])) == 2 })
	externalCA := serverCAs(t, m, units[0])[1]
	everyUnitServes(t, m, externalCA, "the v4 provider's certificate")
	first := map[string]string{}
	for _, u := range units {
		info := unitInfo(t, m, u)
		served, err1 := os.ReadFile(filepath.Join(info.Root, "etc/etcd/tls/server.pem"))
		own, err2 := os.ReadFile(filepath.Join(info.Root, "etc/etcd/tls/external.key"))
		if err1 != nil || err2 != nil || !bytes.Contains(served, bytes.TrimSpace(own)) {
			t.Fatalf("%s serves a key other than the one it made for its CSR (%v %v)", u, err1, err2)
		}
		cert, err := presentedCertificate(info.Address)
		if err != nil {
			t.Fatal(err)
		}
		first[u] = cert.SerialNumber.String()
	}
	if out, err := etcdctlWithCA(t, m, externalCA, "endpoint", "health"); err != nil {
		t.Fatalf("etcdctl with the external CA alone: %v\n%s", err, out)
	}

	// Renewal: at two thirds of the 150 s lifetime each unit sends a new CSR and serves the new certificate.
	waitRenewed(t, m, first, externalCA, clusterCA, "every unit serving a renewed certificate", nil)
	if out, err := etcdctlWithCA(t, m, externalCA, "endpoint", "health"); err != nil {
		t.Fatalf("etcdctl after the renewal: %v\n%s", err, out)
	}

	if err := m.RemoveRelation(ctx, "etcd:certificates", "self-signed:certificates"); err != nil {
		t.Fatal(err)
	}
	everyUnitServes(t, m, clusterCA, "the cluster CA's certificate")

	// Classic: the provider makes the key and never renews on its own.
	integrate(t, m, "etcd:certificates", "self-signed:client")
	everyUnitServes(t, m, externalCA, "the classic provider's certificate")
	for _, u := range units {
		cert, err := presentedCertificate(unitInfo(t, m, u).Address)
		if err != nil {
			t.Fatal(err)
		}
		first[u] = cert.SerialNumber.String()
	}
	waitRenewed(t, m, first, externalCA, clusterCA, "every unit serving a certificate the classic provider issued again",
		func(cert *x509.Certificate) bool { return slices.Contains(cert.DNSNames, "renewal-1.etcd.invalid") })
	if out, err := etcdctlWithCA(t, m, externalCA, "endpoint", "health"); err != nil {
		t.Fatalf("etcdctl after the classic renewal: %v\n%s", err, out)
	}
	if err := m.RemoveRelation(ctx, "etcd:certificates", "self-signed:client"); err != nil {
		t.Fatal(err)
	}
	everyUnitServes(t, m, clusterCA, "the cluster CA's certificate")
	waitAppsActive(t, m, 3*time.Minute, "etcd")
}
