package etcd

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
)

// DefaultCipherSuites is what the charm offers on TLS 1.2 when tls_cipher_suites
// is empty: ECDHE key exchange with AEAD ciphers only (the Mozilla
// "intermediate" TLS 1.2 list, which the classic charm's default also was),
// spelled with Go's names. Go's own default list, which etcd falls back to
// without a list, still has the CBC-SHA1 suites. TLS 1.3 suites are not
// configurable in Go and are always on.
var DefaultCipherSuites = []string{
	"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
	"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
	"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
}

// legacyCipherAliases are names etcd accepts besides Go's own; the classic
// charm's default list used them, so bundles may still carry them.
var legacyCipherAliases = []string{
	"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
	"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
}

// ParseCipherSuiteList splits the comma-separated tls_cipher_suites option,
// dropping blanks, so "" means "etcd's and Go's defaults".
func ParseCipherSuiteList(option string) []string {
	var out []string
	for _, s := range strings.Split(option, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// ValidateCipherSuites accepts the TLS 1.2 suite names Go considers secure
// (tls.CipherSuites), which etcd also accepts. It refuses names etcd would
// accept but that weaken every listener (tls.InsecureCipherSuites), and TLS
// 1.3 suites, which Go does not let anyone configure, so listing them would
// only mislead.
func ValidateCipherSuites(names []string) error {
	for _, name := range names {
		if slices.Contains(legacyCipherAliases, name) {
			continue
		}
		if i := slices.IndexFunc(tls.CipherSuites(), func(c *tls.CipherSuite) bool { return c.Name == name }); i >= 0 {
			if !slices.Contains(tls.CipherSuites()[i].SupportedVersions, tls.VersionTLS12) {
				return fmt.Errorf("cipher suite %q is TLS 1.3 only; TLS 1.3 suites are always enabled and cannot be configured", name)
			}
			continue
		}
		if slices.ContainsFunc(tls.InsecureCipherSuites(), func(c *tls.CipherSuite) bool { return c.Name == name }) {
			return fmt.Errorf("cipher suite %q is insecure and not allowed", name)
		}
		return fmt.Errorf("unknown cipher suite %q (use Go/IANA names such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)", name)
	}
	return nil
}
