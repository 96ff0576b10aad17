package etcd

import (
	"crypto/tls"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/etcd/client/pkg/v3/tlsutil"
)

func TestValidateCipherSuites(t *testing.T) {
	tests := []struct {
		name  string
		in    []string
		error string
	}{
		{"empty means defaults", nil, ""},
		{"classic defaults", DefaultCipherSuites, ""},
		{"legacy chacha alias", []string{"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"}, ""},
		{"unknown", []string{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "RC4"}, "unknown cipher suite \"RC4\""},
		{"insecure", []string{"TLS_RSA_WITH_RC4_128_SHA"}, "insecure"},
		{"TLS 1.3 only", []string{"TLS_AES_128_GCM_SHA256"}, "TLS 1.3 only"},
		{"wrong case", []string{"tls_ecdhe_ecdsa_with_aes_128_gcm_sha256"}, "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateCipherSuites(tc.in)
			if tc.error == "" {
				if err != nil {
					t.Fatalf("ValidateCipherSuites = %v", err)
				}
				// Whatever we accept, etcd must accept too.
				if _, err := tlsutil.GetCipherSuites(tc.in); err != nil {
					t.Fatalf("etcd refuses what we accept: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Fatalf("ValidateCipherSuites = %v, want %q", err, tc.error)
			}
		})
	}
}

// Every secure TLS 1.2 suite Go knows is accepted, by us and by etcd.
func TestValidateCipherSuitesAcceptsGoSuites(t *testing.T) {
	for _, c := range tls.CipherSuites() {
		if !slices.Contains(c.SupportedVersions, tls.VersionTLS12) {
			continue
		}
		if err := ValidateCipherSuites([]string{c.Name}); err != nil {
			t.Errorf("%s: %v", c.Name, err)
		}
		if _, ok := tlsutil.GetCipherSuite(c.Name); !ok {
			t.Errorf("etcd does not know %s", c.Name)
		}
	}
}

func TestParseCipherSuiteList(t *testing.T) {
	got := ParseCipherSuiteList(" TLS_A, ,TLS_B ,")
	if strings.Join(got, "|") != "TLS_A|TLS_B" {
		t.Errorf("ParseCipherSuiteList = %q", got)
	}
	if ParseCipherSuiteList("") != nil {
		t.Error("empty option should mean no list")
	}
}
