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
	"unicode/utf8"

	"github.com/etcd-charm/etcd/internal/cluster"
)

// ClientEndpoint is the etcd_client endpoint: its requirers bring their own certificate and ask for one prefix.
// The classic endpoints (db, proxy) get an identity the charm issues, with the whole keyspace.
const ClientEndpoint = "etcd-client"

// DBEndpoint is the classic etcd interface's endpoint, whose consumers (kube-apiserver above all) expect to
// administer the cluster: kube-apiserver compacts, and etcd allows compaction to its root role only.
const DBEndpoint = "db"

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
	Admin       bool   `json:"admin,omitempty"`       // db with db_admin: the user holds etcd's root role too
}

// Roles are the etcd roles the grant's user holds: its own, and root for an administering db consumer.
func (g Grant) Roles() []string {
	if g.Admin {
		roles := []string{cluster.RootRole, g.User}
		slices.Sort(roles)
		return roles
	}
	return []string{g.User}
}

// CoordinationPrefix is where the charm keeps its own coordination (restart turn, trust generation,
// application status). No client role covers it: a grant whose range contains it is split around it, and no
// prefix inside it is granted.
const CoordinationPrefix = "/etcd-charm/"

// Permissions are what the grant's role allows: its prefix, or every key for the classic consumers, less
// the charm's coordination range.
func (g Grant) Permissions() []cluster.Permission {
	if g.hasPrefix() {
		return outsideCoordination(g.Prefix, prefixEnd(g.Prefix))
	}
	return outsideCoordination(WholeKeyspace.Key, WholeKeyspace.RangeEnd)
}

// hasPrefix: etcd-client requirers and gateway users hold one prefix; db and proxy hold the keyspace.
func (g Grant) hasPrefix() bool { return g.Endpoint == ClientEndpoint || g.Endpoint == GatewayEndpoint }

// WholeKeyspace is etcd's encoding of "every key": from "\x00" with an open range end.
var WholeKeyspace = cluster.Permission{Key: "\x00", RangeEnd: "\x00", Type: cluster.ReadWrite}

// outsideCoordination is read-write on [key, end) less CoordinationPrefix's range; end "\x00" is open.
func outsideCoordination(key, end string) []cluster.Permission {
	cKey, cEnd := CoordinationPrefix, prefixEnd(CoordinationPrefix)
	contains := key <= cKey && (end == "\x00" || cEnd <= end)
	if !contains {
		if end == prefixEnd(key) {
			return []cluster.Permission{cluster.PrefixPermission(key, cluster.ReadWrite)}
		}
		return []cluster.Permission{{Key: key, RangeEnd: end, Type: cluster.ReadWrite}}
	}
	var perms []cluster.Permission
	if key < cKey {
		perms = append(perms, cluster.Permission{Key: key, RangeEnd: cKey, Type: cluster.ReadWrite})
	}
	if end == "\x00" || cEnd < end {
		perms = append(perms, cluster.Permission{Key: cEnd, RangeEnd: end, Type: cluster.ReadWrite})
	}
	return perms
}

// prefixEnd is the end of the range of keys that start with prefix (clientv3.GetPrefixRangeEnd): "\x00",
// open, when no key is greater.
func prefixEnd(prefix string) string {
	end := []byte(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return string(end[:i+1])
		}
	}
	return "\x00"
}

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
}

// ClientPolicy is what decides, besides the requests themselves, whom the cluster serves.
type ClientPolicy struct {
	// EtcdUsers are the users etcd has now: a CN that names one the charm does not manage is refused, never
	// adopted.
	EtcdUsers []string
	// MemberNamePrefix is how this application's member names begin ("etcd-" for etcd-0, etcd-1, ...): no
	// client may take such a name, now or for a unit yet to come.
	MemberNamePrefix string
	// NestedPrefixes serves a prefix that contains, or lies inside, another client's different prefix
	// (charmed-etcd's behaviour). Off, only identical prefixes are shared.
	NestedPrefixes bool
	// DBAdmin gives db consumers etcd's root role besides their whole-keyspace role, so kube-apiserver can
	// compact (config db_admin).
	DBAdmin bool
}

// Bounds on what a requirer may send; anything longer is refused, and only an excerpt of it is ever shown.
const (
	MaxPrefixBytes      = 512
	MaxCertificateBytes = 16 << 10
	maxCommonNameBytes  = 64 // X.509's upper bound for a CN
)

// Clients decides, without touching anything, which clients the cluster serves. Every grant in place
// stands while its request is judged: a new or changed request is weighed against all of them, so no
// request takes an established client's CN or prefix away, and a refused change keeps the client's last
// good grant (a requirer's typo does not cut it off). A grant goes only when its relation or request goes,
// the requirer withdraws its certificate, or it changes its CN (the old user goes with its role).
func Clients(current Registry, reqs []ClientRequest, policy ClientPolicy, now time.Time) ClientPlan {
	plan := ClientPlan{Grants: Registry{}}
	byKey := map[string]ClientRequest{}
	for _, r := range reqs {
		byKey[r.Key] = r
	}
	for key, g := range current {
		// Gateway users are the operator's (add-gateway-user, remove-gateway-user), not a relation's.
		if _, ok := byKey[key]; ok || g.Endpoint == GatewayEndpoint {
			plan.Grants[key] = g
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
	for _, key := range slices.Sorted(maps.Keys(byKey)) {
		req := byKey[key]
		old, had := current[key]
		if req.Endpoint == ClientEndpoint && req.Problem == "" && req.CertPEM == "" {
			// Not asked yet, or withdrawn: a requirer may write its prefix before its certificate, and one
			// that takes its certificate back asks to be served no more.
			if had {
				plan.Revoke = append(plan.Revoke, old)
				delete(plan.Grants, key)
			}
			continue
		}
		want, reason := plan.decide(req, old, had, policy, managed, now)
		if reason != "" {
			plan.Problems = append(plan.Problems, ClientProblem{RelationID: req.RelationID, App: req.App, Reason: reason})
			continue // a grant in place stays as it was
		}
		if had && old.User != want.User {
			// A new CN is a new identity: the old user goes, with its role; the secrets stay with the relation.
			plan.Revoke = append(plan.Revoke, Grant{Endpoint: old.Endpoint, RelationID: old.RelationID, App: old.App, User: old.User})
		}
		plan.Grants[key] = want
	}
	for _, key := range slices.Sorted(maps.Keys(current)) {
		if _, ok := byKey[key]; !ok && current[key].Endpoint != GatewayEndpoint {
			plan.Revoke = append(plan.Revoke, current[key])
		}
	}
	return plan
}

// decide returns the grant a request gets, or why it gets none, weighed against every other grant the plan
// holds (those in place and those already accepted this hook).
func (plan *ClientPlan) decide(req ClientRequest, old Grant, had bool, policy ClientPolicy,
	managed func(string) bool, now time.Time) (Grant, string) {
	g := Grant{Endpoint: req.Endpoint, RelationID: req.RelationID, App: req.App}
	if req.Endpoint != ClientEndpoint {
		if had {
			g = old
		} else {
			g.User = IssuedUserName(req)
		}
		g.Admin = req.Endpoint == DBEndpoint && policy.DBAdmin
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
	if reason := reservedName(g.User, policy); reason != "" {
		return g, reason
	}
	switch other, sameUser := collision(plan.Grants, req.Key, g.User, g.Prefix, policy); {
	case other == nil:
	case sameUser:
		return g, fmt.Sprintf("the certificate's CN %q already belongs to %s (%s); use a certificate with a unique CN", g.User, other.RelationID, other.App)
	default:
		return g, fmt.Sprintf("prefix %q overlaps prefix %q of %s (%s); request a prefix of its own, the same prefix to share it, or ask the operator to set allow_nested_prefixes", g.Prefix, other.Prefix, other.RelationID, other.App)
	}
	if slices.Contains(policy.EtcdUsers, g.User) && !managed(g.User) {
		return g, fmt.Sprintf("an etcd user named %q already exists and is not this relation's; use a certificate with a unique CN", g.User)
	}
	return g, ""
}

// collision finds the first grant, other than the one under key, that holds user (sameUser) or a different
// prefix nesting with prefix (unless policy serves nested prefixes); nil when there is none.
func collision(grants Registry, key, user, prefix string, policy ClientPolicy) (other *Grant, sameUser bool) {
	for _, k := range slices.Sorted(maps.Keys(grants)) {
		g := grants[k]
		if k == key {
			continue
		}
		if g.User == user {
			return &g, true
		}
		if g.hasPrefix() && g.Prefix != prefix && prefixesNest(g.Prefix, prefix) && !policy.NestedPrefixes {
			return &g, false
		}
	}
	return nil, false
}

// reservedName refuses the CNs a client may not take: etcd's administrator, this application's member
// names, and the names the charm gives the identities it issues to db and proxy relations.
func reservedName(cn string, policy ClientPolicy) string {
	switch {
	case cn == cluster.RootUser:
		return `the certificate's CN is "root", etcd's administrator; use another CN`
	case cn == MemberCommonName:
		return fmt.Sprintf("the certificate's CN %q is the one the cluster's members present to each other; use another CN", cn)
	case policy.MemberNamePrefix != "" && strings.HasPrefix(cn, policy.MemberNamePrefix) && allDigits(cn[len(policy.MemberNamePrefix):]):
		return fmt.Sprintf("the certificate's CN %q is the name of a member of this cluster; use another CN", cn)
	case issuedNameShape(cn):
		return fmt.Sprintf("the certificate's CN %q has the shape of the names the charm gives db and proxy relations (db-N-app, proxy-N-app); use another CN", cn)
	}
	return ""
}

func issuedNameShape(cn string) bool {
	for _, endpoint := range []string{"db-", "proxy-"} {
		if rest, ok := strings.CutPrefix(cn, endpoint); ok {
			if i := strings.IndexByte(rest, '-'); i > 0 && allDigits(rest[:i]) {
				return true
			}
		}
	}
	return false
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// IssuedUserName is the CN the charm gives a db or proxy relation's identity: unique to the relation, and
// saying where it came from when an operator lists etcd's users.
func IssuedUserName(req ClientRequest) string {
	return strings.ReplaceAll(req.RelationID, ":", "-") + "-" + req.App
}

// CheckPrefix says what is wrong with a requested prefix, or "".
func CheckPrefix(req ClientRequest) string {
	switch {
	case !req.HasPrefix || req.Prefix == "":
		return "no prefix requested; the requirer must set prefix (for example /myapp/)"
	case len(req.Prefix) > MaxPrefixBytes:
		return fmt.Sprintf("prefix %s is longer than %d bytes; request a short prefix such as /myapp/", Excerpt(req.Prefix), MaxPrefixBytes)
	case !strings.HasPrefix(req.Prefix, "/"):
		return fmt.Sprintf("prefix %q does not start with /; request a prefix such as /%s", req.Prefix, strings.TrimLeft(req.Prefix, "/"))
	case !utf8.ValidString(req.Prefix) || strings.ContainsFunc(req.Prefix, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }):
		return fmt.Sprintf("prefix %q contains spaces, control characters or invalid UTF-8; request a plain path such as /myapp/", req.Prefix)
	case strings.HasPrefix(req.Prefix, CoordinationPrefix):
		return fmt.Sprintf("prefix %q lies inside %s, which the charm keeps for its own coordination; request a prefix of your own", req.Prefix, CoordinationPrefix)
	}
	return ""
}

// Excerpt bounds untrusted text for a status line or a log: the first 48 bytes, quoted, and the length.
func Excerpt(s string) string {
	if len(s) <= 48 {
		return fmt.Sprintf("%q", s)
	}
	cut := 48
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:cut], len(s))
}

// prefixesNest reports whether one prefix lies inside the other (identical prefixes included).
func prefixesNest(a, b string) bool {
	return strings.HasPrefix(a, b) || strings.HasPrefix(b, a)
}

// CheckClientCertificate accepts the first certificate of a PEM bundle if it can authenticate a client: an
// end-entity certificate, valid now, with a CN to name the etcd user. It returns the leaf alone, as PEM.
func CheckClientCertificate(bundle string, now time.Time) (*x509.Certificate, string, string) {
	if len(bundle) > MaxCertificateBytes {
		return nil, "", fmt.Sprintf("the client certificate is %d bytes, more than %d; share the client's own certificate (one PEM block)", len(bundle), MaxCertificateBytes)
	}
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
	case len(cert.Subject.CommonName) > maxCommonNameBytes || strings.ContainsFunc(cert.Subject.CommonName, unicode.IsControl):
		return nil, "", fmt.Sprintf("the client certificate's CN %s is longer than %d bytes or has control characters; use a short plain CN", Excerpt(cert.Subject.CommonName), maxCommonNameBytes)
	}
	if len(cert.ExtKeyUsage) > 0 && !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) &&
		!slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return nil, "", "the client certificate is not for client authentication; add extended key usage clientAuth"
	}
	return cert, string(pem.EncodeToMemory(block)), ""
}

// PendingRequirers counts the applications in a goal-state relation entry (application and unit names, each
// with its status) that are not dying and not among heard, the applications whose request was read. Unit
// names ("app/0") are Juju's listing of the units behind an application, not requirers of their own.
func PendingRequirers(related map[string]string, heard []string) int {
	n := 0
	for name, status := range related {
		if strings.Contains(name, "/") || status == "dying" || slices.Contains(heard, name) {
			continue
		}
		n++
	}
	return n
}
