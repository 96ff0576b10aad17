// Command etcd35 writes the etcd 3.5 snapshots the charm's restore tests read: one streamed through the
// snapshot API (bare, with etcd's sha256 trailer) and one raw copy of member/snap/db of a stopped member,
// as the classic charm's snapshot action took it. It is a module of its own (etcd 3.5 cannot share a build
// with the 3.7 the charm embeds). Regenerate with
//
//	cd internal/etcd/testdata/etcd35 && go run . OUT
//	cp OUT/etcd-3.5.db ../etcd-3.5.36.db
//	mkdir c && cp OUT/etcd-3.5-member-db c/db && (cd c && tar czf ../../etcd-3.5.36-classic.tar.gz ./db)
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

func main() {
	out := os.Args[1]
	dir, err := os.MkdirTemp("", "etcd35")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg := embed.NewConfig()
	cfg.Name, cfg.Dir = "old", filepath.Join(dir, "data")
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	c, _ := url.Parse("http://127.0.0.1:23790")
	p, _ := url.Parse("http://127.0.0.1:23800")
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls, cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{*c}, []url.URL{*c}, []url.URL{*p}, []url.URL{*p}
	cfg.InitialCluster = "old=" + p.String()
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		log.Fatal(err)
	}
	<-e.Server.ReadyNotify()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{c.String()}, DialTimeout: 10 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for i := range 50 {
		if _, err := cli.Put(ctx, fmt.Sprintf("/registry/k%02d", i), fmt.Sprintf("value %d from etcd 3.5", i)); err != nil {
			log.Fatal(err)
		}
	}
	rc, err := cli.Snapshot(ctx)
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(filepath.Join(out, "etcd-3.5.db"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := io.Copy(f, rc); err != nil {
		log.Fatal(err)
	}
	f.Close()
	cli.Close()
	e.Close()
	raw, err := os.ReadFile(filepath.Join(cfg.Dir, "member", "snap", "db"))
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "etcd-3.5-member-db"), raw, 0o600); err != nil {
		log.Fatal(err)
	}
}
