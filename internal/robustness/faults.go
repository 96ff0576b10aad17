package robustness

import (
	"context"
	"sync"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// AcknowledgeWithoutSending is a deliberately broken client for proving that the checker bites: every
// every-th put is answered "ok" without reaching etcd, with the latest revision this client has seen, as a
// buggy proxy or a client library that swallows an error would.
func AcknowledgeWithoutSending(kv clientv3.KV, every int) clientv3.KV {
	return &lyingKV{KV: kv, every: max(every, 1)}
}

type lyingKV struct {
	clientv3.KV
	every int

	mu       sync.Mutex
	puts     int
	revision int64
}

func (l *lyingKV) seen(h *etcdserverpb.ResponseHeader) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.revision = max(l.revision, h.GetRevision())
}

func (l *lyingKV) Put(ctx context.Context, key, val string, opts ...clientv3.OpOption) (*clientv3.PutResponse, error) {
	l.mu.Lock()
	l.puts++
	lie, rev := l.puts%l.every == 0, l.revision
	l.mu.Unlock()
	if lie {
		return &clientv3.PutResponse{Header: &etcdserverpb.ResponseHeader{Revision: rev}}, nil
	}
	resp, err := l.KV.Put(ctx, key, val, opts...)
	if err == nil {
		l.seen(resp.Header)
	}
	return resp, err
}

func (l *lyingKV) Get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	resp, err := l.KV.Get(ctx, key, opts...)
	if err == nil {
		l.seen(resp.Header)
	}
	return resp, err
}
