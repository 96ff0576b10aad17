package etcdclient

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/etcd-charm/etcd/interfaces/etcd"
	"github.com/gruyaume/goops"
)

// Requirer is the consuming side of etcd_client, for Go charms.
type Requirer struct {
	Endpoint string // this charm's endpoint, e.g. "etcd-client"
	Version  string // V0 (default) or V1
}

func (r Requirer) version() string {
	if r.Version == "" {
		return V0
	}
	return r.Version
}

// RelationIDs lists the relations on the endpoint.
func (r Requirer) RelationIDs() ([]string, error) {
	return etcd.Requirer{Endpoint: r.Endpoint}.RelationIDs()
}

// requestedSecrets are the provider fields a v0 requirer asks to receive as secrets.
var requestedSecrets = []string{"username", "uris", "tls", "tls-ca"}

// RequestID is the v1 request-id of a prefix: the first 16 hex digits of sha256("<prefix>:<salt>").
func RequestID(prefix, salt string) string {
	sum := sha256.Sum256([]byte(prefix + ":" + salt))
	return hex.EncodeToString(sum[:])[:16]
}

// Request asks the provider for prefix, authenticating with certPEM (leader only). The certificate goes in
// an application-owned secret {"mtls-cert": PEM} granted to the relation; calling Request again with another
// certificate writes a new revision of the same secret, which is how a renewal reaches the provider (as
// secret-changed). Unchanged values are not rewritten.
func (r Requirer) Request(relationID, prefix, certPEM string) error {
	if certPEM == "" {
		return fmt.Errorf("requesting %q on relation %s: no client certificate given", prefix, relationID)
	}
	if r.version() != V1 {
		uri, err := ensureSecret(relationID, secretLabel(relationID, "", "mtls"), map[string]string{keyMTLSCert: certPEM})
		if err != nil {
			return err
		}
		want := map[string]string{keyPrefix: prefix, keySecretMTLS: uri,
			keyRequestedSecrets: jsonList(requestedSecrets), keyProvidedSecrets: jsonList([]string{keyMTLSCert})}
		return setLocalAppData(relationID, want)
	}
	ours, err := localAppData(relationID)
	if err != nil {
		return err
	}
	salt := previousSalt(ours[keyRequests], prefix)
	if salt == "" {
		if salt, err = newSalt(); err != nil {
			return err
		}
	}
	id := RequestID(prefix, salt)
	uri, err := ensureSecret(relationID, secretLabel(relationID, id, "mtls"), map[string]string{keyMTLSCert: certPEM})
	if err != nil {
		return err
	}
	requests, err := json.Marshal([]map[string]any{{
		keyResource: prefix, keyRequestID: id, keySalt: salt, keySecretMTLS: uri,
		"extra-user-roles": nil, "extra-group-roles": nil, "entity-type": nil, "entity-permissions": nil,
		"external-node-connectivity": false,
	}})
	if err != nil {
		return fmt.Errorf("encoding the v1 request: %w", err)
	}
	return setLocalAppData(relationID, map[string]string{keyVersion: V1, keyRequests: string(requests)})
}

// previousSalt keeps the request-id stable across calls for the same prefix.
func previousSalt(requests, prefix string) string {
	var elems []map[string]any
	if json.Unmarshal([]byte(requests), &elems) != nil {
		return ""
	}
	for _, e := range elems {
		if e[keyResource] == prefix {
			s, _ := e[keySalt].(string)
			return s
		}
	}
	return ""
}

// newSalt returns 16 random alphanumerics, the shape the Python library uses.
func newSalt() (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a request salt: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

func jsonList(items []string) string {
	out, _ := json.Marshal(items) // a list of strings always encodes
	return string(out)
}

// Release removes the certificate secrets this application made for the relation (leader, on its
// relation-broken): their grant went with the relation and nobody else reads them.
func (r Requirer) Release(relationID string) error {
	prefix := relationEndpoint(relationID) + "." + relationNumber(relationID) + "."
	return removeOwnedSecrets(func(label string) bool {
		return strings.HasPrefix(label, prefix) && strings.HasSuffix(label, ".mtls.secret")
	})
}

// Grant is what the provider published for our request.
type Grant struct {
	Endpoints []string // host:port
	URIs      []string // https://host:port
	Version   string
	Username  string
	TLSCA     string
	Prefix    string
}

// Ready reports whether the grant is complete enough to connect.
func (g Grant) Ready() bool {
	return len(g.Endpoints) > 0 && g.Username != "" && g.TLSCA != ""
}

// Grant reads what the provider published for this relation: its databag and the user and tls secrets,
// refreshed so a new revision (new members, a new CA) is seen. Any unit may call it. Before the provider
// answered, it returns an empty Grant and no error.
func (r Requirer) Grant(relationID string) (Grant, error) {
	_, bag, err := remoteAppData(relationID)
	if err != nil {
		return Grant{}, err
	}
	resp := map[string]string{}
	if bag[keyVersion] == V1 {
		var responses []map[string]any
		if s := bag[keyRequests]; s != "" {
			if err := json.Unmarshal([]byte(s), &responses); err != nil {
				return Grant{}, fmt.Errorf("relation %s: the provider's `requests` is not a JSON list: %w", relationID, err)
			}
		}
		if len(responses) > 0 {
			for k, v := range responses[0] {
				if s, ok := v.(string); ok {
					resp[k] = s
				}
			}
		}
		resp[keyPrefix] = resp[keyResource]
	} else {
		resp = bag
	}
	g := Grant{Endpoints: splitList(resp[keyEndpoints]), Version: resp[keyVersion], Prefix: resp[keyPrefix]}
	if uri := resp[keySecretUser]; uri != "" {
		user, err := readGranted(uri)
		if err != nil {
			return Grant{}, fmt.Errorf("relation %s: reading secret-user: %w", relationID, err)
		}
		g.Username, g.URIs = user[keyUsername], splitList(user[keyURIs])
	}
	if uri := resp[keySecretTLS]; uri != "" {
		tls, err := readGranted(uri)
		if err != nil {
			return Grant{}, fmt.Errorf("relation %s: reading secret-tls: %w", relationID, err)
		}
		g.TLSCA = tls[keyTLSCA]
	}
	return g, nil
}

// readGranted reads the latest revision of a secret the provider granted us.
func readGranted(uri string) (map[string]string, error) {
	content, err := goops.GetSecretByID(uri, false, true)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("secret %s is not readable (not granted yet?)", uri), err)
	}
	return content, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
