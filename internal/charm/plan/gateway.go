package plan

import (
	"fmt"
	"slices"
	"strings"
)

// GatewayEndpoint marks the grants of gateway users. etcd's HTTP/JSON gateway refuses every client
// certificate that has a CN, so its clients (Patroni) cannot be served by a relation's CN identity: the
// operator makes them a password user confined to one prefix (add-gateway-user) and hands them a CN-less
// certificate for the TLS handshake. They live in the registry beside the relations' grants, so a
// requirer's prefix or CN is weighed against them, and they go only by remove-gateway-user.
const GatewayEndpoint = "gateway"

// GatewayKey is a gateway user's registry key.
func GatewayKey(user string) string { return GatewayEndpoint + ":" + user }

const maxGatewayUserBytes = 64

// GatewayUser decides whether user may log in through the gateway with read-write on prefix, weighed
// against every grant in place as a new etcd-client request would be. Asking again for an existing gateway
// user changes its prefix (and the caller its password).
func GatewayUser(current Registry, user, prefix string, policy ClientPolicy) (Grant, string) {
	key := GatewayKey(user)
	g := Grant{Endpoint: GatewayEndpoint, RelationID: key, App: "add-gateway-user", User: user, Prefix: prefix}
	switch {
	case user == "":
		return g, "username is empty; name the gateway user, for example patroni"
	case len(user) > maxGatewayUserBytes:
		return g, fmt.Sprintf("username %s is longer than %d bytes", Excerpt(user), maxGatewayUserBytes)
	case strings.Trim(user, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" || user[0] == '-':
		return g, fmt.Sprintf("username %q may hold only letters, digits, '.', '_' and '-', and not begin with '-'", user)
	}
	if reason := reservedName(user, policy); reason != "" {
		return g, strings.Replace(reason, "the certificate's CN", "username", 1)
	}
	if reason := CheckPrefix(ClientRequest{Prefix: prefix, HasPrefix: true}); reason != "" {
		return g, reason
	}
	switch other, sameUser := collision(current, key, user, prefix, policy); {
	case other == nil:
	case sameUser:
		return g, fmt.Sprintf("etcd user %q already belongs to %s (%s); choose another username", user, other.RelationID, other.App)
	default:
		return g, fmt.Sprintf("prefix %q overlaps prefix %q of %s (%s); choose a prefix of its own or the same prefix, or set allow_nested_prefixes", prefix, other.Prefix, other.RelationID, other.App)
	}
	if _, managed := current[key]; slices.Contains(policy.EtcdUsers, user) && !managed {
		return g, fmt.Sprintf("an etcd user named %q already exists and is not a gateway user; choose another username", user)
	}
	return g, ""
}
