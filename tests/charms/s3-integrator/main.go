// Command s3-integrator is a test stand-in for Canonical's s3-integrator charm (see charmcraft.yaml): the
// provider side of the `s3` interface, written from the interface's wire format and not from the etcd charm's
// requirer code, so that the two check each other.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gruyaume/goops"
)

const (
	endpoint    = "s3-credentials"
	secretLabel = "s3-credentials"
)

type config struct {
	Flavour      string `json:"flavour"`
	Endpoint     string `json:"endpoint"`
	Bucket       string `json:"bucket"`
	Path         string `json:"path"`
	Region       string `json:"region"`
	URIStyle     string `json:"s3-uri-style"`
	StorageClass string `json:"storage-class"`
	APIVersion   string `json:"s3-api-version"`
	TLSCAChain   string `json:"tls-ca-chain"`
	DeleteDays   int    `json:"experimental-delete-older-than-days"`
}

func main() {
	if err := run(); err != nil {
		goops.LogErrorf("%v", err)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	env := goops.ReadEnv()
	leader, err := goops.IsLeader()
	if err != nil {
		return err
	}
	if env.ActionName == "sync-s3-credentials" {
		if !leader {
			return goops.FailActionf("run on the leader")
		}
		var p struct {
			AccessKey string `json:"access-key"`
			SecretKey string `json:"secret-key"`
		}
		if err := goops.GetActionParams(&p); err != nil {
			return err
		}
		content := map[string]string{"access-key": p.AccessKey, "secret-key": p.SecretKey}
		if _, err := goops.GetSecretByLabel(secretLabel, false, false); err != nil {
			if _, err := goops.AddSecret(&goops.AddSecretOptions{Content: content, Label: secretLabel, Owner: goops.OwnerApplication}); err != nil {
				return err
			}
		} else if uri, err := secretURI(); err != nil {
			return err
		} else if err := goops.SetSecret(&goops.SetSecretOptions{ID: uri, Content: content}); err != nil {
			return err
		}
	}
	if !leader {
		return goops.SetUnitStatus(goops.StatusActive, "")
	}
	var cfg config
	if err := goops.GetConfig(&cfg); err != nil {
		return err
	}
	creds, _ := goops.GetSecretByLabel(secretLabel, false, false)
	ids, err := goops.GetRelationIDs(endpoint)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if env.HookName == endpoint+"-relation-broken" && id == os.Getenv("JUJU_RELATION_ID") {
			continue
		}
		if err := answer(id, cfg, creds); err != nil {
			return err
		}
	}
	if creds == nil {
		return goops.SetUnitStatus(goops.StatusBlocked, "run sync-s3-credentials")
	}
	return goops.SetUnitStatus(goops.StatusActive, "")
}

// answer writes the provider's application bag for one relation, as the real charm of the configured flavour
// would. Unset options are written as "" (deleting the key), as s3-integrator does.
func answer(id string, cfg config, creds map[string]string) error {
	req, err := requirerBag(id)
	if err != nil {
		return err
	}
	v1 := cfg.Flavour == "2" && req["requested-secrets"] != ""
	// 1.x answers only a requirer that wrote bucket; 2.x answers every relation.
	if cfg.Flavour != "2" && req["bucket"] == "" {
		return nil
	}
	bucket := cfg.Bucket
	if bucket == "" && (cfg.Flavour != "2" || v1) {
		bucket = req["bucket"] // 2.x discards the bucket of a v0 requirer
	}
	data := map[string]string{
		"endpoint": cfg.Endpoint, "bucket": bucket, "path": cfg.Path, "region": cfg.Region,
		"s3-uri-style": cfg.URIStyle, "storage-class": cfg.StorageClass, "s3-api-version": cfg.APIVersion,
		"tls-ca-chain": "", "delete-older-than-days": "", "access-key": "", "secret-key": "", "secret-extra": "",
	}
	if cfg.DeleteDays > 0 {
		data["delete-older-than-days"] = strconv.Itoa(cfg.DeleteDays)
	}
	if cfg.TLSCAChain != "" {
		chain, err := splitChain(cfg.TLSCAChain)
		if err != nil {
			return err
		}
		data["tls-ca-chain"] = chain
	}
	switch {
	case creds == nil:
	case v1:
		uri, err := secretURI()
		if err != nil {
			return err
		}
		if err := goops.GrantSecretToRelation(uri, id); err != nil {
			return err
		}
		data["secret-extra"], data["lib-version"] = uri, "1.0"
	default:
		data["access-key"], data["secret-key"] = creds["access-key"], creds["secret-key"]
	}
	return goops.SetAppRelationData(id, data)
}

func requirerBag(id string) (map[string]string, error) {
	units, err := goops.ListRelationUnits(id)
	if err != nil {
		return nil, err
	}
	var name string
	if len(units) > 0 {
		name = units[0]
	} else if name, err = goops.GetRelationApp(id); err != nil {
		return nil, err
	}
	return goops.GetAppRelationData(id, name)
}

func secretURI() (string, error) {
	infos, err := goops.GetSecretInfoByLabel(secretLabel)
	if err != nil {
		return "", err
	}
	// secret-info-get keys its answer by the bare ID; relation data carries the URI, as ops' Secret.id is.
	for id := range infos {
		return "secret:" + strings.TrimPrefix(id, "secret:"), nil
	}
	return "", fmt.Errorf("no secret labelled %s", secretLabel)
}

// splitChain turns the base64 PEM bundle of the config into s3-integrator's JSON list: one string per
// certificate, from -----BEGIN to -----END CERTIFICATE-----, without a trailing newline.
func splitChain(b64 string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return "", fmt.Errorf("tls-ca-chain is not base64: %w", err)
	}
	var certs []string
	for _, part := range strings.SplitAfter(string(raw), "-----END CERTIFICATE-----") {
		if i := strings.Index(part, "-----BEGIN"); i >= 0 {
			certs = append(certs, part[i:])
		}
	}
	out, err := json.Marshal(certs)
	return string(out), err
}
