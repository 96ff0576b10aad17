// Command etcd-requirer is an example charm that consumes the etcd charm through the Go interface
// libraries in interfaces/. Read it top to bottom: main dispatches, reconcile is what every hook does,
// sources.go reads each interface, identity.go makes the client certificate, actions.go talks to etcd, and
// compact.go compacts etcd's history as kube-apiserver does.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/etcd-charm/etcd/interfaces/etcdclient"
	"github.com/gruyaume/goops"
)

func main() {
	if err := dispatch(); err != nil {
		goops.LogErrorf("%v", err)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func dispatch() error {
	env := goops.ReadEnv()
	switch env.ActionName {
	case "":
		return reconcile()
	case "put":
		return putAction()
	case "get":
		return getAction()
	case "renew-certificate":
		return renewAction()
	case "compact":
		return compactAction()
	}
	return goops.FailActionf("unknown action %q", env.ActionName)
}

// config is the charm's configuration, validated.
type config struct {
	Prefix             string
	ClientVersion      string
	CommonName         string
	CompactionInterval time.Duration // 0: off
}

// errBadConfig marks problems the operator fixes with juju config; the charm blocks instead of failing.
var errBadConfig = errors.New("bad config")

func readConfig() (config, error) {
	var raw struct {
		Prefix        string `json:"prefix"`
		ClientVersion string `json:"client-version"`
		CommonName    string `json:"common-name"`
		Compaction    string `json:"compaction-interval"`
	}
	if err := goops.GetConfig(&raw); err != nil {
		return config{}, fmt.Errorf("reading config: %w", err)
	}
	cfg := config{Prefix: raw.Prefix, ClientVersion: raw.ClientVersion, CommonName: raw.CommonName}
	if cfg.CommonName == "" {
		cfg.CommonName = appName()
	}
	var problems []string
	if cfg.ClientVersion != "v0" && cfg.ClientVersion != "v1" {
		problems = append(problems, fmt.Sprintf("client-version %q must be v0 or v1", cfg.ClientVersion))
	}
	if cfg.Prefix == "" {
		// v0 cannot even send an empty prefix: Juju drops empty values.
		problems = append(problems, "prefix is empty; set a key prefix such as /my-app/")
	}
	var err error
	if cfg.CompactionInterval, err = parseCompactionInterval(raw.Compaction); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return cfg, fmt.Errorf("%w: %s", errBadConfig, strings.Join(problems, "; "))
	}
	return cfg, nil
}

// parseCompactionInterval reads compaction-interval: empty is off (0), otherwise at least a minute, since
// rounds run at update-status (every 5 minutes by default) and a shorter interval could not be kept.
func parseCompactionInterval(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute {
		return 0, fmt.Errorf("compaction-interval %q must be a Go duration of at least 1m, or empty for off", s)
	}
	return d, nil
}

func appName() string {
	unit := goops.ReadEnv().UnitName
	return unit[:max(strings.LastIndex(unit, "/"), 0)]
}

// root is where files go: the unit's own root on the local model, "/" under Juju.
func root() string {
	if r := goops.GetEnvGetter().Get("LOCALJUJU_ROOT"); r != "" {
		return r
	}
	return "/"
}

// reconcile runs in every hook: make sure we have an identity, ask for access where needed, save what we
// were given, and say how things are. It reads the current state each time, so hook order does not matter.
func reconcile() error {
	leader, err := goops.IsLeader()
	if err != nil {
		return fmt.Errorf("checking leadership: %w", err)
	}
	cfg, err := readConfig()
	if errors.Is(err, errBadConfig) {
		return goops.SetUnitStatus(goops.StatusBlocked, strings.TrimPrefix(err.Error(), errBadConfig.Error()+": "))
	}
	if err != nil {
		return err
	}
	id, err := ensureIdentity(leader, cfg.CommonName)
	if err != nil && !errors.Is(err, errNoIdentity) {
		return err
	}
	if rel := brokenRelation(); leader && strings.HasPrefix(rel, endpointClient+":") {
		// Our certificate secret was for that relation alone.
		if err := (etcdclient.Requirer{Endpoint: endpointClient}).Release(rel); err != nil {
			return err
		}
	}
	if err := apply(leader, cfg, id); err != nil {
		return err
	}
	return periodicCompaction(leader, cfg.CompactionInterval)
}

// apply hands our identity to whoever needs it, saves what each endpoint gave us, and sets the status.
func apply(leader bool, cfg config, id identity) error {
	if leader {
		if err := announceIdentity(id); err != nil {
			return err
		}
	}
	sources, err := readSources(cfg, id, leader)
	if err != nil {
		return err
	}
	var ready, waiting []string
	for _, name := range endpointNames {
		s, related := sources[name]
		if s.ready() {
			if err := save(root(), name, s.Access); err != nil {
				return err
			}
			ready = append(ready, name)
			continue
		}
		if related {
			goops.LogInfof("%s: %s", name, s.Waiting)
			waiting = append(waiting, name)
		}
		// Stale credentials would let an action succeed with what we no longer hold.
		if err := os.RemoveAll(endpointDir(root(), name)); err != nil {
			return fmt.Errorf("clearing %s's saved files: %w", name, err)
		}
	}
	switch {
	case len(ready) > 0:
		return goops.SetUnitStatus(goops.StatusActive, "ready: "+strings.Join(ready, ", "))
	case len(waiting) > 0:
		return goops.SetUnitStatus(goops.StatusWaiting, "waiting for etcd on "+strings.Join(waiting, ", "))
	}
	return goops.SetUnitStatus(goops.StatusWaiting, "waiting for etcd on "+strings.Join(endpointNames, ", "))
}

// announceIdentity tells the other units (through the peer relation) which certificate is current, so they
// run a hook and save it. The secret alone would not wake them: Juju sends secret-changed to consumers,
// never to the owner's own units.
func announceIdentity(id identity) error {
	ids, err := goops.GetRelationIDs("requirer-peers")
	if err != nil || len(ids) == 0 || id.CertPEM == "" {
		return err
	}
	bag, err := goops.GetAppRelationData(ids[0], goops.ReadEnv().UnitName)
	if err != nil {
		return fmt.Errorf("reading the peer application databag: %w", err)
	}
	if bag["identity"] == id.fingerprint() {
		return nil
	}
	if err := goops.SetAppRelationData(ids[0], map[string]string{"identity": id.fingerprint()}); err != nil {
		return fmt.Errorf("announcing the client identity: %w", err)
	}
	return nil
}
