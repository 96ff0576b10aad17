package charm

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/pki"
)

func TestGivenACSRWhenTheUnitNeedsMoreSANsThenItNoLongerCovers(t *testing.T) {
	key, err := pki.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	csr, err := pki.NewCSR(key, "etcd-0", []string{"10.0.0.1", "127.0.0.1", "host"})
	if err != nil {
		t.Fatal(err)
	}
	if !csrCovers(string(csr), key, "etcd-0", []string{"127.0.0.1", "host"}) {
		t.Fatal("CSR should cover a subset of its SANs")
	}
	if csrCovers(string(csr), key, "etcd-0", []string{"10.0.0.2"}) {
		t.Fatal("CSR must not cover an address it lacks")
	}
	if csrCovers(string(csr), key, "etcd-1", nil) {
		t.Fatal("CSR must not cover another CN")
	}
	other, _ := pki.NewPrivateKey()
	if csrCovers(string(csr), other, "etcd-0", nil) {
		t.Fatal("CSR must not cover another key")
	}
}

func TestGivenASignedCSRWhenTheCSRChangesThenTheCertificateNoLongerAnswersIt(t *testing.T) {
	ca, err := pki.NewCA("test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := pki.NewPrivateKey()
	csr, _ := pki.NewCSR(key, "etcd-0", []string{"10.0.0.1"})
	cert, err := pki.Sign(ca, csr, pki.ServerAndClient, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !certAnswersCSR(string(cert), string(csr)) {
		t.Fatal("certificate should answer its own CSR")
	}
	wider, _ := pki.NewCSR(key, "etcd-0", []string{"10.0.0.1", "10.0.0.9"})
	if certAnswersCSR(string(cert), string(wider)) {
		t.Fatal("certificate must not answer a CSR with more SANs")
	}
}

func TestGivenClientCredentialsWhenPackedThenTheClassicLayoutIsKept(t *testing.T) {
	ca, _ := pki.NewCA("test", time.Hour)
	kp, err := pki.IssueClient(ca, "root", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := credentialsTarball(kp, ca.CertPEM, []string{"https://10.0.0.1:2379", "https://10.0.0.2:2379"})
	if err != nil {
		t.Fatal(err)
	}
	gz, err := gzip.NewReader(bytes.NewReader(archive))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		files[hdr.Name] = string(data)
	}
	for _, name := range []string{"client.crt", "client.key", "ca.crt", "README.txt"} {
		if files["etcd_credentials/"+name] == "" {
			t.Fatalf("missing etcd_credentials/%s in %v", name, files)
		}
	}
	if !strings.Contains(files["etcd_credentials/README.txt"], "ETCDCTL_ENDPOINTS=https://10.0.0.1:2379,https://10.0.0.2:2379") {
		t.Fatalf("README lacks the endpoints:\n%s", files["etcd_credentials/README.txt"])
	}
	if err := pki.Verify(ca.CertPEM, []byte(files["etcd_credentials/client.crt"]), 0, time.Now()); err != nil {
		// usage 0 is ExtKeyUsageAny
		t.Fatalf("packed certificate does not verify against the packed CA: %v", err)
	}
}
