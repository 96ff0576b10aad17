package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/gruyaume/goops"
)

type keyParams struct {
	Key      string `json:"key"`
	Value    string `json:"value"`
	Endpoint string `json:"endpoint"`
}

// dial connects with exactly the files saved for the endpoint: what the provider gave us (db, proxy) or our
// own certificate with the provider's CA (etcd-client). Nothing else is trusted or presented.
func dial(endpoint string) (*clientv3.Client, string, error) {
	if endpoint == "" {
		for _, name := range endpointNames {
			if _, err := load(root(), name); err == nil {
				endpoint = name
				break
			}
		}
		if endpoint == "" {
			return nil, "", errors.New("no endpoint is ready; relate db, proxy or etcd-client to etcd first")
		}
	}
	a, err := load(root(), endpoint)
	if err != nil {
		return nil, "", err
	}
	tlsCfg, err := tlsConfig(a.Credentials)
	if err != nil {
		return nil, "", err
	}
	c, err := clientv3.New(clientv3.Config{
		Endpoints: a.Endpoints, TLS: tlsCfg, DialTimeout: dialTimeout,
		Logger: zap.NewNop(), // the action's output is its result, not gRPC's chatter
	})
	if err != nil {
		return nil, "", fmt.Errorf("connecting to %v: %w", a.Endpoints, err)
	}
	return c, endpoint, nil
}

// keyAction runs op against etcd with the action's parameters and the endpoint they chose.
func keyAction(op func(ctx context.Context, c *clientv3.Client, p keyParams, endpoint string) error) error {
	var p keyParams
	if err := goops.GetActionParams(&p); err != nil {
		return fmt.Errorf("reading action parameters: %w", err)
	}
	c, endpoint, err := dial(p.Endpoint)
	if err != nil {
		return goops.FailActionf("%v", err)
	}
	defer c.Close()
	ctx, cancel := withTimeout()
	defer cancel()
	return op(ctx, c, p, endpoint)
}

func putAction() error {
	return keyAction(func(ctx context.Context, c *clientv3.Client, p keyParams, endpoint string) error {
		resp, err := c.Put(ctx, p.Key, p.Value)
		if err != nil {
			// etcd's own words (e.g. "etcdserver: permission denied") are what an operator needs to see.
			return goops.FailActionf("put %s via %s: %v", p.Key, endpoint, err)
		}
		return goops.SetActionResults(map[string]string{
			"value": p.Value, "revision": strconv.FormatInt(resp.Header.Revision, 10), "endpoint": endpoint,
		})
	})
}

func getAction() error {
	return keyAction(func(ctx context.Context, c *clientv3.Client, p keyParams, endpoint string) error {
		resp, err := c.Get(ctx, p.Key)
		if err != nil {
			return goops.FailActionf("get %s via %s: %v", p.Key, endpoint, err)
		}
		results := map[string]string{"revision": strconv.FormatInt(resp.Header.Revision, 10), "endpoint": endpoint,
			"found": strconv.FormatBool(len(resp.Kvs) > 0), "value": ""}
		if len(resp.Kvs) > 0 {
			results["value"] = string(resp.Kvs[0].Value)
		}
		return goops.SetActionResults(results)
	})
}

// renewAction replaces the key pair. The new certificate reaches an etcd-client provider as a new revision
// of the same secret; db and proxy do not use our certificate.
func renewAction() error {
	var p struct {
		CommonName string `json:"common-name"`
	}
	if err := goops.GetActionParams(&p); err != nil {
		return fmt.Errorf("reading action parameters: %w", err)
	}
	leader, err := goops.IsLeader()
	if err != nil {
		return fmt.Errorf("checking leadership: %w", err)
	}
	if !leader {
		return goops.FailActionf("only the leader holds the application's identity; run this on %s/leader", appName())
	}
	old, err := loadIdentity()
	if err != nil {
		return goops.FailActionf("%v", err)
	}
	cn := p.CommonName
	if cn == "" {
		cn = old.commonName()
	}
	id, err := newIdentity(cn, old.ConfigCN)
	if err != nil {
		return err
	}
	if err := storeIdentity(id, true); err != nil {
		return err
	}
	// Hand it over and save it now rather than at the next hook; the secret write commits with the action.
	cfg, err := readConfig()
	if err != nil {
		return goops.FailActionf("%v", err)
	}
	if err := apply(true, cfg, id); err != nil {
		return err
	}
	return goops.SetActionResults(map[string]string{"common-name": cn, "fingerprint": id.fingerprint()})
}
