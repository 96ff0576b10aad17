package charm_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/localmodel/charmpack"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// keyPair is a client certificate and key, as PEM.
type keyPair struct{ cert, key []byte }

func readKeyPair(t *testing.T, dir, cert, key string) keyPair {
	t.Helper()
	c, err1 := os.ReadFile(filepath.Join(dir, cert))
	k, err2 := os.ReadFile(filepath.Join(dir, key))
	if err1 != nil || err2 != nil {
		t.Fatalf("reading %s, %s in %s: %v %v", cert, key, dir, err1, err2)
	}
	return keyPair{c, k}
}

// memberKeyPair is a member's own certificate, as etcd presents it to its peers.
func memberKeyPair(t *testing.T, m *client.Model, unit string) keyPair {
	t.Helper()
	return readKeyPair(t, filepath.Join(unitInfo(t, m, unit).Root, "etc/etcd/tls"), "member.crt", "member.key")
}

// peerPortAnswers asks a member's peer listener for its member list (what a proxy or an attacker would do
// first; raft messages go to /raft on the same listener, behind the same handshake) with this certificate.
func peerPortAnswers(peerURL string, kp keyPair, caPEM string) error {
	cert, err := tls.X509KeyPair(kp.cert, kp.key)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(caPEM))
	cli := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := cli.Get(peerURL + "/members")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, body)
	}
	return nil
}

func peerURLs(t *testing.T, m *client.Model) []string {
	t.Helper()
	var out []string
	for _, u := range aliveUnits(t, m) {
		out = append(out, "https://"+unitInfo(t, m, u).Address+":2380")
	}
	return out
}

// assertPeerPortMembersOnly: every member's peer listener answers a member's certificate and refuses, in
// the TLS handshake, each of the others (all signed by the same CA).
func assertPeerPortMembersOnly(t *testing.T, m *client.Model, others map[string]keyPair) {
	t.Helper()
	caPEM := readCA(t, m)
	member := memberKeyPair(t, m, aliveUnits(t, m)[0])
	for _, peer := range peerURLs(t, m) {
		if err := peerPortAnswers(peer, member, caPEM); err != nil {
			t.Errorf("%s refuses a member's certificate: %v", peer, err)
		}
		for what, kp := range others {
			err := peerPortAnswers(peer, kp, caPEM)
			if err == nil {
				t.Errorf("%s answers %s", peer, what)
				continue
			}
			if !strings.Contains(err.Error(), "tls") && !strings.Contains(err.Error(), "certificate") {
				t.Errorf("%s refuses %s, but not in the handshake: %v", peer, what, err)
			}
		}
	}
}

// The charm before the member CN: member certificates named after the members, and a peer port open to
// every certificate of the cluster CA. It is the last landed revision before them, which every clone holds.
const charmBeforeMemberCN = "1461e6d"

// Given a cluster deployed by the charm before the member CN, when it is refreshed to this charm, then each
// member moves to the member CN and demands it on its peer port, and a client writing all along never sees
// the cluster unavailable.
func TestGivenAClusterFromBeforeTheMemberCNWhenRefreshedThenOnlyMembersReachThePeerPortAndWritesNeverStop(t *testing.T) {
	old := charmAtRevision(t, charmBeforeMemberCN)
	m := newModel(t)
	ctx := context.Background()
	if _, err := m.Deploy(ctx, old, client.DeployOptions{App: "etcd", NumUnits: 3}); err != nil {
		t.Fatal(err)
	}
	waitAppsActive(t, m, 6*time.Minute, "etcd")
	credsDir, _ := unpackCredentials(t, m, "etcd/0")
	admin := readKeyPair(t, credsDir, "client.crt", "client.key")
	caPEM := readCA(t, m)
	for _, peer := range peerURLs(t, m) {
		if err := peerPortAnswers(peer, admin, caPEM); err != nil {
			t.Fatalf("given: the old charm's peer port should answer any certificate of its CA, but %s: %v", peer, err)
		}
	}

	// A client writes through every member, each write with its own deadline, while the refresh rolls. Like
	// any etcd client it sends a write again when etcd refuses it for a moment (a proposal dropped while
	// leadership moves to the next member, a member restarting): the cluster is unavailable only when a
	// write cannot succeed within its deadline.
	cli := adminClient(t, m)
	var writes, failures, retried atomic.Int64
	var firstFailure, firstRetry atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			_, err := cli.Raw().Put(wctx, fmt.Sprintf("/rotation/%06d", i), "v")
			for err != nil && cluster.IsTransient(err) && wctx.Err() == nil {
				retried.Add(1)
				firstRetry.CompareAndSwap(nil, err.Error())
				time.Sleep(50 * time.Millisecond)
				_, err = cli.Raw().Put(wctx, fmt.Sprintf("/rotation/%06d", i), "v")
			}
			cancel()
			writes.Add(1)
			if err != nil {
				failures.Add(1)
				firstFailure.CompareAndSwap(nil, err.Error())
			}
		}
	}()

	if err := m.Refresh(ctx, "etcd", artefacts.charm); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 8*time.Minute, "every member to demand the member CN on its peer port", func() bool {
		for _, u := range aliveUnits(t, m) {
			conf, err := os.ReadFile(filepath.Join(unitInfo(t, m, u).Root, "etc/etcd/etcd.conf.yml"))
			if err != nil || !strings.Contains(string(conf), "allowed-cn") {
				return false
			}
		}
		return true
	})
	waitIdle(t, m)
	waitAppsActive(t, m, 4*time.Minute, "etcd")
	close(stop)
	wg.Wait()
	t.Logf("%d writes during the refresh and rotation, %d failed, %d attempts refused for a moment and sent again (the first: %v)",
		writes.Load(), failures.Load(), retried.Load(), firstRetry.Load())
	for _, line := range debugLines(t, m, "restarting etcd-", "every unit presents the member CN") {
		t.Log(line)
	}
	if n := failures.Load(); n > 0 || writes.Load() == 0 {
		t.Errorf("%d of %d writes failed during the rotation; the first: %v", n, writes.Load(), firstFailure.Load())
	}
	assertPeerPortMembersOnly(t, m, map[string]keyPair{"the admin credentials (CN root)": admin})
	assertCluster(t, m, nil)
}

// charmAtRevision builds and packs the charm as it was at a commit of this repository, for scenarios that
// start from a cluster an older charm deployed. It fails (never skips) when the commit is not in the
// checkout: CI clones the whole history. patches (paths) are applied to that tree, in order, before the build.
func charmAtRevision(t *testing.T, rev string, patches ...string) string {
	t.Helper()
	build(t)
	src := t.TempDir()
	archive := exec.Command("git", "-C", repoRoot(), "archive", "--format=tar", rev)
	untar := exec.Command("tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	untar.Stdin = pipe
	var stderr strings.Builder
	archive.Stderr = &stderr
	if err := untar.Start(); err != nil {
		t.Fatal(err)
	}
	if err := archive.Run(); err != nil {
		t.Fatalf("the charm at %s is not in this checkout (git archive: %v %s); fetch the full history", rev, err, stderr.String())
	}
	if err := untar.Wait(); err != nil {
		t.Fatal(err)
	}
	for _, p := range patches {
		apply := exec.Command("git", "apply", p)
		apply.Dir = src
		if out, err := apply.CombinedOutput(); err != nil {
			t.Fatalf("applying %s to the charm at %s: %v %s", p, rev, err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out := filepath.Join(t.TempDir(), "etcd_"+rev+".charm")
	bin := filepath.Join(filepath.Dir(out), "dispatch")
	if err := charmpack.Build(ctx, src, "./cmd/etcd-charm", bin); err != nil {
		t.Fatalf("building the charm at %s: %v", rev, err)
	}
	if err := charmpack.Pack(filepath.Join(src, "charmcraft.yaml"), bin, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// debugLines are the model's debug-log lines that contain any of these phrases.
func debugLines(t *testing.T, m *client.Model, phrases ...string) []string {
	t.Helper()
	lines, err := m.DebugLog("")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range lines {
		for _, p := range phrases {
			if strings.Contains(l, p) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}
