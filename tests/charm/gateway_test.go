package charm_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// Patroni speaks to etcd only through its HTTP/JSON gateway, which refuses every client certificate that
// carries a CN: a gateway user logs in with a password over a CN-less certificate. Debian's Patroni and
// PostgreSQL (CI installs both) run against a deployed cluster.
func TestGivenAGatewayUserWhenPatroniRunsThenItLeadsUnderItsPrefixAndTheGatewayLendsNoIdentity(t *testing.T) {
	pgBin := requirePatroni(t)
	m := newModel(t)
	ctx := context.Background()
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 3}); err != nil {
		t.Fatal(err)
	}
	waitAppsActive(t, m, 6*time.Minute, "etcd")
	waitIdle(t, m)
	admin := adminClient(t, m)

	t.Run("add-gateway-user refuses what would take another's name or keys, and changes nothing", func(t *testing.T) {
		for _, params := range []map[string]any{
			{"username": "root", "prefix": "/service/"},
			{"username": "etcd-0", "prefix": "/service/"},
			{"username": "patroni", "prefix": "/etcd-charm/service/"},
			{"username": "patroni", "prefix": "service"},
		} {
			res, err := m.Run(ctx, "etcd/leader", "add-gateway-user", params)
			if err != nil || res.Status != "failed" || !strings.Contains(res.Message, "nothing was changed") {
				t.Errorf("add-gateway-user %v: %v %+v, want a failure saying nothing was changed", params, err, res)
			}
		}
		users, err := admin.Users(ctx)
		if err != nil || len(users) != 1 {
			t.Errorf("etcd users after refused requests: %v %v, want root alone", users, err)
		}
	})

	res, err := m.Run(ctx, "etcd/leader", "add-gateway-user", map[string]any{"username": "patroni", "prefix": "/service/"})
	if err != nil || res.Status != "completed" {
		t.Fatalf("add-gateway-user: %v %+v", err, res)
	}
	gw := gatewayCredentialsFrom(t, res.Results)
	endpoints := memberEndpoints(t, m)

	t.Run("the gateway's own connection to the member carries no user", func(t *testing.T) {
		// Given a user named like a member (the member certificate's CN), as an administrator might make
		// it, with a key only it may read
		memberCN := certCN(t, string(memberKeyPair(t, m, "etcd/0").cert))
		if err := admin.EnsureUser(ctx, memberCN, ""); err != nil {
			t.Fatal(err)
		}
		if err := admin.EnsureRole(ctx, memberCN, []cluster.Permission{cluster.PrefixPermission("/members-only/", cluster.ReadWrite)}); err != nil {
			t.Fatal(err)
		}
		if err := admin.GrantRole(ctx, memberCN, memberCN); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Raw().Put(ctx, "/members-only/secret", "s3cret"); err != nil {
			t.Fatal(err)
		}
		// When a CN-less client asks the gateway without a token (and without an Accept header, which is
		// what lets etcd take the gateway's own certificate as the caller), then no member answers with it
		for _, ep := range endpoints {
			code, body := gw.post(t, ep, "/v3/kv/range", map[string]string{"key": b64("/members-only/secret")}, "")
			if code == http.StatusOK || strings.Contains(string(body), b64("s3cret")) {
				t.Errorf("%s: a token-less gateway request read a key as the member's user: %d %s", ep, code, body)
			}
		}
	})

	t.Run("the peer port admits members only, not the CA's other certificates", func(t *testing.T) {
		credsDir, _ := unpackCredentials(t, m, "etcd/1")
		assertPeerPortMembersOnly(t, m, map[string]keyPair{
			"the admin credentials (CN root)":      readKeyPair(t, credsDir, "client.crt", "client.key"),
			"a gateway user's CN-less certificate": readKeyPair(t, gw.dir, "client.crt", "client.key"),
		})
	})

	t.Run("a password login through the gateway reaches its prefix and nothing else", func(t *testing.T) {
		for _, ep := range endpoints {
			token := gw.login(t, ep, gw.password)
			if code, body := gw.post(t, ep, "/v3/kv/put", map[string]string{"key": b64("/service/probe"), "value": b64(ep)}, token); code != http.StatusOK {
				t.Errorf("%s: put under /service/: %d %s", ep, code, body)
			}
			for _, key := range []string{"/members-only/secret", "/etcd-charm/status/application", "/other"} {
				code, body := gw.post(t, ep, "/v3/kv/range", map[string]string{"key": b64(key)}, token)
				if code == http.StatusOK || !strings.Contains(string(body), "permission denied") {
					t.Errorf("%s: the gateway user read %s: %d %s", ep, key, code, body)
				}
			}
		}
	})

	t.Run("Patroni elects itself leader and keeps its keys under /service/", func(t *testing.T) {
		stop := startPatroni(t, pgBin, gw, endpoints)
		defer stop()
		waitFor(t, 3*time.Minute, "Patroni to take the leader key", func() bool {
			resp, err := admin.Raw().Get(ctx, "/service/pgtest/leader")
			return err == nil && len(resp.Kvs) == 1 && string(resp.Kvs[0].Value) == "pg0" && resp.Kvs[0].Lease != 0
		})
		for _, key := range []string{"/service/pgtest/initialize", "/service/pgtest/members/pg0", "/service/pgtest/config"} {
			if resp, err := admin.Raw().Get(ctx, key); err != nil || len(resp.Kvs) != 1 {
				t.Errorf("Patroni's key %s: %v %v", key, err, resp)
			}
		}
	})

	t.Run("remove-gateway-user: the password no longer logs in", func(t *testing.T) {
		res, err := m.Run(ctx, "etcd/leader", "remove-gateway-user", map[string]any{"username": "patroni"})
		if err != nil || res.Status != "completed" {
			t.Fatalf("remove-gateway-user: %v %+v", err, res)
		}
		code, body := gw.post(t, endpoints[0], "/v3/auth/authenticate", map[string]string{"name": "patroni", "password": gw.password}, "")
		if code == http.StatusOK {
			t.Errorf("a removed gateway user still logs in: %s", body)
		}
		if res, err := m.Run(ctx, "etcd/leader", "remove-gateway-user", map[string]any{"username": "etcd-0"}); err != nil || res.Status != "failed" {
			t.Errorf("remove-gateway-user of a user it did not make: %v %+v, want a failure", err, res)
		}
	})
}

// requirePatroni skips, naming what to install, where Debian's Patroni and PostgreSQL are missing; it
// returns PostgreSQL's bin directory.
func requirePatroni(t *testing.T) string {
	t.Helper()
	initdb, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	_, err := exec.LookPath("patroni")
	_, uerr := user.Lookup("postgres")
	if err != nil || len(initdb) == 0 || uerr != nil || os.Geteuid() != 0 {
		t.Skipf("running Patroni needs root, patroni and postgresql (apt-get install patroni postgresql; .ci/run does): %v %v", err, uerr)
	}
	return filepath.Dir(initdb[len(initdb)-1])
}

type gatewayCredentials struct {
	dir      string // ca.crt, client.crt, client.key
	username string
	password string
	tls      *tls.Config
}

func gatewayCredentialsFrom(t *testing.T, results map[string]any) gatewayCredentials {
	t.Helper()
	str := func(k string) string {
		v, _ := results[k].(string)
		if v == "" {
			t.Fatalf("add-gateway-user gave no %s: %v", k, results)
		}
		return v
	}
	dir, err := os.MkdirTemp("", "gateway-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for name, k := range map[string]string{"ca.crt": "ca", "client.crt": "certificate", "client.key": "key"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(str(k)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cert, err := tls.X509KeyPair([]byte(str("certificate")), []byte(str("key")))
	if err != nil {
		t.Fatal(err)
	}
	if leaf, _ := x509.ParseCertificate(cert.Certificate[0]); leaf == nil || leaf.Subject.CommonName != "" {
		t.Fatalf("the gateway user's certificate has a CN: %v", leaf)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(str("ca")))
	return gatewayCredentials{dir: dir, username: str("username"), password: str("password"),
		tls: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}}
}

// post sends one gateway request as Go's HTTP client does (no Accept header), with a token when given.
func (g gatewayCredentials) post(t *testing.T, endpoint, path string, body any, token string) (int, []byte) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, endpoint+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	cli := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: g.tls}}
	resp, err := cli.Do(req)
	if err != nil {
		t.Fatalf("%s%s: %v", endpoint, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, out
}

func (g gatewayCredentials) login(t *testing.T, endpoint, password string) string {
	t.Helper()
	code, body := g.post(t, endpoint, "/v3/auth/authenticate", map[string]string{"name": g.username, "password": password}, "")
	var r struct{ Token string }
	if code != http.StatusOK || json.Unmarshal(body, &r) != nil || r.Token == "" {
		t.Fatalf("%s: gateway login as %s: %d %s", endpoint, g.username, code, body)
	}
	return r.Token
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// startPatroni runs Debian's Patroni as the postgres user, with the gateway user's credentials, and returns
// a function that stops it and its PostgreSQL.
func startPatroni(t *testing.T, pgBin string, gw gatewayCredentials, endpoints []string) func() {
	t.Helper()
	pg, err := user.Lookup("postgres")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(pg.Uid)
	gid, _ := strconv.Atoi(pg.Gid)
	dir, err := os.MkdirTemp("", "patroni-")
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, ep := range endpoints {
		hosts = append(hosts, strings.TrimPrefix(ep, "https://"))
	}
	config := fmt.Sprintf(`scope: pgtest
namespace: /service/
name: pg0
restapi:
  listen: 127.0.0.1:18008
  connect_address: 127.0.0.1:18008
etcd3:
  hosts: %s
  protocol: https
  cacert: %[2]s/ca.crt
  cert: %[2]s/client.crt
  key: %[2]s/client.key
  username: %[3]s
  password: %[4]s
bootstrap:
  dcs:
    ttl: 30
    loop_wait: 5
    retry_timeout: 10
  initdb:
  - encoding: UTF8
  - locale: C
postgresql:
  listen: 127.0.0.1:15432
  connect_address: 127.0.0.1:15432
  data_dir: %[2]s/data
  bin_dir: %[5]s
  pgpass: %[2]s/pgpass
  authentication:
    superuser:
      username: postgres
      password: postgres-test
    replication:
      username: replicator
      password: replicator-test
  parameters:
    unix_socket_directories: %[2]s
`, strings.Join(hosts, ","), dir, gw.username, gw.password, pgBin)
	for _, name := range []string{"ca.crt", "client.crt", "client.key"} {
		data, err := os.ReadFile(filepath.Join(gw.dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "patroni.yml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	}); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "patroni.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("patroni", filepath.Join(dir, "patroni.yml"))
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "LANG=C.UTF-8"}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting patroni: %v", err)
	}
	return func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logFile.Close()
		if t.Failed() {
			if out, err := os.ReadFile(logPath); err == nil {
				t.Logf("patroni log:\n%s", out[max(0, len(out)-6000):])
			}
		}
		os.RemoveAll(dir)
	}
}
