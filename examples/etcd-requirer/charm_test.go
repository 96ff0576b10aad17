package main

import (
	"archive/zip"
	"context"
	"crypto/x509"
	"encoding/pem"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/charmpack"
	"github.com/etcd-charm/etcd/localmodel/client"
	"github.com/etcd-charm/etcd/localmodel/lmtest"
	"gopkg.in/yaml.v3"
)

func TestMain(m *testing.M) { lmtest.Main(m) }

// packCharm builds this directory's main package and packs it with its charmcraft.yaml into dir.
func packCharm(t *testing.T, dir string) string {
	t.Helper()
	root, err := lmtest.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dispatch, charm := filepath.Join(dir, "dispatch"), filepath.Join(dir, "etcd-requirer_amd64.charm")
	if err := charmpack.Build(ctx, root, "./examples/etcd-requirer", dispatch); err != nil {
		t.Fatal(err)
	}
	if err := charmpack.Pack(filepath.Join(root, "examples/etcd-requirer/charmcraft.yaml"), dispatch, charm); err != nil {
		t.Fatal(err)
	}
	return charm
}

func TestCharmBuildsAndPacks(t *testing.T) {
	charm := packCharm(t, t.TempDir())
	zr, err := zip.OpenReader(charm)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		files[f.Name] = f
	}
	for _, name := range []string{"dispatch", "metadata.yaml", "config.yaml", "actions.yaml", "manifest.yaml"} {
		if files[name] == nil {
			t.Fatalf("%s missing from the charm", name)
		}
	}
	if files["dispatch"].Mode().Perm()&0o111 == 0 {
		t.Error("dispatch is not executable")
	}
	rc, err := files["metadata.yaml"].Open()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(rc)
	rc.Close()
	var meta struct {
		Name     string                       `yaml:"name"`
		Requires map[string]map[string]string `yaml:"requires"`
	}
	if err := yaml.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"db": "etcd", "proxy": "etcd-proxy", "etcd-client": "etcd_client"}
	for ep, iface := range want {
		if meta.Requires[ep]["interface"] != iface {
			t.Errorf("requires %s: %v, want interface %s", ep, meta.Requires[ep], iface)
		}
	}
	if meta.Name != "etcd-requirer" {
		t.Errorf("name %q", meta.Name)
	}
}

func TestClientCertificateIsAnEndEntityForClientAuth(t *testing.T) {
	id, err := newIdentity("my-app", "my-app")
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(id.CertPEM))
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.IsCA || !cert.BasicConstraintsValid || !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) ||
		cert.KeyUsage&(x509.KeyUsageCertSign|x509.KeyUsageCRLSign) != 0 || id.commonName() != "my-app" {
		t.Fatalf("certificate: CA=%v constraints=%v eku=%v ku=%v cn=%q", cert.IsCA, cert.BasicConstraintsValid, cert.ExtKeyUsage, cert.KeyUsage, id.commonName())
	}
	// The provider trusts the leaf itself: it must verify as its own root for client authentication.
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("the certificate does not verify against itself: %v", err)
	}
}

// Deployed with no etcd, the charm makes its identity and waits; bad config blocks it, and actions say what
// is missing.
func TestDeployedAloneItWaitsForEtcd(t *testing.T) {
	charm := packCharm(t, t.TempDir())
	m := lmtest.NewModel(t, lmtest.Options{})
	ctx := lmtest.Ctx(t, 5*time.Minute)
	if _, err := m.Deploy(ctx, charm, client.DeployOptions{App: "req", NumUnits: 2}); err != nil {
		t.Fatal(err)
	}
	waitStatus := func(current, message string) {
		t.Helper()
		if err := m.WaitForIdle(ctx, client.WaitOptions{Status: current, Timeout: 2 * time.Minute}); err != nil {
			t.Fatal(err)
		}
		st, err := m.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for name, u := range st.Applications["req"].Units {
			if u.WorkloadStatus.Current != current || !strings.Contains(u.WorkloadStatus.Message, message) {
				t.Fatalf("%s: %s %q, want %s containing %q", name, u.WorkloadStatus.Current, u.WorkloadStatus.Message, current, message)
			}
		}
	}
	waitStatus("waiting", "waiting for etcd on db, proxy, etcd-client")

	// Then the leader made one application identity, with the application's name as CN
	identitySecret := func() api.SecretInfo {
		t.Helper()
		secrets, err := m.Secrets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if s.Label == identityLabel {
				return s
			}
		}
		t.Fatal("no identity secret")
		return api.SecretInfo{}
	}
	first := identitySecret()
	if first.Owner != "application-req" || first.Latest != 1 {
		t.Fatalf("identity secret owned by %q at revision %d", first.Owner, first.Latest)
	}

	// When an action needs etcd, it fails saying what to relate
	res, err := m.Run(ctx, "req/1", "put", map[string]any{"key": "k", "value": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != "failed" || !strings.Contains(res.Message, "relate db, proxy or etcd-client") {
		t.Fatalf("put without etcd: %s %q", res.Status, res.Message)
	}

	// When the certificate is renewed on the leader, the secret gets a new revision; elsewhere it is refused
	res, err = m.Run(ctx, "req/leader", "renew-certificate", map[string]any{"common-name": "renamed"})
	if err != nil || res.Status != "completed" || res.Results["common-name"] != "renamed" {
		t.Fatalf("renew on the leader: %+v %v", res, err)
	}
	if s := identitySecret(); s.Latest != 2 {
		t.Fatalf("identity secret after renewal at revision %d, want 2", s.Latest)
	}
	res, err = m.Run(ctx, "req/1", "renew-certificate", nil)
	if err != nil || res.Status != "failed" || !strings.Contains(res.Message, "req/leader") {
		t.Fatalf("renew on a non-leader: %+v %v", res, err)
	}

	// When the config is bad, every unit is blocked naming the option and the fix
	if err := m.SetConfig(ctx, "req", map[string]string{"client-version": "v3"}); err != nil {
		t.Fatal(err)
	}
	waitStatus("blocked", `client-version "v3" must be v0 or v1`)
	if err := m.SetConfig(ctx, "req", nil, "client-version"); err != nil {
		t.Fatal(err)
	}
	waitStatus("waiting", "waiting for etcd on")
}
