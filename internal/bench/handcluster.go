package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/internal/pki"
	"github.com/etcd-charm/etcd/localmodel/controller"
)

// Credentials are a CA and a client certificate; CN root is etcd's root user once auth is on.
type Credentials struct {
	CAPEM, CertPEM, KeyPEM []byte
}

// TLS is the client side of mutual TLS with these credentials.
func (c Credentials) TLS() (*tls.Config, error) {
	pair, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("loading the client certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(c.CAPEM) {
		return nil, errors.New("no CA certificate in the credentials")
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// Dial opens a cluster client with these credentials.
func (c Credentials) Dial(ctx context.Context, endpoints []string) (*cluster.Client, error) {
	return cluster.Dial(ctx, cluster.Options{Endpoints: endpoints, CertPEM: c.CertPEM, KeyPEM: c.KeyPEM, CAPEM: c.CAPEM})
}

// HandCluster is a 3-member etcd started by hand from the charm's own binary: etcd's defaults, plus what
// the charm's security needs (TLS with client-certificate auth on both listeners, RBAC on). Nothing else the
// charm sets is here, so whatever the charm adds shows up in the comparison.
type HandCluster struct {
	Dir       string
	Endpoints []string
	Creds     Credentials
	release   func()    // gives the loopback addresses back
	proc      *exec.Cmd // the supervising shell
}

// handTLS is one listener's security section: mutual TLS, as the charm requires.
func handTLS(cert, key, ca string) map[string]any {
	return map[string]any{"cert-file": cert, "key-file": key, "trusted-ca-file": ca, "client-cert-auth": true}
}

// StartHandCluster starts n members of etcd from binary (the multi-call charm binary) under dir, on a
// loopback /24 claimed like the local model claims its own, and turns authentication on. extra adds or
// overrides keys of every member's config file (to try one of the charm's settings on its own).
func StartHandCluster(ctx context.Context, binary, dir string, n int, extra map[string]any) (_ *HandCluster, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	// The local model's own address registry, so models started meanwhile never get these addresses.
	prefix, release, err := controller.ClaimAddressBlock(dir)
	if err != nil {
		return nil, err
	}
	h := &HandCluster{Dir: dir, release: release}
	defer func() {
		if err != nil {
			h.Stop()
		}
	}()
	ca, err := pki.NewCA("etcd-bench hand-run CA", 24*time.Hour)
	if err != nil {
		return nil, err
	}
	root, err := pki.IssueClient(ca, cluster.RootUser, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	h.Creds = Credentials{CAPEM: ca.CertPEM, CertPEM: root.CertPEM, KeyPEM: root.KeyPEM}
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o600); err != nil {
		return nil, err
	}
	var initial []string
	for i := range n {
		initial = append(initial, fmt.Sprintf("m%d=https://%s%d:2380", i, prefix, i+1))
	}
	token := fmt.Sprintf("etcd-bench-%x", rand.Uint64())
	var configs []string
	for i := range n {
		ip := prefix + strconv.Itoa(i+1)
		name := fmt.Sprintf("m%d", i)
		cert, key, err := memberCertificate(ca, dir, name, ip)
		if err != nil {
			return nil, err
		}
		client, peer := "https://"+ip+":2379", "https://"+ip+":2380"
		// etcd's defaults for everything not named here.
		cfg := map[string]any{
			"name":                        name,
			"data-dir":                    filepath.Join(dir, name+".etcd"),
			"listen-client-urls":          client,
			"advertise-client-urls":       client,
			"listen-peer-urls":            peer,
			"initial-advertise-peer-urls": peer,
			"initial-cluster":             strings.Join(initial, ","),
			"initial-cluster-state":       "new",
			"initial-cluster-token":       token,
			"client-transport-security":   handTLS(cert, key, caFile),
			"peer-transport-security":     handTLS(cert, key, caFile),
			"logger":                      "zap",
			"log-outputs":                 []string{"stderr"},
		}
		maps.Copy(cfg, extra)
		conf := filepath.Join(dir, name+".yml")
		raw, err := yaml.Marshal(cfg)
		if err != nil {
			return nil, fmt.Errorf("rendering %s's config: %w", name, err)
		}
		if err := os.WriteFile(conf, raw, 0o600); err != nil {
			return nil, err
		}
		configs = append(configs, conf)
		h.Endpoints = append(h.Endpoints, client)
	}
	if err := h.start(binary, configs); err != nil {
		return nil, err
	}
	if err := h.enableAuth(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

// RunByHand starts existing members (config files written by someone else, e.g. the charm on its units,
// after their services were stopped) under a supervising shell like a hand-run cluster's, to tell what the
// members' settings, certificates and data cost from what the way they are run costs.
func RunByHand(ctx context.Context, binary, dir string, configs, endpoints []string, creds Credentials) (*HandCluster, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	h := &HandCluster{Dir: dir, Endpoints: endpoints, Creds: creds}
	if err := h.start(binary, configs); err != nil {
		return nil, err
	}
	if err := waitHealthy(ctx, creds, endpoints); err != nil {
		h.Stop()
		return nil, err
	}
	return h, nil
}

// memberCertificate issues a member's server-and-client certificate and writes it and its key under dir.
func memberCertificate(ca pki.KeyPair, dir, name, ip string) (certFile, keyFile string, err error) {
	key, err := pki.NewPrivateKey()
	if err != nil {
		return "", "", err
	}
	// Loopback traffic to any 127/8 address leaves from 127.0.0.1, which peers check against the SANs.
	csr, err := pki.NewCSR(key, name, []string{ip, "127.0.0.1", "localhost"})
	if err != nil {
		return "", "", err
	}
	cert, err := pki.Sign(ca, csr, pki.ServerAndClient, 24*time.Hour)
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, cert, 0o600); err != nil {
		return "", "", err
	}
	return certFile, keyFile, os.WriteFile(keyFile, key, 0o600)
}

// superviseScript runs the members in the background, forwards SIGTERM to them, and stops them if the bench
// process dies, so no member outlives it.
const superviseScript = `pids=""
for conf in "$@"; do
	"$ETCD_BIN" etcd --config-file "$conf" >"${conf%.yml}.log" 2>&1 &
	pids="$pids $!"
done
trap 'kill -TERM $pids 2>/dev/null; wait; exit 0' TERM
while kill -0 "$BENCH_PID" 2>/dev/null; do sleep 1; done
kill -TERM $pids 2>/dev/null
wait
`

// start runs every member under one supervising shell in a session of its own. The charm's members run
// under the local model's controller, which leads its own session; with the kernel's autogroup scheduling a
// session is one scheduling entity, so the hand-run members get the same standing against the load
// generator as the charm's.
func (h *HandCluster) start(binary string, configs []string) error {
	cmd := exec.Command("/bin/sh", append([]string{"-c", superviseScript, "etcd-bench-hand"}, configs...)...)
	cmd.Env = append(os.Environ(), "ETCD_BIN="+binary, "BENCH_PID="+strconv.Itoa(os.Getpid()))
	cmd.Dir = h.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting the hand-run members: %w", err)
	}
	h.proc = cmd
	return nil
}

// enableAuth waits for the cluster to serve, then adds root and turns RBAC on, as the charm's seed does.
func (h *HandCluster) enableAuth(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	cli, err := h.Creds.Dial(ctx, h.Endpoints)
	if err != nil {
		return err
	}
	defer cli.Close()
	for {
		err = cli.EnableAuth(ctx, fmt.Sprintf("%x", rand.Uint64()))
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("hand-run cluster did not accept authentication (logs in %s): %w", h.Dir, err)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// Target is the load generator's view of the cluster.
func (h *HandCluster) Target() (Target, error) {
	cfg, err := h.Creds.TLS()
	return Target{Endpoints: h.Endpoints, TLS: cfg}, err
}

// Stop ends every member gracefully (SIGTERM, as systemd does), kills whatever outlives 60 s, and gives
// the addresses back.
func (h *HandCluster) Stop() {
	if p := h.proc; p != nil {
		_ = p.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.Wait(); close(done) }()
		select {
		case <-done: // the shell waited for every member
		case <-time.After(60 * time.Second):
			// Not reaped yet, so the group id is still the shell's and only holds what it started.
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
			<-done
		}
		h.proc = nil
	}
	if h.release != nil {
		h.release()
		h.release = nil
	}
}
