package etcd

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gruyaume/goops"
)

// Databag keys of the `etcd` interface, as the classic charm and its consumers spell them.
const (
	KeyConnectionString = "connection_string"
	KeyVersion          = "version"
	KeyClientCert       = "client_cert"
	KeyClientKey        = "client_key"
	KeyClientCA         = "client_ca"
)

// ProviderData is what every registered etcd unit publishes on each `db` relation.
type ProviderData struct {
	ConnectionString string // see ConnectionString
	Version          string
	Credentials
}

// ConnectionString joins the members' client URLs the way the classic charm did: sorted as strings, comma
// separated, no spaces. Sorting keeps the value identical on every unit, so consumers see no churn.
func ConnectionString(clientURLs []string) string {
	urls := slices.Clone(clientURLs)
	slices.Sort(urls)
	return strings.Join(slices.Compact(urls), ",")
}

// Databag is the unit databag content for d.
func (d ProviderData) Databag() map[string]string {
	return map[string]string{
		KeyConnectionString: d.ConnectionString,
		KeyVersion:          d.Version,
		KeyClientCert:       d.ClientCert,
		KeyClientKey:        d.ClientKey,
		KeyClientCA:         d.ClientCA,
	}
}

// Publish writes d into this unit's own databag on the relation. Classic consumers read unit databags only,
// so the application databag is never used.
func Publish(relationID string, d ProviderData) error {
	return PublishUnitData(relationID, d.Databag())
}

// PublishUnitData writes bag into this unit's databag on the relation, only the keys whose value differs, and
// nothing at all when the databag already holds bag: every hook may call it without waking the remote side.
// An empty value deletes its key, as relation-set does.
func PublishUnitData(relationID string, bag map[string]string) error {
	current, err := goops.GetUnitRelationData(relationID, goops.ReadEnv().UnitName)
	if err != nil {
		return fmt.Errorf("reading our databag on relation %s: %w", relationID, err)
	}
	changes := Changes(current, bag)
	if len(changes) == 0 {
		return nil
	}
	if err := goops.SetUnitRelationData(relationID, changes); err != nil {
		return fmt.Errorf("publishing on relation %s: %w", relationID, err)
	}
	return nil
}

// Changes returns the entries of want that current does not already hold; an empty wanted value counts as
// a change only when current has the key (writing "" deletes it).
func Changes(current, want map[string]string) map[string]string {
	changes := map[string]string{}
	for k, v := range want {
		if cur, ok := current[k]; ok && cur == v || !ok && v == "" {
			continue
		}
		changes[k] = v
	}
	return changes
}
