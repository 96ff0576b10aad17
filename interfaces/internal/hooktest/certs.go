package hooktest

import (
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/pki"
)

// ClientCert returns a self-signed end-entity client certificate with common name cn, as PEM.
func ClientCert(t *testing.T, cn string) string {
	t.Helper()
	kp, err := pki.SelfSigned{CommonName: cn, NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour)}.Issue()
	if err != nil {
		t.Fatal(err)
	}
	return string(kp.CertPEM)
}
