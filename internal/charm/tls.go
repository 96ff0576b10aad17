package charm

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/charm/plan"
	"github.com/etcd-charm/etcd/internal/etcd"
	"github.com/etcd-charm/etcd/internal/pki"
)

const (
	caSecretLabel   = "etcd-ca"
	rootSecretLabel = "etcd-root"
	rootUser        = "root"
)

// ensureCA returns the cluster CA, creating it (leader only) on first use. The key lives only in an
// application-owned secret, so any future leader can sign.
func (c *unitContext) ensureCA() (pki.KeyPair, error) {
	if c.ca.KeyPEM != nil {
		return c.ca, nil
	}
	if id := c.peers.App[keyCASecret]; id != "" {
		content, err := goops.GetSecretByID(id, false, false)
		if err != nil {
			return pki.KeyPair{}, fmt.Errorf("reading the CA secret: %w", err)
		}
		c.ca = pki.KeyPair{CertPEM: []byte(content["certificate"]), KeyPEM: []byte(content["private-key"])}
		return c.ca, nil
	}
	if !c.leader {
		return pki.KeyPair{}, errors.New("the CA does not exist yet and only the leader creates it")
	}
	ca, err := pki.NewCA("etcd charm CA ("+c.env.ModelName+"/"+appName(c.unit)+")", pki.CALifetime)
	if err != nil {
		return pki.KeyPair{}, fmt.Errorf("creating the CA: %w", err)
	}
	id, err := goops.AddSecret(&goops.AddSecretOptions{
		Content:     map[string]string{"certificate": string(ca.CertPEM), "private-key": string(ca.KeyPEM)},
		Description: "etcd cluster certificate authority",
		Label:       caSecretLabel,
		Owner:       goops.OwnerApplication,
	})
	if err != nil {
		return pki.KeyPair{}, fmt.Errorf("storing the CA in a secret: %w", err)
	}
	if err := c.peers.setApp(map[string]string{keyCASecret: strings.TrimSpace(id), keyCACert: string(ca.CertPEM)}); err != nil {
		return pki.KeyPair{}, err
	}
	c.ca = ca
	return ca, nil
}

// ensureRootSecret creates the root user's password once (leader only); it lives only in a secret.
func (c *unitContext) ensureRootSecret() error {
	if c.peers.App[keyRootSecret] != "" {
		return nil
	}
	password, err := randomToken(32)
	if err != nil {
		return err
	}
	id, err := goops.AddSecret(&goops.AddSecretOptions{
		Content:     map[string]string{"username": rootUser, "password": password},
		Description: "etcd root user",
		Label:       rootSecretLabel,
		Owner:       goops.OwnerApplication,
	})
	if err != nil {
		return fmt.Errorf("storing the root password in a secret: %w", err)
	}
	return c.peers.setApp(map[string]string{keyRootSecret: strings.TrimSpace(id)})
}

func (c *unitContext) rootPassword() (string, error) {
	id := c.peers.App[keyRootSecret]
	if id == "" {
		return "", errors.New("the root secret does not exist yet")
	}
	content, err := goops.GetSecretByID(id, false, false)
	if err != nil {
		return "", fmt.Errorf("reading the root secret: %w", err)
	}
	return content["password"], nil
}

// memberSANs are the names clients may use to reach this member: its ingress and bind addresses, the
// hostname, loopback and whatever the operator added.
func (c *unitContext) memberSANs() []string {
	sans := []string{c.address, "127.0.0.1", "localhost"}
	if nw := c.network; nw != nil {
		for _, b := range nw.BindAddresses {
			for _, a := range b.Addresses {
				sans = append(sans, a.Value)
			}
		}
		sans = append(sans, nw.IngressAddresses...)
	}
	if h, err := os.Hostname(); err == nil && validDNSName(h) {
		sans = append(sans, h)
	}
	sans = append(sans, c.cfg.extraSANs()...)
	slices.Sort(sans)
	return slices.Compact(sans)
}

// ensureKeysAndCSRs makes this unit's keys (once; they never leave the unit) and publishes CSRs whenever the
// published ones no longer cover what the unit needs. Renewal reuses the key, so the certificate file is the
// only thing that changes under a running etcd.
func (c *unitContext) ensureKeysAndCSRs() error {
	memberKey, err := c.ensureKey(c.paths.MemberKey)
	if err != nil {
		return err
	}
	clientKey, err := c.ensureKey(c.paths.RootClientKey)
	if err != nil {
		return err
	}
	sans := c.memberSANs()
	issued := c.peers.certificates()[c.unit]
	want := map[string]string{}
	if !csrCovers(c.peers.Self[keyMemberCSR], memberKey, plan.MemberCommonName, sans) || c.needsRenewal(issued.Member) {
		csr, err := pki.NewCSR(memberKey, plan.MemberCommonName, sans)
		if err != nil {
			return fmt.Errorf("creating the member CSR: %w", err)
		}
		want[keyMemberCSR] = string(csr)
	}
	if !csrCovers(c.peers.Self[keyClientCSR], clientKey, rootUser, nil) || c.needsRenewal(issued.Client) {
		csr, err := pki.NewCSR(clientKey, rootUser, nil)
		if err != nil {
			return fmt.Errorf("creating the client CSR: %w", err)
		}
		want[keyClientCSR] = string(csr)
	}
	gatewayKey, err := c.ensureKey(c.paths.GatewayKey)
	if err != nil {
		return err
	}
	if !csrCovers(c.peers.Self[keyGatewayCSR], gatewayKey, "", nil) || c.needsRenewal(issued.Gateway) {
		csr, err := pki.NewAnonymousCSR(gatewayKey)
		if err != nil {
			return fmt.Errorf("creating the gateway CSR: %w", err)
		}
		want[keyGatewayCSR] = string(csr)
	}
	return c.peers.setUnit(want)
}

func (c *unitContext) needsRenewal(certPEM string) bool {
	if certPEM == "" {
		return false
	}
	renew, err := pki.NeedsRenewal([]byte(certPEM), c.now)
	return err == nil && renew
}

func (c *unitContext) ensureKey(path string) ([]byte, error) {
	if key, err := os.ReadFile(path); err == nil {
		return key, nil
	}
	key, err := pki.NewPrivateKey()
	if err != nil {
		return nil, fmt.Errorf("creating a private key: %w", err)
	}
	if _, err := etcd.WriteFile(path, key, 0o600); err != nil {
		return nil, err
	}
	return key, nil
}

// csrCovers reports whether a published CSR is for this key, this CN and at least these SANs.
func csrCovers(csrPEM string, keyPEM []byte, cn string, sans []string) bool {
	if csrPEM == "" {
		return false
	}
	if ok, err := pki.CSRMatches([]byte(csrPEM), keyPEM); err != nil || !ok {
		return false
	}
	csr, err := pki.ParseCSR([]byte(csrPEM))
	if err != nil || csr.Subject.CommonName != cn {
		return false
	}
	return coversAll(csr.DNSNames, csr.IPAddresses, sans)
}

func coversAll(dns []string, ips []net.IP, sans []string) bool {
	for _, s := range sans {
		if ip := net.ParseIP(s); ip != nil {
			if !slices.ContainsFunc(ips, ip.Equal) {
				return false
			}
		} else if !slices.Contains(dns, s) {
			return false
		}
	}
	return true
}

// signPending signs every unit's CSR that has no current certificate (leader only): new units, changed SANs,
// renewals. Certificates are public, so they travel in the peer application bag.
func (c *unitContext) signPending() error {
	units, err := c.peers.Units()
	if err != nil {
		return err
	}
	certs := c.peers.certificates()
	bags := map[string]map[string]string{c.unit: c.peers.Self}
	for u, bag := range units {
		bags[u] = bag
	}
	changed := false
	for unit, bag := range bags {
		cur := certs[unit]
		member, mchanged, err := c.signIfNeeded(bag[keyMemberCSR], cur.Member, pki.ServerAndClient)
		if err != nil {
			goops.LogWarningf("not signing the member certificate of %s: %v", unit, err)
			continue
		}
		client, cchanged, err := c.signIfNeeded(bag[keyClientCSR], cur.Client, pki.Client)
		if err != nil {
			goops.LogWarningf("not signing the client certificate of %s: %v", unit, err)
			continue
		}
		// The gateway certificate is not needed to run (without it, etcd's gateway presents the member
		// certificate), so a request the leader cannot sign holds nothing else back.
		gateway, gchanged, err := c.signIfNeeded(bag[keyGatewayCSR], cur.Gateway, pki.AnonymousClient)
		if err != nil {
			goops.LogWarningf("not signing the gateway certificate of %s: %v", unit, err)
			gateway, gchanged = cur.Gateway, false
		}
		if mchanged || cchanged || gchanged {
			certs[unit] = issuedCerts{Member: member, Client: client, Gateway: gateway}
			changed = true
		}
	}
	// Certificates of units that left are dropped so the bag does not grow forever.
	for unit := range certs {
		if _, ok := bags[unit]; !ok {
			delete(certs, unit)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	raw, err := json.Marshal(certs)
	if err != nil {
		return fmt.Errorf("encoding certificates: %w", err)
	}
	return c.peers.setApp(map[string]string{keyCertificates: string(raw)})
}

func (c *unitContext) signIfNeeded(csrPEM, certPEM string, profile pki.Profile) (string, bool, error) {
	if csrPEM == "" {
		return certPEM, false, nil
	}
	if certPEM != "" && certAnswersCSR(certPEM, csrPEM) && !c.needsRenewal(certPEM) &&
		pki.Verify([]byte(c.peers.App[keyCACert]), []byte(certPEM), x509.ExtKeyUsageClientAuth, c.now) == nil {
		return certPEM, false, nil
	}
	ca, err := c.ensureCA() // the key is read only when there is something to sign
	if err != nil {
		return "", false, err
	}
	validity := pki.MemberLifetime
	if profile == pki.Client {
		validity = pki.ClientLifetime
	}
	cert, err := pki.Sign(ca, []byte(csrPEM), profile, validity)
	if err != nil {
		return "", false, err
	}
	return string(cert), true, nil
}

// certAnswersCSR reports whether the certificate was issued for this CSR: same key, subject and SANs.
func certAnswersCSR(certPEM, csrPEM string) bool {
	cert, err := pki.ParseCertificate([]byte(certPEM))
	if err != nil {
		return false
	}
	csr, err := pki.ParseCSR([]byte(csrPEM))
	if err != nil {
		return false
	}
	certKey, err1 := x509.MarshalPKIXPublicKey(cert.PublicKey)
	csrKey, err2 := x509.MarshalPKIXPublicKey(csr.PublicKey)
	if err1 != nil || err2 != nil || !bytes.Equal(certKey, csrKey) {
		return false
	}
	if cert.Subject.CommonName != csr.Subject.CommonName {
		return false
	}
	var want []string
	want = append(want, csr.DNSNames...)
	for _, ip := range csr.IPAddresses {
		want = append(want, ip.String())
	}
	return coversAll(cert.DNSNames, cert.IPAddresses, want)
}

// installCertificates writes the CA and this unit's signed certificates next to its keys. etcd reads them per
// handshake, so a renewed certificate takes effect without a restart. It reports whether the unit has a
// complete, matching set.
func (c *unitContext) installCertificates() (bool, error) {
	caPEM := c.peers.App[keyCACert]
	issued := c.peers.certificates()[c.unit]
	if caPEM == "" || issued.Member == "" || issued.Client == "" {
		return false, nil
	}
	for _, f := range []struct{ cert, key string }{
		{issued.Member, c.paths.MemberKey}, {issued.Client, c.paths.RootClientKey},
	} {
		key, err := os.ReadFile(f.key)
		if err != nil {
			return false, fmt.Errorf("reading %s: %w", f.key, err)
		}
		if ok, err := pki.CertMatchesKey([]byte(f.cert), key); err != nil || !ok {
			return false, nil // signed for an older key or CSR; the leader will sign the current one
		}
	}
	for _, f := range []struct {
		path string
		data string
	}{
		{c.paths.CACert, caPEM}, {c.paths.ServerCA, c.serverCABundle()},
		{c.paths.MemberCert, issued.Member}, {c.paths.RootClientCert, issued.Client},
	} {
		if _, err := etcd.WriteFile(f.path, []byte(f.data), 0o644); err != nil {
			return false, err
		}
	}
	if err := c.installGatewayCertificate(issued.Gateway); err != nil {
		return false, err
	}
	if cert, err := pki.ParseCertificate([]byte(issued.Member)); err == nil {
		if err := c.peers.setUnit(map[string]string{keyMemberCN: cert.Subject.CommonName}); err != nil {
			return false, err
		}
	}
	return true, nil
}

// installGatewayCertificate writes the CN-less certificate etcd's gRPC gateway presents on its own
// connection, once one matches this unit's key. etcd is configured to present it only while the file is
// there (gatewayClientTLS), and reads it per handshake, so a renewal needs no restart.
func (c *unitContext) installGatewayCertificate(certPEM string) error {
	if certPEM == "" {
		return nil
	}
	key, err := os.ReadFile(c.paths.GatewayKey)
	if err != nil {
		return fmt.Errorf("reading %s: %w", c.paths.GatewayKey, err)
	}
	if ok, err := pki.CertMatchesKey([]byte(certPEM), key); err != nil || !ok {
		return nil // signed for an older key; the leader will sign the current one
	}
	_, err = etcd.WriteFile(c.paths.GatewayCert, []byte(certPEM), 0o644)
	return err
}

// gatewayClientTLS names the gateway's certificate for etcd's client listener once it is installed. Until
// then etcd's gateway presents the member certificate, whose CN names no etcd user (member names are
// reserved), so a gateway request without a token is refused either way; with it, the connection carries
// no name at all.
func (c *unitContext) gatewayClientTLS(f etcd.TLSFiles) etcd.TLSFiles {
	if _, err := os.Stat(c.paths.GatewayCert); err != nil {
		return f
	}
	if _, err := os.Stat(c.paths.GatewayKey); err != nil {
		return f
	}
	f.ClientCertFile, f.ClientKeyFile = c.paths.GatewayCert, c.paths.GatewayKey
	return f
}
