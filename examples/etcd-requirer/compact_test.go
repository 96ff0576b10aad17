package main

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

func TestCompactionDue(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name     string
		interval time.Duration
		last     time.Time
		want     bool
	}{
		{"off", 0, now.Add(-time.Hour), false},
		{"no round on record yet: the clock starts instead", 5 * time.Minute, time.Time{}, false},
		{"an interval has passed", 5 * time.Minute, now.Add(-5 * time.Minute), true},
		{"more than an interval has passed", 5 * time.Minute, now.Add(-time.Hour), true},
		{"not yet", 5 * time.Minute, now.Add(-4 * time.Minute), false},
		{"a last round in the future (the clock went back)", 5 * time.Minute, now.Add(time.Minute), false},
	} {
		if got := compactionDue(c.interval, c.last, now); got != c.want {
			t.Errorf("%s: due %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCompactionIntervalConfig(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "5m": 5 * time.Minute, "1m": time.Minute, "2h30m": 150 * time.Minute} {
		if got, err := parseCompactionInterval(in); err != nil || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"59s", "0", "-5m", "5", "five minutes"} {
		if _, err := parseCompactionInterval(in); err == nil || !strings.Contains(err.Error(), "at least 1m") {
			t.Errorf("%q: %v, want a refusal naming the minimum", in, err)
		}
	}
}

// startEtcd runs a one-member etcd in the test process (plain HTTP on loopback: the round's logic is under
// test here, not TLS) and returns a client.
func startEtcd(t *testing.T) *clientv3.Client {
	t.Helper()
	port := func() url.URL {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return url.URL{Scheme: "http", Host: l.Addr().String()}
	}
	cfg := embed.NewConfig()
	cfg.Dir = t.TempDir()
	cfg.ListenClientUrls = []url.URL{port()}
	cfg.AdvertiseClientUrls = cfg.ListenClientUrls
	cfg.ListenPeerUrls = []url.URL{port()}
	cfg.AdvertisePeerUrls = cfg.ListenPeerUrls
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(time.Minute):
		t.Fatal("etcd did not start")
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{cfg.ListenClientUrls[0].String()}, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// racingKV lets another compactor claim the round between our read of compact_rev_key and our claim.
type racingKV struct{ clientv3.KV }

func (k racingKV) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	resp, err := k.KV.Get(ctx, key, opts...)
	if err == nil {
		_, err = k.KV.Put(ctx, compactRevKey, "1")
	}
	return resp, err
}

func TestCompactionRoundsAsKubeAPIServer(t *testing.T) {
	c := startEtcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	write := func() int64 {
		t.Helper()
		resp, err := c.Put(ctx, "/registry/pods/p", time.Now().String())
		if err != nil {
			t.Fatal(err)
		}
		return resp.Header.Revision
	}
	readAt := func(rev int64) error {
		_, err := c.Get(ctx, "/registry/pods/p", clientv3.WithRev(rev))
		return err
	}
	write()

	// Given no earlier claim, when a round runs, then it claims the current revision and compacts nothing
	first := write()
	r, err := compactRound(ctx, c)
	if err != nil || r.Compacted != 0 || r.Claimed != first {
		t.Fatalf("first round: %+v %v, want a claim of revision %d and no compaction", r, err, first)
	}
	kv, err := c.Get(ctx, compactRevKey)
	if err != nil || len(kv.Kvs) != 1 || string(kv.Kvs[0].Value) != strconv.FormatInt(first, 10) {
		t.Fatalf("compact_rev_key after the first round: %v %v", kv, err)
	}

	// When the next round runs, then it compacts to the first round's claim: older revisions are gone, the
	// claimed one is still readable
	write()
	r2, err := compactRound(ctx, c)
	if err != nil || r2.Compacted != first || r2.Already || r2.Claimed <= first {
		t.Fatalf("second round: %+v %v, want a compaction to %d", r2, err, first)
	}
	if err := readAt(first - 1); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Fatalf("reading below the compacted revision: %v", err)
	}
	if err := readAt(first); err != nil {
		t.Fatalf("reading at the compacted revision: %v", err)
	}

	// When another compactor claims between our read and our claim, then the round is lost and nothing
	// is compacted
	if _, err := compactRound(ctx, racingKV{c}); !errors.Is(err, errRoundLost) {
		t.Fatalf("a raced round: %v, want errRoundLost", err)
	}

	// When etcd has compacted past the claim already, then the round says so and still claims
	below := strconv.FormatInt(first-1, 10)
	if _, err := c.Put(ctx, compactRevKey, below); err != nil {
		t.Fatal(err)
	}
	r3, err := compactRound(ctx, c)
	if err != nil || !r3.Already || r3.Compacted != first-1 {
		t.Fatalf("a round behind etcd's compaction: %+v %v", r3, err)
	}

	// When the key holds no revision, then the round claims without compacting
	if _, err := c.Put(ctx, compactRevKey, "not a revision"); err != nil {
		t.Fatal(err)
	}
	if r4, err := compactRound(ctx, c); err != nil || r4.Compacted != 0 {
		t.Fatalf("a round over a bad value: %+v %v", r4, err)
	}
}
