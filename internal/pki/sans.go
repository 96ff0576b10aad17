package pki

import (
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"strings"
)

// splitSANs sorts each SAN into IP addresses and DNS names, lower-casing DNS
// names and dropping duplicates so equal sets compare equal.
func splitSANs(sans []string) ([]net.IP, []string, error) {
	var ips []net.IP
	var dns []string
	for _, san := range sans {
		san = strings.TrimSpace(san)
		if san == "" {
			return nil, nil, fmt.Errorf("empty subject alternative name")
		}
		if ip := net.ParseIP(san); ip != nil {
			if !slices.ContainsFunc(ips, ip.Equal) {
				ips = append(ips, ip)
			}
			continue
		}
		name := strings.ToLower(strings.TrimSuffix(san, "."))
		if err := validateDNSName(name); err != nil {
			return nil, nil, err
		}
		if !slices.Contains(dns, name) {
			dns = append(dns, name)
		}
	}
	return ips, dns, nil
}

// validateDNSName accepts host names and a leading wildcard label; anything
// else would be refused by TLS clients later, so reject it at the source.
func validateDNSName(name string) error {
	if len(name) > 253 {
		return fmt.Errorf("DNS name %q is longer than 253 characters", name)
	}
	labels := strings.Split(name, ".")
	for i, label := range labels {
		if label == "*" && i == 0 && len(labels) > 1 {
			continue
		}
		if label == "" || len(label) > 63 {
			return fmt.Errorf("DNS name %q has an empty or over-long label", name)
		}
		for _, r := range label {
			ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
			if !ok {
				return fmt.Errorf("subject alternative name %q is neither an IP address nor a DNS name", name)
			}
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("DNS name %q has a label starting or ending with '-'", name)
		}
	}
	return nil
}

// MissingSANs returns the SANs in sans that the certificate does not carry.
// IPs compare by value (so "::ffff:127.0.0.1" matches "127.0.0.1") and DNS
// names case-insensitively; wildcards in the certificate are not expanded
// because the charm always asks for exact names.
func MissingSANs(certPEM []byte, sans []string) ([]string, error) {
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return nil, err
	}
	ips, dns, err := splitSANs(sans)
	if err != nil {
		return nil, fmt.Errorf("comparing SANs: %w", err)
	}
	var missing []string
	for _, ip := range ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			missing = append(missing, ip.String())
		}
	}
	for _, name := range dns {
		if !slices.ContainsFunc(cert.DNSNames, func(d string) bool { return strings.EqualFold(d, name) }) {
			missing = append(missing, name)
		}
	}
	return missing, nil
}

// CoversSANs reports whether the certificate carries every SAN in sans. The
// charm reissues a member certificate when an address it binds to or
// advertises is not covered.
func CoversSANs(certPEM []byte, sans []string) (bool, error) {
	missing, err := MissingSANs(certPEM, sans)
	if err != nil {
		return false, err
	}
	return len(missing) == 0, nil
}

// SANs lists the IP and DNS SANs of a certificate, IPs first, as strings.
func SANs(cert *x509.Certificate) []string {
	out := make([]string, 0, len(cert.IPAddresses)+len(cert.DNSNames))
	for _, ip := range cert.IPAddresses {
		out = append(out, ip.String())
	}
	return append(out, cert.DNSNames...)
}
