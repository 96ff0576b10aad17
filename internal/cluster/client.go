package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Defaults for Options fields left zero.
const (
	DefaultDialTimeout  = 5 * time.Second
	DefaultProbeTimeout = 5 * time.Second
)

// Options says how to reach the cluster and who we are to it.
type Options struct {
	// Endpoints are client URLs (https://host:port). Cluster-wide calls go to
	// any of them; per-endpoint calls name their endpoint explicitly.
	Endpoints []string

	// TLS is used as given when set. Otherwise CertPEM/KeyPEM (the client
	// certificate, whose CN etcd maps to a user) and CAPEM (trust for the
	// servers) build one.
	TLS                    *tls.Config
	CertPEM, KeyPEM, CAPEM []byte

	// Username/Password authenticate with a token instead of the certificate
	// CN. etcd checks a token first, so leave them empty for CN auth.
	Username, Password string

	// DialTimeout bounds connection setup (and the token fetch for password
	// auth). Zero means DefaultDialTimeout.
	DialTimeout time.Duration

	// ProbeTimeout bounds each per-endpoint probe in Health, Leader and
	// MoveLeader, so one dead member cannot use up the caller's whole
	// deadline. Zero means DefaultProbeTimeout.
	ProbeTimeout time.Duration
}

// Client is a connection to one etcd cluster.
type Client struct {
	cli  *clientv3.Client
	cfg  clientv3.Config
	opts Options
}

// Dial builds a client. Like clientv3 it does not wait for a connection:
// each call waits for one, bounded by its own context. ctx bounds only the
// setup (the token fetch when Username/Password are set).
func Dial(ctx context.Context, opts Options) (*Client, error) {
	if len(opts.Endpoints) == 0 {
		return nil, errors.New("dial etcd: no endpoints given")
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.ProbeTimeout <= 0 {
		opts.ProbeTimeout = DefaultProbeTimeout
	}
	tlsCfg, err := opts.tlsConfig()
	if err != nil {
		return nil, fmt.Errorf("dial etcd: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dial etcd: %w", err)
	}
	dialTimeout := opts.DialTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < dialTimeout {
		dialTimeout = max(time.Until(dl), time.Millisecond)
	}
	cfg := clientv3.Config{
		Endpoints:   opts.Endpoints,
		TLS:         tlsCfg,
		Username:    opts.Username,
		Password:    opts.Password,
		DialTimeout: dialTimeout,
		// The charm's hook output is for the operator; clientv3's info-level
		// connection chatter would bury it.
		Logger: zap.NewNop(),
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, wrap(fmt.Sprintf("dial etcd %v", opts.Endpoints), err)
	}
	cfg.DialTimeout = opts.DialTimeout
	return &Client{cli: cli, cfg: cfg, opts: opts}, nil
}

// Close releases the connection.
func (c *Client) Close() error {
	if err := c.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("close etcd client: %w", err)
	}
	return nil
}

// Raw gives the underlying clientv3 client for key-value work this package
// does not wrap. It stays owned by c.
func (c *Client) Raw() *clientv3.Client { return c.cli }

// Endpoints returns the endpoints the client was dialed with.
func (c *Client) Endpoints() []string { return append([]string(nil), c.opts.Endpoints...) }

// atEndpoint dials a second client pinned to one endpoint. Calls that etcd
// answers from the member that receives them (snapshot, move-leader, a
// per-member health read) must not be load-balanced. The caller closes it.
func (c *Client) atEndpoint(endpoint string) (*clientv3.Client, error) {
	cfg := c.cfg
	cfg.Endpoints = []string{endpoint}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, wrap("dial etcd endpoint "+endpoint, err)
	}
	return cli, nil
}

// probeContext bounds one per-endpoint probe.
func (c *Client) probeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.opts.ProbeTimeout)
}

func (o Options) tlsConfig() (*tls.Config, error) {
	if o.TLS != nil {
		return o.TLS.Clone(), nil
	}
	if len(o.CertPEM) == 0 && len(o.KeyPEM) == 0 && len(o.CAPEM) == 0 {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(o.CertPEM) > 0 || len(o.KeyPEM) > 0 {
		pair, err := tls.X509KeyPair(o.CertPEM, o.KeyPEM)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if len(o.CAPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(o.CAPEM) {
			return nil, errors.New("load CA bundle: no certificate found in PEM")
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
