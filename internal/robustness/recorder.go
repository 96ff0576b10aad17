package robustness

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Traffic bounds one recording. Zero fields take the defaults below.
type Traffic struct {
	Keys      int    // size of the key set; small, so clients contend
	KeyPrefix string // keys are KeyPrefix + "k<n>"; a fresh prefix gives a history that starts empty
	// MaxDuration and MaxOperations stop the recording by themselves.
	MaxDuration   time.Duration
	MaxOperations int
	// RequestTimeout is short so a stuck member turns into unknown outcomes, not a stalled history.
	RequestTimeout time.Duration
	// Pause between one client's requests keeps the load modest on a shared machine.
	Pause time.Duration
	Seed  uint64
	// SerializableReads makes every get a serializable read, answered from the local store of whichever
	// member receives it without confirming leadership: a deliberately weaker client, for showing the
	// checker catches the stale reads a cut-off member serves.
	SerializableReads bool
	// ReadOnlyClients makes the first so many clients only read: a reader pointed at a cut-off member then
	// keeps reading instead of waiting out one write timeout after another.
	ReadOnlyClients int
}

// Defaults for Traffic fields left zero.
const (
	DefaultKeys           = 6
	DefaultMaxDuration    = 2 * time.Minute
	DefaultMaxOperations  = 50000
	DefaultRequestTimeout = 2 * time.Second
	DefaultPause          = 10 * time.Millisecond
)

func (t Traffic) withDefaults() Traffic {
	if t.Keys <= 0 {
		t.Keys = DefaultKeys
	}
	if t.MaxDuration <= 0 {
		t.MaxDuration = DefaultMaxDuration
	}
	if t.MaxOperations <= 0 {
		t.MaxOperations = DefaultMaxOperations
	}
	if t.RequestTimeout <= 0 {
		t.RequestTimeout = DefaultRequestTimeout
	}
	if t.Pause <= 0 {
		t.Pause = DefaultPause
	}
	return t
}

func (t Traffic) keys() []string {
	keys := make([]string, t.Keys)
	for i := range keys {
		keys[i] = fmt.Sprintf("%sk%d", t.KeyPrefix, i)
	}
	return keys
}

// Recorder drives one goroutine per client, each issuing one request at a time (the checker assumes no
// client has two requests in flight).
type Recorder struct {
	traffic Traffic
	keys    []string
	start   time.Time
	stop    chan struct{}
	done    chan struct{}
	stopped sync.Once

	issued atomic.Int64
	acked  atomic.Int64

	mu  sync.Mutex
	ops [][]Operation // per client
}

// Start begins recording with one client per element of clients. Give each its own connection when the
// clients should spread over members the way independent applications do.
func Start(clients []clientv3.KV, traffic Traffic) *Recorder {
	traffic = traffic.withDefaults()
	r := &Recorder{
		traffic: traffic,
		keys:    traffic.keys(),
		start:   time.Now(),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		ops:     make([][]Operation, len(clients)),
	}
	var wg sync.WaitGroup
	for i, kv := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.drive(i, kv)
		}()
	}
	go func() {
		wg.Wait()
		close(r.done)
	}()
	go func() {
		select {
		case <-time.After(traffic.MaxDuration):
			r.halt()
		case <-r.done:
		}
	}()
	return r
}

// Done is closed once every client has stopped, by Stop or by reaching a bound.
func (r *Recorder) Done() <-chan struct{} { return r.done }

// AcknowledgedWrites counts writes etcd has answered so far, for a scenario that waits for traffic to flow.
func (r *Recorder) AcknowledgedWrites() int64 { return r.acked.Load() }

func (r *Recorder) halt() { r.stopped.Do(func() { close(r.stop) }) }

// Stop ends the recording, waits for in-flight requests (each bounded by the request timeout) and returns
// the history.
func (r *Recorder) Stop() History {
	r.halt()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	h := History{Clients: len(r.ops), Keys: r.keys, start: r.start}
	for _, ops := range r.ops {
		h.Operations = append(h.Operations, ops...)
	}
	return h
}

// client is one recording client's own view: its random source and the last value it knows per key, so
// its compare-and-swaps often succeed.
type client struct {
	id    int
	kv    clientv3.KV
	rng   *rand.Rand
	seq   int
	known map[string]string
	// readOnly clients issue only gets.
	readOnly bool
}

func (r *Recorder) drive(id int, kv clientv3.KV) {
	c := &client{id: id, kv: kv, rng: rand.New(rand.NewPCG(r.traffic.Seed, uint64(id))), known: map[string]string{},
		readOnly: id < r.traffic.ReadOnlyClients}
	for {
		select {
		case <-r.stop:
			return
		default:
		}
		if r.issued.Add(1) > int64(r.traffic.MaxOperations) {
			r.halt()
			return
		}
		op := r.call(c, c.next(r.keys))
		r.mu.Lock()
		r.ops[id] = append(r.ops[id], op)
		r.mu.Unlock()
		if op.IsWrite() && op.Acknowledged() {
			r.acked.Add(1)
		}
		select {
		case <-r.stop:
			return
		case <-time.After(r.traffic.Pause):
		}
	}
}

// next picks a request: reads and puts in equal parts, and a compare-and-swap against the value this
// client last saw when it has seen one.
func (c *client) next(keys []string) Request {
	key := keys[c.rng.IntN(len(keys))]
	c.seq++
	value := fmt.Sprintf("c%d-%d", c.id, c.seq)
	switch n := c.rng.IntN(10); {
	case n < 4 || c.readOnly:
		return Request{Kind: Get, Key: key}
	case n < 7 || c.known[key] == "":
		return Request{Kind: Put, Key: key, Value: value}
	default:
		return Request{Kind: CAS, Key: key, Value: value, Expect: c.known[key]}
	}
}

func (r *Recorder) call(c *client, req Request) Operation {
	ctx, cancel := context.WithTimeout(context.Background(), r.traffic.RequestTimeout)
	defer cancel()
	op := Operation{Client: c.id, Request: req, Call: time.Since(r.start)}
	resp, err := do(ctx, c.kv, req, r.traffic.readOptions()...)
	op.Return = time.Since(r.start)
	if err != nil {
		// The request may still be applied after we gave up on it.
		op.Return = Never
		op.Response = Response{Unknown: true, Err: errorSummary(err)}
		return op
	}
	op.Response = resp
	switch {
	case req.Kind == Get:
		c.known[req.Key] = resp.Value
	case req.Kind == Put || resp.Succeeded:
		c.known[req.Key] = req.Value
	}
	return op
}

func (t Traffic) readOptions() []clientv3.OpOption {
	if t.SerializableReads {
		return []clientv3.OpOption{clientv3.WithSerializable()}
	}
	return nil
}

// do sends one request. Reads are linearizable (clientv3's default) unless readOpts say otherwise.
func do(ctx context.Context, kv clientv3.KV, req Request, readOpts ...clientv3.OpOption) (Response, error) {
	switch req.Kind {
	case Get:
		resp, err := kv.Get(ctx, req.Key, readOpts...)
		if err != nil {
			return Response{}, err
		}
		out := Response{Revision: resp.Header.GetRevision()}
		if len(resp.Kvs) > 0 {
			out.Value = string(resp.Kvs[0].Value)
		}
		return out, nil
	case Put:
		resp, err := kv.Put(ctx, req.Key, req.Value)
		if err != nil {
			return Response{}, err
		}
		return Response{Revision: resp.Header.GetRevision()}, nil
	case CAS:
		resp, err := kv.Txn(ctx).
			If(clientv3.Compare(clientv3.Value(req.Key), "=", req.Expect)).
			Then(clientv3.OpPut(req.Key, req.Value)).
			Commit()
		if err != nil {
			return Response{}, err
		}
		return Response{Succeeded: resp.Succeeded, Revision: resp.Header.GetRevision()}, nil
	}
	return Response{}, fmt.Errorf("unknown request kind %v", req.Kind)
}

func errorSummary(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	msg := err.Error()
	if len(msg) > 80 {
		msg = msg[:80] + "..."
	}
	return msg
}

// ReadFinal reads every key linearizably after the faults are over and appends the reads to the history,
// after every other operation, so the checker proves what survived. Each key is retried until ctx ends.
func (h *History) ReadFinal(ctx context.Context, kv clientv3.KV, requestTimeout time.Duration) error {
	if requestTimeout <= 0 {
		requestTimeout = DefaultRequestTimeout
	}
	for _, key := range h.Keys {
		for {
			rctx, cancel := context.WithTimeout(ctx, requestTimeout)
			call := time.Since(h.start)
			resp, err := do(rctx, kv, Request{Kind: Get, Key: key})
			ret := time.Since(h.start)
			cancel()
			if err == nil {
				h.Operations = append(h.Operations, Operation{Client: h.Clients, Request: Request{Kind: Get, Key: key},
					Response: resp, Call: call, Return: ret})
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("final read of %s: %w (last error: %v)", key, ctx.Err(), err)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	h.FinalReads = true
	return nil
}
