package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/etcd-charm/etcd/interfaces/etcd"
	"github.com/etcd-charm/etcd/interfaces/etcdclient"
	"github.com/etcd-charm/etcd/interfaces/etcdproxy"
	"github.com/gruyaume/goops"
)

// The three endpoints, in the order "the first ready one" is chosen.
const (
	endpointDB     = "db"
	endpointProxy  = "proxy"
	endpointClient = "etcd-client"
)

var endpointNames = []string{endpointDB, endpointProxy, endpointClient}

// access is everything needed to talk to etcd, whichever interface it came from.
type access struct {
	Endpoints []string // https:// client URLs
	etcd.Credentials
}

// source is what one endpoint gave us: nothing related, related but incomplete (why), or ready.
type source struct {
	Related bool
	Waiting string // why it is not ready, for the log
	Access  access
}

func (s source) ready() bool { return s.Related && s.Waiting == "" }

// readSources looks at every endpoint. Only the etcd-client side needs our identity: on db and proxy the
// provider hands us a certificate.
func readSources(cfg config, id identity, leader bool) (map[string]source, error) {
	out := map[string]source{}
	readers := map[string]func(string) (source, error){
		endpointDB:     readDB,
		endpointProxy:  readProxy,
		endpointClient: func(rel string) (source, error) { return readClient(rel, cfg, id, leader) },
	}
	for _, name := range endpointNames {
		ids, err := etcd.Requirer{Endpoint: name}.RelationIDs()
		if err != nil {
			return nil, err
		}
		// In its own relation-broken hook a relation is still listed, but it is going: treat it as gone.
		ids = slices.DeleteFunc(ids, func(id string) bool { return id == brokenRelation() })
		if len(ids) == 0 {
			continue // limit: 1, so at most one relation per endpoint
		}
		s, err := readers[name](ids[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		s.Related = true
		out[name] = s
	}
	return out, nil
}

// brokenRelation is the relation this hook is the relation-broken of, or "".
func brokenRelation() string {
	if !strings.HasSuffix(goops.ReadEnv().HookName, "-relation-broken") {
		return ""
	}
	return goops.GetEnvGetter().Get("JUJU_RELATION_ID")
}

func readDB(rel string) (source, error) {
	conn, err := etcd.Requirer{Endpoint: endpointDB}.Connection(rel)
	if err != nil {
		return source{}, err
	}
	if !conn.Available() || !conn.TLSAvailable() {
		return source{Waiting: "no connection string or credentials yet"}, nil
	}
	return source{Access: access{Endpoints: conn.Endpoints(), Credentials: conn.Credentials}}, nil
}

// readProxy gets the member list with peer URLs, and the client URLs: from the provider when it publishes
// them (ours does: its peer listeners admit members only), otherwise by asking a member's peer listener for
// the membership (GET /members), as etcd's old v2 proxy mode did against the classic charm.
func readProxy(rel string) (source, error) {
	info, err := etcdproxy.Requirer{Endpoint: endpointProxy}.ClusterInfo(rel)
	if err != nil {
		return source{}, err
	}
	if !info.Available() || !info.Complete() {
		return source{Waiting: "no cluster string or credentials yet"}, nil
	}
	members, err := info.Members()
	if err != nil {
		return source{Waiting: err.Error()}, nil
	}
	urls := info.ClientURLs()
	if len(urls) == 0 {
		if urls, err = clientURLsFromPeers(members, info.Credentials); err != nil {
			return source{Waiting: err.Error()}, nil
		}
	}
	return source{Access: access{Endpoints: urls, Credentials: info.Credentials}}, nil
}

// readClient asks for our prefix (leader) and reads the grant. The certificate and key are our own.
func readClient(rel string, cfg config, id identity, leader bool) (source, error) {
	r := etcdclient.Requirer{Endpoint: endpointClient, Version: cfg.ClientVersion}
	if id.CertPEM == "" {
		return source{Waiting: "no client identity yet"}, nil
	}
	if leader {
		if err := r.Request(rel, cfg.Prefix, id.CertPEM); err != nil {
			return source{}, err
		}
	}
	g, err := r.Grant(rel)
	if err != nil {
		return source{}, err
	}
	switch {
	case !g.Ready():
		return source{Waiting: "the provider has not answered yet"}, nil
	case g.Username != id.commonName():
		// After a CN change the old user is still published until the provider handles the new certificate.
		return source{Waiting: fmt.Sprintf("the provider granted user %q, our certificate is %q", g.Username, id.commonName())}, nil
	}
	return source{Access: access{Endpoints: g.URIs, Credentials: etcd.Credentials{
		ClientCert: id.CertPEM, ClientKey: id.KeyPEM, ClientCA: g.TLSCA}}}, nil
}

func clientURLsFromPeers(members []etcdproxy.Member, creds etcd.Credentials) ([]string, error) {
	tlsCfg, err := tlsConfig(creds)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}
	defer hc.CloseIdleConnections()
	var lastErr error
	for _, m := range members {
		var listed []struct {
			ClientURLs []string `json:"clientURLs"`
		}
		resp, err := hc.Get(strings.TrimSuffix(m.PeerURL, "/") + "/members")
		if err != nil {
			lastErr = err
			continue
		}
		err = json.NewDecoder(resp.Body).Decode(&listed)
		resp.Body.Close()
		if err != nil {
			lastErr = fmt.Errorf("reading the member list from %s: %w", m.PeerURL, err)
			continue
		}
		var urls []string
		for _, l := range listed {
			urls = append(urls, l.ClientURLs...)
		}
		slices.Sort(urls)
		return slices.Compact(urls), nil
	}
	return nil, fmt.Errorf("no member answered on its peer URL: %v", lastErr)
}

// tlsConfig trusts exactly the CA we were given and presents the client certificate.
func tlsConfig(creds etcd.Credentials) (*tls.Config, error) {
	pair, err := tls.X509KeyPair([]byte(creds.ClientCert), []byte(creds.ClientKey))
	if err != nil {
		return nil, fmt.Errorf("loading the client certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(creds.ClientCA)) {
		return nil, fmt.Errorf("the CA is not PEM")
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// Saved files, one directory per endpoint, named as etcdctl's flags expect them.
const (
	fileCA        = "ca.crt"
	fileCert      = "client.crt"
	fileKey       = "client.key"
	fileEndpoints = "endpoints"
)

func endpointDir(root, endpoint string) string {
	return filepath.Join(root, "var", "lib", "etcd-requirer", endpoint)
}

// save writes what the endpoint gave us; endpoints is one comma-separated line, as --endpoints takes it.
func save(root, endpoint string, a access) error {
	dir := endpointDir(root, endpoint)
	if err := a.Save(filepath.Join(dir, fileKey), filepath.Join(dir, fileCert), filepath.Join(dir, fileCA)); err != nil {
		return err
	}
	line := strings.Join(a.Endpoints, ",") + "\n"
	if err := os.WriteFile(filepath.Join(dir, fileEndpoints), []byte(line), 0o644); err != nil {
		return fmt.Errorf("saving the %s endpoints: %w", endpoint, err)
	}
	return nil
}

// load reads back what save wrote; the actions use nothing else.
func load(root, endpoint string) (access, error) {
	dir := endpointDir(root, endpoint)
	read := func(name string) (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		return string(b), err
	}
	var a access
	var eps string
	var errs [4]error
	a.ClientCA, errs[0] = read(fileCA)
	a.ClientCert, errs[1] = read(fileCert)
	a.ClientKey, errs[2] = read(fileKey)
	eps, errs[3] = read(fileEndpoints)
	for _, err := range errs {
		if err != nil {
			return access{}, fmt.Errorf("%s is not ready: %w", endpoint, err)
		}
	}
	a.Endpoints = strings.Split(strings.TrimSpace(eps), ",")
	return a, nil
}

// dialTimeout bounds how long an action waits for etcd.
const dialTimeout = 10 * time.Second

func withTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*dialTimeout)
}
