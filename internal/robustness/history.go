package robustness

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Kind is what a client asked etcd to do.
type Kind uint8

const (
	// Put writes Request.Value to Request.Key.
	Put Kind = iota + 1
	// Get reads Request.Key linearizably.
	Get
	// CAS is a transaction: if Request.Key holds Request.Expect, put Request.Value.
	CAS
)

func (k Kind) String() string {
	switch k {
	case Put:
		return "put"
	case Get:
		return "get"
	case CAS:
		return "cas"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Request is one client call. Every written value is unique in a history, so a read names the write it saw.
type Request struct {
	Kind   Kind
	Key    string
	Value  string // Put and CAS: the value written
	Expect string // CAS: the value the key must hold
}

// Response is what came back. An absent key reads as "".
type Response struct {
	// Unknown: the call failed or timed out, so a write may or may not have been applied.
	Unknown   bool
	Err       string
	Value     string // Get
	Succeeded bool   // CAS: the comparison held and the put was applied
	Revision  int64  // the response header's store revision, 0 when there was no answer
}

// Never is the return time of an operation whose outcome is unknown: a request etcd may still apply after
// the client gave up is concurrent with everything that follows its call.
const Never = time.Duration(math.MaxInt64)

// Operation is one request with its call and return times, measured on the monotonic clock from the start
// of the history.
type Operation struct {
	Client       int
	Request      Request
	Response     Response
	Call, Return time.Duration
}

// IsWrite reports whether the request goes through raft as a write.
func (o Operation) IsWrite() bool { return o.Request.Kind == Put || o.Request.Kind == CAS }

// Acknowledged reports whether etcd answered the request.
func (o Operation) Acknowledged() bool { return !o.Response.Unknown }

func (o Operation) String() string {
	r := o.Request
	var call string
	switch r.Kind {
	case Put:
		call = fmt.Sprintf("put(%s, %s)", r.Key, r.Value)
	case Get:
		call = fmt.Sprintf("get(%s)", r.Key)
	case CAS:
		call = fmt.Sprintf("cas(%s, %s -> %s)", r.Key, r.Expect, r.Value)
	}
	return call + " -> " + o.Response.String(r.Kind)
}

// String describes the response in the request's terms.
func (r Response) String(kind Kind) string {
	switch {
	case r.Unknown:
		return "unknown (" + r.Err + ")"
	case kind == Get && r.Value == "":
		return fmt.Sprintf("absent @%d", r.Revision)
	case kind == Get:
		return fmt.Sprintf("%s @%d", r.Value, r.Revision)
	case kind == CAS && !r.Succeeded:
		return fmt.Sprintf("compare failed @%d", r.Revision)
	}
	return fmt.Sprintf("ok @%d", r.Revision)
}

// History is every operation of one recording, with the final reads appended after recovery.
type History struct {
	Operations []Operation
	// Clients counts the traffic clients; final reads are recorded as client number Clients.
	Clients int
	// Keys are the keys the traffic used.
	Keys []string
	// FinalReads says ReadFinal completed, so every key's surviving value is in the history.
	FinalReads bool
	// start anchors the operations' times, so final reads taken later share their clock.
	start time.Time
}

// Stats are what a history measured; printed, never asserted.
type Stats struct {
	Operations      int
	Acknowledged    int
	Unknown         int // requests that failed or timed out
	UnknownWrites   int
	LongestWriteGap time.Duration // longest time between two acknowledged writes
	Duration        time.Duration
}

// Stats measures the traffic part of the history (final reads excluded).
func (h History) Stats() Stats {
	var s Stats
	var acked []time.Duration
	for _, op := range h.Operations {
		if op.Client >= h.Clients {
			continue
		}
		s.Operations++
		if op.Acknowledged() {
			s.Acknowledged++
			s.Duration = max(s.Duration, op.Return)
			if op.IsWrite() {
				acked = append(acked, op.Return)
			}
			continue
		}
		s.Unknown++
		if op.IsWrite() {
			s.UnknownWrites++
		}
	}
	sort.Slice(acked, func(i, j int) bool { return acked[i] < acked[j] })
	for i := 1; i < len(acked); i++ {
		s.LongestWriteGap = max(s.LongestWriteGap, acked[i]-acked[i-1])
	}
	return s
}
