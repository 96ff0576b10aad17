package charm_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/pki"
	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/client"
)

func unitInfo(t *testing.T, m *client.Model, name string) api.UnitInfo {
	t.Helper()
	u, err := m.Unit(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func exec1(t *testing.T, m *client.Model, unit string, command ...string) string {
	t.Helper()
	reply, err := m.Exec(context.Background(), unit, command...)
	if err != nil || reply.Code != 0 {
		t.Fatalf("exec %v on %s: %v %+v", command, unit, err, reply)
	}
	return reply.Stdout
}

// servedCertificate is the certificate a member presents on its client port right now.
func servedCertificate(t *testing.T, u api.UnitInfo) *x509.Certificate {
	t.Helper()
	tlsDir := filepath.Join(u.Root, "etc/etcd/tls")
	cert, err := tls.LoadX509KeyPair(filepath.Join(tlsDir, "root.crt"), filepath.Join(tlsDir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, _ := os.ReadFile(filepath.Join(tlsDir, "ca.crt"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	conn, err := tls.Dial("tcp", u.Address+":2379", &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: u.Address})
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", u.Name, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

func TestGivenAMemberCertificateNearExpiryWhenUpdateStatusRunsThenItIsRenewedWithoutRestartingEtcd(t *testing.T) {
	m := deploy3(t)
	ctx := context.Background()
	victim := unitInfo(t, m, "etcd/1")
	pidBefore, err := m.Service(ctx, "etcd/1", "etcd")
	if err != nil || pidBefore.MainPID == 0 {
		t.Fatalf("etcd on etcd/1: %v %+v", err, pidBefore)
	}

	// Give etcd/1 a certificate for its own key that is due for renewal a minute from now, as if a year had
	// passed, by signing it with the cluster's CA from its secret.
	rels, err := m.Relations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var relID int
	for _, r := range rels {
		if slices.Contains(r.Endpoints, "etcd:cluster") {
			relID = r.ID
		}
	}
	app, err := m.AppBag(ctx, relID, "etcd")
	if err != nil {
		t.Fatal(err)
	}
	var ca struct {
		Certificate string `json:"certificate"`
		PrivateKey  string `json:"private-key"`
	}
	if err := json.Unmarshal([]byte(exec1(t, m, "etcd/leader", "secret-get", app["ca-secret-id"], "--format=json")), &ca); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(filepath.Join(victim.Root, "etc/etcd/tls/member.key"))
	if err != nil {
		t.Fatal(err)
	}
	current := servedCertificate(t, victim)
	csr, err := pki.NewCSR(key, current.Subject.CommonName, pki.SANs(current))
	if err != nil {
		t.Fatal(err)
	}
	short, err := pki.Sign(pki.KeyPair{CertPEM: []byte(ca.Certificate), KeyPEM: []byte(ca.PrivateKey)}, csr, pki.ServerAndClient, 4*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var certs map[string]map[string]string
	if err := json.Unmarshal([]byte(app["certificates"]), &certs); err != nil {
		t.Fatal(err)
	}
	certs["etcd/1"]["member"] = string(short)
	raw, _ := json.Marshal(certs)
	file := filepath.Join(t.TempDir(), "certs.json")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	exec1(t, m, "etcd/leader", "relation-set", "-r", fmt.Sprint(relID), "--app", fmt.Sprintf(`"certificates=$(cat %s)"`, file))

	waitFor(t, time.Minute, "etcd/1 serving the short-lived certificate", func() bool {
		return servedCertificate(t, victim).NotAfter.Before(time.Now().Add(10 * time.Minute))
	})
	waitFor(t, 4*time.Minute, "etcd/1 serving a renewed certificate", func() bool {
		return servedCertificate(t, victim).NotAfter.After(time.Now().Add(300 * 24 * time.Hour))
	})
	pidAfter, err := m.Service(ctx, "etcd/1", "etcd")
	if err != nil || pidAfter.MainPID != pidBefore.MainPID {
		t.Fatalf("etcd restarted for a certificate renewal: pid %d -> %d (%v)", pidBefore.MainPID, pidAfter.MainPID, err)
	}
	waitActive(t, m, 3*time.Minute)
	assertCluster(t, m, map[string]string{})
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(time.Second)
	}
}

func TestGivenAMemberWhoseDataDirIsSwappedForAnotherClustersWhenItStartsThenItRefusesAndTheClusterServes(t *testing.T) {
	m := deploy3(t)
	ctx := context.Background()
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "other", NumUnits: 1}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 3*time.Minute)
	exec1(t, m, "other/0", "systemctl", "stop", "etcd")
	mine := filepath.Join(unitInfo(t, m, "etcd/1").Root, "var/lib/etcd")
	theirs := filepath.Join(unitInfo(t, m, "other/0").Root, "var/lib/etcd")
	// Stopped and swapped in one juju-exec: a hook in between would find the data dir gone and replace the
	// member, which is another test.
	execOK(t, m, "etcd/1", "systemctl stop etcd && rm -rf "+mine+" && cp -a "+theirs+" "+mine)

	// Any hook will do; an option the charm ignores changes nothing else.
	if err := m.SetConfig(ctx, "etcd", map[string]string{"nagios_context": "swap"}); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, m)
	st := unitStatuses(t, m)["etcd/1"]
	if !strings.HasPrefix(st, "blocked: ") || !strings.Contains(st, "belongs to another etcd cluster") {
		t.Fatalf("etcd/1: %q", st)
	}
	svc, err := m.Service(ctx, "etcd/1", "etcd")
	if err != nil || svc.ActiveState == "active" {
		t.Fatalf("etcd was started on another cluster's data: %v %+v", err, svc)
	}
	keys := map[string]string{}
	put(t, m, keys, "still", "serving")
}

func TestGivenDataStorageWhenDeployedThenEtcdKeepsItsDataThere(t *testing.T) {
	m := newModel(t)
	ctx := context.Background()
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 1,
		Storage: map[string]int{"data": 1}}); err != nil {
		t.Fatal(err)
	}
	waitActive(t, m, 3*time.Minute)
	ids := strings.TrimSpace(exec1(t, m, "etcd/0", "storage-list", "data"))
	if ids != "data/0" {
		t.Fatalf("storage-list data: %q", ids)
	}
	location := strings.TrimSpace(exec1(t, m, "etcd/0", "storage-get", "-s", "data/0", "location"))
	if _, err := os.Stat(filepath.Join(location, "etcd", "member", "wal")); err != nil {
		t.Fatalf("etcd's WAL is not on the data storage at %s: %v", location, err)
	}
	keys := map[string]string{}
	put(t, m, keys, "on", "storage")
	assertCluster(t, m, keys)
}
