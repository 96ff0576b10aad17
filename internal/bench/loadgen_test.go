package bench

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/etcdmain"

	"github.com/etcd-charm/etcd/localmodel/lmtest"
)

// The test binary doubles as etcd, as the charm binary does, so the hand-run cluster needs no extra build.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "etcd" {
		etcdmain.Main(os.Args[1:])
		return
	}
	lmtest.Main(m)
}

func startTinyCluster(t *testing.T) (*HandCluster, Target) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	h, err := StartHandCluster(ctx, self, t.TempDir(), 3, nil)
	if err != nil {
		t.Fatalf("starting the hand-run cluster: %v", err)
	}
	t.Cleanup(h.Stop)
	target, err := h.Target()
	if err != nil {
		t.Fatal(err)
	}
	return h, target
}

func TestGivenAHandRunClusterWhenLoadedWithAFixedTotalThenEveryRequestIsCountedAndPercentilesAreOrdered(t *testing.T) {
	h, target := startTinyCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var g Generator
	if err := g.Prepare(ctx, target, 256); err != nil {
		t.Fatal(err)
	}
	before, err := ScrapeHistogram(ctx, h.Endpoints, target.TLS, WALFsyncMetric)
	if err != nil {
		t.Fatalf("scraping WAL fsync metrics with the client certificate: %v", err)
	}

	for _, w := range []Workload{
		{Op: OpPut, Clients: 8, Conns: 2, KeySize: 8, ValueSize: 256, Total: 300},
		{Op: OpRangeLinearizable, Clients: 4, Conns: 2, KeySize: 8, ValueSize: 256, Total: 200},
		{Op: OpRangeSerializable, Clients: 1, Conns: 1, KeySize: 8, ValueSize: 256, Total: 200},
	} {
		res, err := g.Run(ctx, target, w)
		if err != nil {
			t.Fatalf("%s: %v", w.Name(), err)
		}
		if res.Count() != w.Total || res.Errors != 0 {
			t.Errorf("%s: %d acknowledged, %d errors (%v); want %d and 0", w.Name(), res.Count(),
				res.Errors, res.FirstErr, w.Total)
		}
		p50, p99 := res.Percentile(50), res.Percentile(99)
		if !(res.Latencies[0] <= p50 && p50 <= p99 && p99 <= res.Latencies[len(res.Latencies)-1]) || p50 <= 0 {
			t.Errorf("%s: min %v p50 %v p99 %v max %v are not ordered", w.Name(), res.Latencies[0], p50, p99, res.Latencies[len(res.Latencies)-1])
		}
		if res.Rate() <= 0 {
			t.Errorf("%s: throughput %v", w.Name(), res.Rate())
		}
	}

	// The puts were distinct keys: all 300 are there, and the cluster counted their WAL syncs.
	cli, err := h.Creds.Dial(ctx, h.Endpoints)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	resp, err := cli.Raw().Get(ctx, "", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Count != 300+1 { // the puts and the range key
		t.Errorf("keys in the cluster: %d, want 301 (300 distinct puts and the range key)", resp.Count)
	}
	after, err := ScrapeHistogram(ctx, h.Endpoints, target.TLS, WALFsyncMetric)
	if err != nil {
		t.Fatal(err)
	}
	if d := after.Sub(before); d.Total() < 300 || !(d.Quantile(0.99) > 0) {
		t.Errorf("WAL fsyncs during the puts: %v, p99 %v s; want at least one per put on some member", d.Total(), d.Quantile(0.99))
	}
}

func TestGivenADurationWhenTheClockRunsOutThenTheRunStopsAndReportsThatTime(t *testing.T) {
	h, target := startTinyCluster(t)
	var g Generator
	ctx := context.Background()
	if err := g.Prepare(ctx, target, 16); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := g.Run(ctx, target, Workload{Op: OpRangeSerializable, Clients: 2, Conns: 1, KeySize: 8, ValueSize: 16, Duration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Elapsed != 500*time.Millisecond || res.Count() == 0 || time.Since(start) > 20*time.Second {
		t.Errorf("elapsed %v with %d requests; want exactly the 500ms asked for and some requests", res.Elapsed, res.Count())
	}

	// Stopping leaves nothing of the cluster running.
	group := h.proc.Process.Pid
	h.Stop()
	if err := syscall.Kill(-group, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("processes of the hand-run cluster remain after Stop (kill -0 on its group: %v)", err)
	}
}

func TestGivenABadWorkloadWhenRunThenItIsRefusedNamingTheProblem(t *testing.T) {
	var g Generator
	_, err := g.Run(context.Background(), Target{}, Workload{Op: OpPut, Clients: 1, Conns: 2, Total: 1})
	if err == nil {
		t.Fatal("more connections than clients was accepted")
	}
	_, err = g.Run(context.Background(), Target{}, Workload{Op: OpPut, Clients: 1, Conns: 1})
	if err == nil {
		t.Fatal("a workload with neither duration nor total was accepted")
	}
}
