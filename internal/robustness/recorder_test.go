package robustness

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// startEtcd runs a real one-member etcd for the test, plain HTTP on loopback.
func startEtcd(t *testing.T) *clientv3.Client {
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Dir = t.TempDir()
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	client, peer := freeURL(t), freeURL(t)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.Name + "=" + peer.String()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("starting etcd: %v", err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(time.Minute):
		t.Fatal("etcd did not become ready within a minute")
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{client.String()}, DialTimeout: 5 * time.Second,
		Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func freeURL(t *testing.T) url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}
}

// record runs traffic until at least minWrites writes were acknowledged, then reads the keys back.
func record(t *testing.T, kvs []clientv3.KV, final clientv3.KV, minWrites int64) History {
	t.Helper()
	rec := Start(kvs, Traffic{KeyPrefix: "t/", Keys: 4, MaxDuration: 30 * time.Second, Pause: time.Millisecond})
	deadline := time.After(20 * time.Second)
	for rec.AcknowledgedWrites() < minWrites {
		select {
		case <-deadline:
			t.Fatalf("only %d writes acknowledged in 20s", rec.AcknowledgedWrites())
		case <-time.After(50 * time.Millisecond):
		}
	}
	h := rec.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := h.ReadFinal(ctx, final, 0); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestGivenARealEtcdWhenFourClientsRecordTrafficThenTheHistoryPassesEveryCheck(t *testing.T) {
	cli := startEtcd(t)
	h := record(t, []clientv3.KV{cli, cli, cli, cli}, cli, 100)

	r := Check(h, CheckOptions{Timeout: time.Minute})
	if !r.OK() {
		t.Fatalf("a healthy etcd failed the checker: %v", r.Violations)
	}
	kinds := map[Kind]int{}
	casSucceeded := 0
	for _, op := range h.Operations {
		kinds[op.Request.Kind]++
		if op.Request.Kind == CAS && op.Response.Succeeded {
			casSucceeded++
		}
	}
	if kinds[Get] == 0 || kinds[Put] == 0 || casSucceeded == 0 || len(h.Keys) != 4 {
		t.Fatalf("traffic did not mix reads, puts and successful swaps over the key set: %v, %d swaps, keys %v",
			kinds, casSucceeded, h.Keys)
	}
	t.Logf("%d operations, checked in %s", r.Stats.Operations, r.CheckTime)
}

func TestGivenAClientThatAcknowledgesPutsItNeverSentWhenCheckedThenTheHistoryIsRejected(t *testing.T) {
	cli := startEtcd(t)
	// A lie goes unnoticed only while no read or swap touches its key before the next write, so enough
	// of them are told that missing every one is out of the question.
	liar := AcknowledgeWithoutSending(cli, 3)
	h := record(t, []clientv3.KV{liar, cli, cli}, cli, 600)

	r := Check(h, CheckOptions{Timeout: time.Minute})
	if r.OK() || !strings.Contains(strings.Join(r.Violations, "\n"), "not linearizable") {
		t.Fatalf("the checker missed acknowledged writes that were never sent: %v", r.Violations)
	}
}

func TestGivenTrafficBoundsWhenReachedThenTheRecorderStopsByItself(t *testing.T) {
	cli := startEtcd(t)
	rec := Start([]clientv3.KV{cli, cli}, Traffic{KeyPrefix: "b/", MaxOperations: 50, Pause: time.Millisecond})
	select {
	case <-rec.Done():
	case <-time.After(time.Minute):
		t.Fatal("the recorder did not stop at its operation bound")
	}
	if n := len(rec.Stop().Operations); n > 50 {
		t.Fatalf("%d operations recorded, bound 50", n)
	}
	rec = Start([]clientv3.KV{cli}, Traffic{KeyPrefix: "d/", MaxDuration: 300 * time.Millisecond})
	select {
	case <-rec.Done():
	case <-time.After(time.Minute):
		t.Fatal("the recorder did not stop at its duration bound")
	}
}

func TestGivenReadOnlyClientsWhenTrafficIsRecordedThenTheyOnlyReadAndTheOthersStillWrite(t *testing.T) {
	cli := startEtcd(t)
	rec := Start([]clientv3.KV{cli, cli, cli}, Traffic{KeyPrefix: "ro/", Keys: 4, MaxOperations: 600,
		Pause: time.Millisecond, ReadOnlyClients: 2})
	<-rec.Done()
	h := rec.Stop()
	perClient := map[int]int{}
	for _, op := range h.Operations {
		perClient[op.Client]++
		if op.Client < 2 && op.Request.Kind != Get {
			t.Fatalf("read-only client %d issued %v", op.Client, op.Request)
		}
	}
	writes := 0
	for _, op := range h.Operations {
		if op.Client == 2 && op.IsWrite() {
			writes++
		}
	}
	if perClient[0] == 0 || perClient[1] == 0 || writes == 0 {
		t.Fatalf("operations per client %v, writes by the third %d: every client should have worked, the third written", perClient, writes)
	}
}
