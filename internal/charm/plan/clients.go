package plan

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/etcd-charm/etcd/internal/cluster"
)

// ClientEndpoint is the etcd_client endpoint: its requirers bring their own certificate and ask for one prefix.
// The classic endpoints (db, proxy) get an identity the charm issues, with the whole keyspace.
const ClientEndpoint = "etcd-client"

// Grant is one client identity the cluster serves: an etcd user (and role) named after the
// certificate's CN. For db and proxy the charm issued the certificate and keeps it in an application
// secret; for etcd-client the requirer's own leaf certificate is trusted by every member.
type Grant struct {
	Endpoint    string `json:"endpoint"`
	RelationID  string `json:"relation"`
	App         string `json:"app"`
	User        string `json:"user"`
	Prefix      string `json:"prefix,omitempty"`      // etcd-client only; db and proxy get the whole keyspace
	Certificate string `json:"certificate,omitempty"` // etcd-client: the requirer's leaf, pinned in the trust bundle
	SecretID    string `json:"secret,omitempty"`      // db, proxy: the issued certificate and key
}

// permissions are what the grant's role allows: one prefix, or every key for the classic consumers.
func (g Grant) Permissions() []cluster.Permission {
	if g.Endpoint == ClientEndpoint {
		return []cluster.Permission{cluster.PrefixPermission(g.Prefix, cluster.ReadWrite)}
	}
	return []cluster.Permission{WholeKeyspace}
}

// WholeKeyspace is etcd's encoding of "every key": from "\x00" with an open range end.
var WholeKeyspace = cluster.Permission{Key: "\x00", RangeEnd: "\x00", Type: cluster.ReadWrite}

// Registry is the leader's record of every client grant, in the peer application bag so that a new
// leader knows what to revoke when a relation goes.
type Registry map[string]Grant

// TrustBundle is the CA file of the client listener: the cluster CA, then every etcd-client leaf in
// registry order. A leaf in the root pool is accepted as itself, which pins exactly that certificate.
func TrustBundle(caPEM string, r Registry) []byte {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(caPEM))
	b.WriteByte('\n')
	for _, key := range slices.Sorted(maps.Keys(r)) {
		if cert := strings.TrimSpace(r[key].Certificate); cert != "" {
			b.WriteString(cert)
			b.WriteByte('\n')
		}
	}
	return []byte(b.String())
}

// ClientRequest is what one relation (db, proxy) or one etcd_client request asks for, as read this hook.
type ClientRequest struct {
	Key        string // registry key: the relation ID, or "<relation-id>-<request-id>" for etcd_client v1
	Endpoint   string
	RelationID string
	App        string
	// etcd-client only
	Prefix    string
	HasPrefix bool
	CertPEM   string
	Problem   string // what reading the request already found wrong (an unreadable secret, say)
}

// ClientProblem is a request the charm refuses, with what the requirer has to change.
type ClientProblem struct {
	RelationID, App, Reason string
}

func (p ClientProblem) String() string {
	return fmt.Sprintf("%s (%s): %s", p.RelationID, p.App, p.Reason)
}

// ClientPlan is what the leader does about client relations this hook.
type ClientPlan struct {
	Grants   Registry        // the registry afterwards; db and proxy grants without a SecretID need one issued
	Revoke   []Grant         // users, roles and secrets to delete
	Problems []ClientProblem // refused requests, for status

	current Registry
}

// Clients decides, without touching anything, which clients the cluster serves. Existing grants are
// considered first, so a newcomer can never take an established client's CN or prefix away from it.
// etcdUsers are the users etcd has now: a CN that names one we do not manage is refused, never adopted.
func Clients(current Registry, reqs []ClientRequest, etcdUsers []string, now time.Time) ClientPlan {
	plan := ClientPlan{Grants: Registry{}, current: current}
	byKey := map[string]ClientRequest{}
	for _, r := range reqs {
		byKey[r.Key] = r
	}
	owner := map[string]string{} // user → the registry key that holds it, for grants still requested
	for key, g := range current {
		if _, ok := byKey[key]; ok {
			owner[g.User] = key
		}
	}
	managed := func(user string) bool {
		for _, g := range current {
			if g.User == user {
				return true
			}
		}
		return false
	}
	order := slices.Sorted(maps.Keys(byKey))
	slices.SortStableFunc(order, func(a, b string) int { // established first
		_, ea := current[a]
		_, eb := current[b]
		switch {
		case ea && !eb:
			return -1
		case eb && !ea:
			return 1
		}
		return 0
	})
	for _, key := range order {
		req := byKey[key]
		old, had := current[key]
		if req.Endpoint == ClientEndpoint && req.Problem == "" && req.CertPEM == "" {
			// Not asked yet: a requirer may write its prefix before its certificate. Nothing to refuse.
			if had {
				plan.Revoke = append(plan.Revoke, old)
			}
			continue
		}
		want, reason := plan.decide(req, old, had, etcdUsers, owner, managed, now)
		if reason != "" {
			plan.Problems = append(plan.Problems, ClientProblem{RelationID: req.RelationID, App: req.App, Reason: reason})
			if had {
				plan.Revoke = append(plan.Revoke, old)
			}
			continue
		}
		if had && old.User != want.User {
			// A new CN is a new identity: the old user goes, with its role; the secrets stay with the relation.
			plan.Revoke = append(plan.Revoke, Grant{Endpoint: old.Endpoint, RelationID: old.RelationID, App: old.App, User: old.User})
		}
		plan.Grants[key] = want
	}
	for _, key := range slices.Sorted(maps.Keys(current)) {
		if _, ok := byKey[key]; !ok {
			plan.Revoke = append(plan.Revoke, current[key])
		}
	}
	return plan
}

// decide returns the grant a request gets, or why it gets none.
func (plan *ClientPlan) decide(req ClientRequest, old Grant, had bool, etcdUsers []string,
	owner map[string]string, managed func(string) bool, now time.Time) (Grant, string) {
	g := Grant{Endpoint: req.Endpoint, RelationID: req.RelationID, App: req.App}
	if req.Endpoint != ClientEndpoint {
		if had {
			return old, ""
		}
		g.User = IssuedUserName(req)
		return g, ""
	}
	if req.Problem != "" {
		return g, req.Problem
	}
	if reason := CheckPrefix(req); reason != "" {
		return g, reason
	}
	cert, leafPEM, reason := CheckClientCertificate(req.CertPEM, now)
	if reason != "" {
		return g, reason
	}
	g.User, g.Prefix, g.Certificate = cert.Subject.CommonName, req.Prefix, leafPEM
	for _, other := range plan.Grants {
		if other.User == g.User {
			return g, fmt.Sprintf("the certificate's CN %q already belongs to %s (%s); use a certificate with a unique CN", g.User, other.RelationID, other.App)
		}
		if other.Endpoint == ClientEndpoint && prefixesOverlap(other.Prefix, g.Prefix) {
			return g, fmt.Sprintf("prefix %q overlaps prefix %q of %s (%s); request a prefix of its own", g.Prefix, other.Prefix, other.RelationID, other.App)
		}
	}
	if key, ok := owner[g.User]; ok && key != req.Key {
		other := plan.current[key]
		return g, fmt.Sprintf("the certificate's CN %q already belongs to %s (%s); use a certificate with a unique CN", g.User, other.RelationID, other.App)
	}
	switch {
	case g.User == cluster.RootUser:
		return g, `the certificate's CN is "root", etcd's administrator; use another CN`
	case slices.Contains(etcdUsers, g.User) && !managed(g.User):
		return g, fmt.Sprintf("an etcd user named %q already exists and is not this relation's; use a certificate with a unique CN", g.User)
	}
	return g, ""
}

// IssuedUserName is the CN the charm gives a db or proxy relation's identity: unique to the relation, and
// saying where it came from when an operator lists etcd's users.
func IssuedUserName(req ClientRequest) string {
	return strings.ReplaceAll(req.RelationID, ":", "-") + "-" + req.App
}

func CheckPrefix(req ClientRequest) string {
	switch {
	case !req.HasPrefix || req.Prefix == "":
		return "no prefix requested; the requirer must set prefix (for example /myapp/)"
	case !strings.HasPrefix(req.Prefix, "/"):
		return fmt.Sprintf("prefix %q does not start with /; request a prefix such as /%s", req.Prefix, strings.TrimLeft(req.Prefix, "/"))
	case strings.ContainsFunc(req.Prefix, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }):
		return fmt.Sprintf("prefix %q contains spaces or control characters; request a plain path such as /myapp/", req.Prefix)
	}
	return ""
}

func prefixesOverlap(a, b string) bool {
	return strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
}

// CheckClientCertificate accepts the first certificate of a PEM bundle if it can authenticate a client: an
// end-entity certificate, valid now, with a CN to name the etcd user. It returns the leaf alone, as PEM.
func CheckClientCertificate(bundle string, now time.Time) (*x509.Certificate, string, string) {
	block, _ := pem.Decode([]byte(bundle))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, "", "the client certificate is not a PEM certificate; share a PEM-encoded X.509 certificate"
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, "", fmt.Sprintf("the client certificate cannot be parsed (%v); share a valid X.509 certificate", err)
	}
	switch {
	case cert.IsCA || !cert.BasicConstraintsValid:
		return nil, "", "the client certificate is a CA certificate (or lacks basic constraints); share an end-entity certificate with CA:FALSE"
	case cert.KeyUsage&(x509.KeyUsageCertSign|x509.KeyUsageCRLSign) != 0:
		return nil, "", "the client certificate may sign certificates; share an end-entity certificate"
	case now.After(cert.NotAfter):
		return nil, "", fmt.Sprintf("the client certificate expired on %s; renew it", cert.NotAfter.UTC().Format(time.DateOnly))
	case now.Before(cert.NotBefore):
		return nil, "", fmt.Sprintf("the client certificate is not valid before %s; check the requirer's clock", cert.NotBefore.UTC().Format(time.RFC3339))
	case strings.TrimSpace(cert.Subject.CommonName) == "":
		return nil, "", "the client certificate has no CN; etcd names the user after the CN"
	}
	if len(cert.ExtKeyUsage) > 0 && !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) &&
		!slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return nil, "", "the client certificate is not for client authentication; add extended key usage clientAuth"
	}
	return cert, string(pem.EncodeToMemory(block)), ""
}
