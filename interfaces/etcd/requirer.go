package etcd

import (
	"fmt"
	"strings"

	"github.com/gruyaume/goops"
)

// Requirer reads what etcd units publish on one of this charm's endpoints of interface `etcd`.
type Requirer struct {
	Endpoint string // the endpoint name in this charm's metadata, e.g. "etcd" or "db"
}

// Connection is what a consumer needs to reach etcd.
type Connection struct {
	ConnectionString string
	Version          string
	Credentials
}

// Endpoints are the client URLs of the connection string.
func (c Connection) Endpoints() []string {
	var eps []string
	for _, u := range strings.Split(c.ConnectionString, ",") {
		if u = strings.TrimSpace(u); u != "" {
			eps = append(eps, u)
		}
	}
	return eps
}

// Available reports whether a connection string was published (classic `<endpoint>.available`).
func (c Connection) Available() bool { return c.ConnectionString != "" }

// TLSAvailable reports whether the client credentials are complete (classic `<endpoint>.tls.available`).
func (c Connection) TLSAvailable() bool { return c.Complete() }

// RelationIDs lists the relations on the endpoint.
func (r Requirer) RelationIDs() ([]string, error) {
	ids, err := goops.GetRelationIDs(r.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("listing relations on %s: %w", r.Endpoint, err)
	}
	return ids, nil
}

// Connection reads the remote units' databags. Per key it takes the first non-empty value across the units
// in relation-list order, as the reactive consumers did, so a unit that has not published yet (or a departing
// one that left stale keys behind) does not hide a complete one.
func (r Requirer) Connection(relationID string) (Connection, error) {
	merged, err := MergedUnitData(relationID, KeyConnectionString, KeyVersion, KeyClientCert, KeyClientKey, KeyClientCA)
	if err != nil {
		return Connection{}, err
	}
	return Connection{
		ConnectionString: merged[KeyConnectionString],
		Version:          merged[KeyVersion],
		Credentials: Credentials{
			ClientCert: merged[KeyClientCert],
			ClientKey:  merged[KeyClientKey],
			ClientCA:   merged[KeyClientCA],
		},
	}, nil
}

// MergedUnitData returns, for each key, the first non-empty value in the remote units' databags, visiting the
// units in relation-list order.
func MergedUnitData(relationID string, keys ...string) (map[string]string, error) {
	units, err := goops.ListRelationUnits(relationID)
	if err != nil {
		return nil, fmt.Errorf("listing the units of relation %s: %w", relationID, err)
	}
	merged := map[string]string{}
	for _, unit := range units {
		bag, err := goops.GetUnitRelationData(relationID, unit)
		if err != nil {
			return nil, fmt.Errorf("reading %s's databag on relation %s: %w", unit, relationID, err)
		}
		for _, k := range keys {
			if merged[k] == "" && bag[k] != "" {
				merged[k] = bag[k]
			}
		}
	}
	return merged, nil
}
