package etcdclient

import (
	"errors"
	"fmt"
	"strings"

	"github.com/etcd-charm/etcd/interfaces/etcd"
	"github.com/gruyaume/goops"
)

// Wire names of the etcd_client interface (v0 and v1), as the charm-relation-interfaces spec spells them.
const (
	keyVersion          = "version"
	keyRequests         = "requests"
	keyData             = "data"
	keyPrefix           = "prefix"
	keyResource         = "resource"
	keyRequestID        = "request-id"
	keySalt             = "salt"
	keySecretMTLS       = "secret-mtls"
	keyMTLSCert         = "mtls-cert"
	keyRequestedSecrets = "requested-secrets"
	keyProvidedSecrets  = "provided-secrets"
	keyEncryptionSecret = "encryption-secret"
	keyEncryptionKey    = "encryption-key"
	keyEndpoints        = "endpoints"
	keySecretUser       = "secret-user"
	keySecretTLS        = "secret-tls"
	keyUsername         = "username"
	keyURIs             = "uris"
	keyTLSCA            = "tls-ca"
	keyTLS              = "tls"

	// V0 and V1 are the contract versions; a requirer without a `version` key speaks v0.
	V0 = "v0"
	V1 = "v1"
)

// relationNumber is the numeric part of a goops relation ID ("etcd-client:7" → "7"): secret labels and
// request keys use the number, as the Python libraries do.
func relationNumber(relationID string) string {
	if i := strings.LastIndex(relationID, ":"); i >= 0 {
		return relationID[i+1:]
	}
	return relationID
}

// relationEndpoint is the endpoint part of a goops relation ID ("etcd-client:7" → "etcd-client").
func relationEndpoint(relationID string) string {
	if i := strings.LastIndex(relationID, ":"); i >= 0 {
		return relationID[:i]
	}
	return ""
}

// secretLabel builds `<endpoint>.<relation-number>[.<request-id>].<group>.secret`.
func secretLabel(relationID, requestID, group string) string {
	parts := []string{relationEndpoint(relationID), relationNumber(relationID)}
	if requestID != "" {
		parts = append(parts, requestID)
	}
	return strings.Join(append(parts, group, "secret"), ".")
}

// fullSecretURI turns whatever form Juju gave (secret:ID, secret://MODEL/ID, a bare ID) into the
// secret://<model-uuid>/<id> form, the only one that also resolves across models.
func fullSecretURI(ref string) string {
	id := strings.TrimPrefix(strings.TrimSpace(ref), "secret:")
	if strings.HasPrefix(id, "//") {
		return "secret:" + id
	}
	uuid := goops.ReadEnv().ModelUUID
	if uuid == "" {
		return "secret:" + id
	}
	return "secret://" + uuid + "/" + id
}

// errSecretNotFound marks a label or URI that resolves to no secret this unit can see.
var errSecretNotFound = errors.New("secret not found")

// ownedSecret returns the URI and latest content of the secret this application owns under label.
func ownedSecret(label string) (uri string, content map[string]string, err error) {
	info, err := goops.GetSecretInfoByLabel(label)
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return "", nil, errSecretNotFound
		}
		return "", nil, fmt.Errorf("looking up secret %q: %w", label, err)
	}
	for id := range info {
		uri = fullSecretURI(id)
	}
	content, err = goops.GetSecretByLabel(label, false, false)
	if err != nil {
		return "", nil, fmt.Errorf("reading secret %q: %w", label, err)
	}
	return uri, content, nil
}

// ensureSecret creates (and grants to the relation) or updates the application-owned secret labelled
// label, writing a new revision only when content differs, and returns its full URI.
func ensureSecret(relationID, label string, content map[string]string) (string, error) {
	uri, current, err := ownedSecret(label)
	switch {
	case errors.Is(err, errSecretNotFound):
		out, err := goops.AddSecret(&goops.AddSecretOptions{Content: content, Label: label, Owner: goops.OwnerApplication})
		if err != nil {
			return "", fmt.Errorf("creating secret %q: %w", label, err)
		}
		uri = fullSecretURI(out)
		if err := goops.GrantSecretToRelation(uri, relationID); err != nil {
			return "", fmt.Errorf("granting secret %q to relation %s: %w", label, relationID, err)
		}
		return uri, nil
	case err != nil:
		return "", err
	}
	if !sameContent(current, content) {
		if err := goops.SetSecret(&goops.SetSecretOptions{ID: uri, Content: content}); err != nil {
			return "", fmt.Errorf("updating secret %q: %w", label, err)
		}
	}
	return uri, nil
}

func sameContent(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// remoteAppData names the other application on the relation and reads its databag. The provider's leader
// reads every relation in every hook, so this is kept to two hook tool calls.
func remoteAppData(relationID string) (string, map[string]string, error) {
	app, err := goops.GetRelationApp(relationID)
	if err != nil {
		return "", nil, fmt.Errorf("finding the remote application of relation %s: %w", relationID, err)
	}
	if app == "" {
		return "", nil, nil
	}
	bag, err := goops.GetAppRelationData(relationID, app)
	if err != nil {
		return "", nil, fmt.Errorf("reading the remote application databag of relation %s: %w", relationID, err)
	}
	return app, bag, nil
}

// localAppData reads our own application databag on the relation (leader only in non-peer relations).
func localAppData(relationID string) (map[string]string, error) {
	bag, err := goops.GetAppRelationData(relationID, goops.ReadEnv().UnitName)
	if err != nil {
		return nil, fmt.Errorf("reading our application databag on relation %s: %w", relationID, err)
	}
	return bag, nil
}

// setLocalAppData writes only the keys that change, so an unchanged publication wakes nobody.
func setLocalAppData(relationID string, want map[string]string) error {
	current, err := localAppData(relationID)
	if err != nil {
		return err
	}
	changes := etcd.Changes(current, want)
	if len(changes) == 0 {
		return nil
	}
	if err := goops.SetAppRelationData(relationID, changes); err != nil {
		return fmt.Errorf("writing our application databag on relation %s: %w", relationID, err)
	}
	return nil
}
