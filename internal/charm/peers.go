package charm

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/gruyaume/goops"
)

// The peer relation carries the cluster's shared state, so that losing any unit, the Juju leader included,
// loses nothing: the application bag is written by whichever unit leads, read by all.
const peerEndpoint = "cluster"

// Application databag keys (leader-written).
const (
	keyClusterToken = "cluster-token"   // etcd's initial-cluster-token, fixed at bootstrap
	keySeed         = "seed"            // the unit that bootstrapped the cluster as a single member
	keyClusterID    = "cluster-id"      // hex cluster ID once bootstrapped; guards against foreign data dirs
	keyPeerPort     = "peer-port"       // the peer port the cluster was formed with
	keyCACert       = "ca-certificate"  // the CA certificate (public half only)
	keyCASecret     = "ca-secret-id"    // application-owned secret holding the CA key
	keyRootSecret   = "root-secret-id"  // application-owned secret holding the root user's password
	keyCertificates = "certificates"    // JSON: unit name → signed certificates
	keyAuthEnabled  = "auth-enabled"    // "true" once root exists and auth is on
	keyPeerCN       = "peer-allowed-cn" // the CN peer listeners admit, once every unit presents it (peertrust.go)
)

// Unit databag keys (each unit its own).
const (
	keyAddress     = "address"      // the unit's ingress address
	keyPeerURL     = "peer-url"     // https://address:management_port
	keyClientURL   = "client-url"   // https://address:port
	keyMemberCSR   = "member-csr"   // CSR for the member (server+peer) certificate
	keyClientCSR   = "client-csr"   // CSR for the unit's own root client certificate
	keyGatewayCSR  = "gateway-csr"  // CSR for the CN-less certificate etcd's gRPC gateway presents to the member
	keyMemberState = "member-state" // "", learner, voter, removed
	keyMemberName  = "member-name"
	keyHealthSeen  = "health-seen" // what this unit saw when the application status differed (plan.HealthSeen)
	keyMemberCN    = "member-cn"   // the CN of the member certificate this unit has installed
	keyRestartDue  = "restart-due" // why this member is to restart onto a new configuration or etcd; "" when not
	keyConfigSeen  = "config-seen" // digest of the application config and charm that restart-due was judged from
)

// Member states a unit publishes about itself.
const (
	stateLearner = "learner"
	stateVoter   = "voter"
	stateRemoved = "removed"
)

// issuedCerts are the certificates the leader signed for one unit.
type issuedCerts struct {
	Member  string `json:"member"`
	Client  string `json:"client"`
	Gateway string `json:"gateway,omitempty"`
}

// peerRelation is one hook's view of the peer relation. Other units' bags are read only when a decision
// needs them: a non-leader's routine hook does not, and every bag is a hook tool call.
type peerRelation struct {
	ID          string
	App         map[string]string
	Self        map[string]string
	names       []string                     // other units, sorted, as relation-list gives them
	namesLoaded bool                         // names has been read (it may be empty)
	units       map[string]map[string]string // other units' bags by unit name; nil until read
}

// peerRelationState keeps the peer relation's ID in unit state: Juju creates the peer relation with the
// application and never replaces it, so after the first hook that sees it there is nothing to ask.
const peerRelationState = "peer-relation-id"

func readPeers(self, hook string) (*peerRelation, error) {
	id, recorded, err := peerRelationID(hook)
	if err != nil || id == "" {
		return nil, err
	}
	p, err := readPeerBags(self, id)
	if err != nil && recorded {
		// A unit on its way out leaves the peer relation before the last hooks of its other relations run,
		// and Juju then no longer knows the recorded ID: ask which peer relation, if any, is still there.
		if id, err = listedPeerRelation(); err != nil || id == "" {
			return nil, err
		}
		p, err = readPeerBags(self, id)
	}
	return p, err
}

func readPeerBags(self, id string) (*peerRelation, error) {
	p := &peerRelation{ID: id}
	var err error
	if p.App, err = goops.GetAppRelationData(p.ID, self); err != nil {
		return nil, fmt.Errorf("reading peer application data: %w", err)
	}
	if p.Self, err = goops.GetUnitRelationData(p.ID, self); err != nil {
		return nil, fmt.Errorf("reading own peer data: %w", err)
	}
	return p, nil
}

// peerRelationID is the peer relation's ID, "" before Juju has created it, and whether it came from unit
// state. The hook's own relation names it in a peer relation hook, and unit state in others; the hooks that
// tear the unit down ask Juju, which no longer lists a relation that is going away.
func peerRelationID(hook string) (id string, recorded bool, err error) {
	teardown := hook == peerEndpoint+"-relation-broken" || hook == "stop" || hook == "remove"
	if id := goops.GetEnvGetter().Get("JUJU_RELATION_ID"); strings.HasPrefix(hook, peerEndpoint+"-relation-") && !teardown && id != "" {
		return id, false, nil
	}
	if id := getState(peerRelationState); id != "" && !teardown {
		return id, true, nil
	}
	if id, err = listedPeerRelation(); err != nil || id == "" {
		return "", false, err
	}
	if !teardown {
		// Only a saving: a hook that cannot record it asks again next time.
		if err := setState(peerRelationState, id); err != nil {
			goops.LogWarningf("recording the peer relation's ID: %v", err)
		}
	}
	return id, false, nil
}

// listedPeerRelation asks Juju for the peer relation this unit is in, "" when there is none (yet, or any more).
func listedPeerRelation() (string, error) {
	ids, err := goops.GetRelationIDs(peerEndpoint)
	if err != nil {
		return "", fmt.Errorf("listing %s relations: %w", peerEndpoint, err)
	}
	if len(ids) == 0 {
		return "", nil
	}
	return ids[0], nil
}

// Units returns the other units' bags, by unit name, reading them on first use.
func (p *peerRelation) Units() (map[string]map[string]string, error) {
	if p.units != nil {
		return p.units, nil
	}
	names, err := p.unitNames()
	if err != nil {
		return nil, err
	}
	units := make(map[string]map[string]string, len(names))
	for _, u := range names {
		bag, err := goops.GetUnitRelationData(p.ID, u)
		if err != nil {
			return nil, fmt.Errorf("reading peer data of %s: %w", u, err)
		}
		units[u] = bag
	}
	p.units = units
	return units, nil
}

// unitNames returns the other units, sorted for deterministic decisions, listing them on first use.
func (p *peerRelation) unitNames() ([]string, error) {
	if p.namesLoaded {
		return p.names, nil
	}
	names, err := goops.ListRelationUnits(p.ID)
	if err != nil {
		return nil, fmt.Errorf("listing peers: %w", err)
	}
	sort.Strings(names)
	p.names, p.namesLoaded = names, true
	return names, nil
}

func (p *peerRelation) certificates() map[string]issuedCerts {
	out := map[string]issuedCerts{}
	if raw := p.App[keyCertificates]; raw != "" {
		_ = json.Unmarshal([]byte(raw), &out) // a malformed value is treated as empty: the leader re-signs
	}
	return out
}

// setUnit writes the changed keys of this unit's bag; unchanged keys are not rewritten so that peers get no
// needless relation-changed.
func (p *peerRelation) setUnit(kv map[string]string) error {
	changed := map[string]string{}
	for k, v := range kv {
		if p.Self[k] != v {
			changed[k] = v
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if err := goops.SetUnitRelationData(p.ID, changed); err != nil {
		return fmt.Errorf("writing own peer data: %w", err)
	}
	for k, v := range changed {
		p.Self[k] = v
	}
	return nil
}

// setApp writes changed keys of the application bag (leader only).
func (p *peerRelation) setApp(kv map[string]string) error {
	changed := map[string]string{}
	for k, v := range kv {
		if p.App[k] != v {
			changed[k] = v
		}
	}
	if len(changed) == 0 {
		return nil
	}
	if err := goops.SetAppRelationData(p.ID, changed); err != nil {
		return fmt.Errorf("writing peer application data: %w", err)
	}
	for k, v := range changed {
		p.App[k] = v
	}
	return nil
}

// memberName is etcd's member name for a unit: the unit name with the slash replaced, stable for its life.
func memberName(unit string) string { return strings.ReplaceAll(unit, "/", "-") }
