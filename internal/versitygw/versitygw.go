// Package versitygw starts a real S3 server for tests: the Versity S3 Gateway over a directory, on a loopback
// port, with TLS from a CA made for the test and, when asked, its internal IAM so that tests can add users
// with fewer rights than root. `make test` builds the binary (VERSITYGW names it).
package versitygw

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Binary is the versitygw to run: $VERSITYGW, else one on PATH; "" when there is none.
func Binary() string {
	if b := os.Getenv("VERSITYGW"); b != "" {
		return b
	}
	if b, err := exec.LookPath("versitygw"); err == nil {
		return b
	}
	return ""
}

// Options choose how the server runs.
type Options struct {
	TLS bool // serve HTTPS with a certificate from a CA made for this server (CAPEM)
	IAM bool // run the internal IAM service, so CreateUser works
}

// Server is a running gateway. Root's keys may do everything.
type Server struct {
	Endpoint  string // http(s)://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	CAPEM     string // the CA that signed the server's certificate (TLS only)
	Dir       string // the posix backend: one directory per bucket, one file per object
	cmd       *exec.Cmd
	done      chan struct{}
}

// Start runs a gateway for the rest of the test; it is stopped at cleanup. The test is skipped, naming
// `make test`, when no binary is installed.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if Binary() == "" {
		t.Skip("versitygw is not installed: run the tests with `make test`, which builds it, or set VERSITYGW")
	}
	s, err := Run(t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Run starts a gateway with its files under work (which must exist); the caller stops it.
func Run(work string, opts Options) (*Server, error) {
	bin := Binary()
	if bin == "" {
		return nil, fmt.Errorf("versitygw is not installed (make versitygw builds it; VERSITYGW names it)")
	}
	s := &Server{AccessKey: "etcd-test-root", SecretKey: "etcd-test-root-secret", Dir: filepath.Join(work, "posix"), done: make(chan struct{})}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"--port", addr, "--access", s.AccessKey, "--secret", s.SecretKey, "--quiet"}
	scheme := "http"
	if opts.TLS {
		certFile, keyFile := filepath.Join(work, "server.crt"), filepath.Join(work, "server.key")
		if s.CAPEM, err = writeServerCert(certFile, keyFile); err != nil {
			return nil, err
		}
		args = append(args, "--cert", certFile, "--key", keyFile)
		scheme = "https"
	}
	if opts.IAM {
		iam := filepath.Join(work, "iam")
		if err := os.MkdirAll(iam, 0o700); err != nil {
			return nil, err
		}
		args = append(args, "--iam-dir", iam)
	}
	args = append(args, "posix", s.Dir)
	s.Endpoint = scheme + "://" + addr
	var out bytes.Buffer
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting versitygw: %w", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("versitygw exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("versitygw did not listen on %s within 30 s: %s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the gateway (idempotent).
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

// CreateUser adds an IAM user (role "user": it may use only the buckets it owns) through the admin API.
func (s *Server) CreateUser(t testing.TB, access, secret string) {
	t.Helper()
	args := []string{"admin", "--access", s.AccessKey, "--secret", s.SecretKey, "--endpoint-url", s.Endpoint}
	if s.CAPEM != "" {
		args = append(args, "--allow-insecure")
	}
	args = append(args, "create-user", "--access", access, "--secret", secret, "--role", "user")
	if out, err := exec.Command(Binary(), args...).CombinedOutput(); err != nil {
		t.Fatalf("versitygw admin create-user: %v: %s", err, out)
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// writeServerCert makes a CA and a certificate for 127.0.0.1 signed by it; it returns the CA's PEM.
func writeServerCert(certFile, keyFile string) (string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "versitygw test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})), nil
}

// String is for test logs.
func (s *Server) String() string { return fmt.Sprintf("versitygw at %s", s.Endpoint) }
