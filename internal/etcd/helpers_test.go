package etcd

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/etcd-charm/etcd/internal/pki"
)

// freePort asks the kernel for an unused loopback port. The port is free
// only until someone else takes it; tests start etcd right away.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("reserving a port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// testPKI is a CA plus the member and root credentials written where Paths
// says, as the charm would.
type testPKI struct {
	ca, member, root pki.KeyPair
}

func writeTestPKI(t *testing.T, p Paths, sans ...string) testPKI {
	t.Helper()
	ca, err := pki.NewCA("test-etcd-ca", pki.CALifetime)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := pki.NewCSR(key, "etcd-0", sans)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.Sign(ca, csr, pki.ServerAndClient, pki.MemberLifetime)
	if err != nil {
		t.Fatal(err)
	}
	root, err := pki.IssueClient(ca, "root", pki.ClientLifetime)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureDir(p.TLSDir, ModeTLSDir); err != nil {
		t.Fatal(err)
	}
	for path, f := range map[string]struct {
		data []byte
		mode os.FileMode
	}{
		p.CACert:         {ca.CertPEM, ModeCert},
		p.ServerCA:       {ca.CertPEM, ModeCert},
		p.MemberCert:     {cert, ModeCert},
		p.MemberKey:      {key, ModeKey},
		p.RootClientCert: {root.CertPEM, ModeCert},
		p.RootClientKey:  {root.KeyPEM, ModeKey},
	} {
		if _, err := WriteFile(path, f.data, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	return testPKI{ca: ca, member: pki.KeyPair{CertPEM: cert, KeyPEM: key}, root: root}
}

// singleMember is a valid one-member configuration listening on ip.
func singleMember(p Paths, ip string, clientPort, peerPort int) Config {
	client := fmt.Sprintf("https://%s:%d", ip, clientPort)
	peer := fmt.Sprintf("https://%s:%d", ip, peerPort)
	return Config{
		Name:                "etcd0",
		DataDir:             p.DataDir,
		ListenClientURLs:    []string{client},
		AdvertiseClientURLs: []string{client},
		ListenPeerURLs:      []string{peer},
		AdvertisePeerURLs:   []string{peer},
		InitialCluster:      []Member{{Name: "etcd0", PeerURL: peer}},
		InitialClusterState: ClusterStateNew,
		InitialClusterToken: "etcd-test-token",
		ClientTLS:           p.MemberTLS(),
		PeerTLS:             p.MemberTLS(),
	}
}

func writeConfig(t *testing.T, p Paths, c Config) {
	t.Helper()
	data, err := c.Render()
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if _, err := WriteFile(p.ConfigFile, data, ModeConfig); err != nil {
		t.Fatal(err)
	}
}

func tempPaths(t *testing.T) Paths {
	t.Helper()
	return NewPaths(filepath.Join(t.TempDir(), "root"), "")
}
