package robustness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

const ms = time.Millisecond

func put(client int, key, value string, call, ret time.Duration, rev int64) Operation {
	return Operation{Client: client, Request: Request{Kind: Put, Key: key, Value: value}, Call: call, Return: ret,
		Response: Response{Revision: rev}}
}

func get(client int, key, value string, call, ret time.Duration, rev int64) Operation {
	return Operation{Client: client, Request: Request{Kind: Get, Key: key}, Call: call, Return: ret,
		Response: Response{Value: value, Revision: rev}}
}

func cas(client int, key, expect, value string, succeeded bool, call, ret time.Duration, rev int64) Operation {
	return Operation{Client: client, Request: Request{Kind: CAS, Key: key, Expect: expect, Value: value}, Call: call,
		Return: ret, Response: Response{Succeeded: succeeded, Revision: rev}}
}

func unknown(op Operation) Operation {
	op.Return, op.Response = Never, Response{Unknown: true, Err: "timed out"}
	return op
}

// history has two traffic clients on key k, then the given final value of k read after recovery.
func history(final string, ops ...Operation) History {
	last := time.Duration(0)
	for _, op := range ops {
		if op.Return != Never {
			last = max(last, op.Return)
		}
	}
	ops = append(ops, get(2, "k", final, last+ms, last+2*ms, 100))
	return History{Operations: ops, Clients: 2, Keys: []string{"k"}, FinalReads: true}
}

func requireOK(t *testing.T, h History) {
	t.Helper()
	if r := Check(h, CheckOptions{Timeout: 10 * time.Second}); !r.OK() {
		t.Fatalf("a valid history was rejected: %v", r.Violations)
	}
}

func requireViolation(t *testing.T, h History, mention string) Report {
	t.Helper()
	r := Check(h, CheckOptions{Timeout: 10 * time.Second})
	if r.OK() {
		t.Fatalf("the checker accepted a broken history")
	}
	if !strings.Contains(strings.Join(r.Violations, "\n"), mention) {
		t.Fatalf("violations %q do not mention %q", r.Violations, mention)
	}
	return r
}

func TestGivenConcurrentWritesAndReadsThatOneOrderExplainsWhenCheckedThenTheHistoryPasses(t *testing.T) {
	requireOK(t, history("b",
		put(0, "k", "a", 0, 10*ms, 2),
		put(1, "k", "b", 5*ms, 15*ms, 3), // concurrent with a: either order is allowed
		get(0, "k", "b", 20*ms, 25*ms, 3),
		cas(1, "k", "a", "c", false, 30*ms, 35*ms, 4),
	))
}

func TestGivenAnAcknowledgedWriteTheClusterNeverSawWhenCheckedThenItIsRejected(t *testing.T) {
	// Given client 0 was told its put of "b" succeeded, but every later read still sees "a"
	h := history("a",
		put(0, "k", "a", 0, 10*ms, 2),
		put(0, "k", "b", 20*ms, 30*ms, 3),
		get(1, "k", "a", 40*ms, 50*ms, 3),
	)
	// Then porcupine finds no order and the final read shows the write lost
	r := requireViolation(t, h, "not linearizable")
	if r.Linearizability != porcupine.Illegal {
		t.Fatalf("linearizability: %s", r.Linearizability)
	}
	requireViolation(t, h, "acknowledged write(s) lost on key k")
}

func TestGivenAStaleReadWhenCheckedThenItIsRejected(t *testing.T) {
	// Given b replaced a before the read began, and the read returned a
	requireViolation(t, history("b",
		put(0, "k", "a", 0, 10*ms, 2),
		put(0, "k", "b", 20*ms, 30*ms, 3),
		get(1, "k", "a", 40*ms, 50*ms, 2),
	), "not linearizable")
}

// verdict is a named history and what the checker must say: an empty violation means it must pass.
type verdict struct {
	name      string
	h         History
	violation string
}

func verdicts(t *testing.T, cases []verdict) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.violation == "" {
				requireOK(t, c.h)
			} else {
				requireViolation(t, c.h, c.violation)
			}
		})
	}
}

func TestGivenAWriteWithAnUnknownOutcomeWhenLaterReadsSeeItOrNotThenBothAreAccepted(t *testing.T) {
	a := put(0, "k", "a", 0, 10*ms, 2)
	x := unknown(put(1, "k", "x", 20*ms, 0, 0))
	verdicts(t, []verdict{
		{"applied, even after a later acknowledged write",
			history("x", a, x, put(0, "k", "b", 30*ms, 40*ms, 3), get(0, "k", "x", 50*ms, 60*ms, 4)), ""},
		{"never applied", history("a", a, x, get(0, "k", "a", 50*ms, 60*ms, 2)), ""},
		{"seen, then unseen",
			history("a", a, x, get(0, "k", "x", 30*ms, 40*ms, 3), get(0, "k", "a", 50*ms, 60*ms, 3)), "not linearizable"},
	})
}

func TestGivenCompareAndSwapWhenItsAnswerContradictsTheValueThenItIsRejected(t *testing.T) {
	a := put(0, "k", "a", 0, 10*ms, 2)
	verdicts(t, []verdict{
		{"succeeded against another value",
			history("c", a, put(0, "k", "b", 20*ms, 30*ms, 3), cas(1, "k", "a", "c", true, 40*ms, 50*ms, 4)), "not linearizable"},
		{"failed although the value matched",
			history("a", a, cas(1, "k", "a", "c", false, 20*ms, 30*ms, 2), get(0, "k", "a", 40*ms, 50*ms, 2)), "not linearizable"},
		{"unknown outcome, then the swapped value read",
			history("c", a, unknown(cas(1, "k", "a", "c", false, 20*ms, 0, 0)), get(0, "k", "c", 40*ms, 50*ms, 3)), ""},
	})
}

func TestGivenAFinalValueThatNoClientWroteWhenCheckedThenItIsReported(t *testing.T) {
	requireViolation(t, history("zzz", put(0, "k", "a", 0, 10*ms, 2)), `holds "zzz", which no client wrote`)
}

func TestGivenAHistoryWithoutFinalReadsWhenCheckedThenSurvivalIsNotSilentlyAssumed(t *testing.T) {
	h := History{Operations: []Operation{put(0, "k", "a", 0, 10*ms, 2)}, Clients: 1, Keys: []string{"k"}}
	requireViolation(t, h, "no final reads")
}

func TestGivenAClientWhoseRevisionGoesBackWhenCheckedThenItIsReported(t *testing.T) {
	requireViolation(t, history("b",
		put(0, "k", "a", 0, 10*ms, 5),
		put(1, "k", "b", 20*ms, 30*ms, 6),
		get(0, "j", "", 40*ms, 50*ms, 4), // another key: linearizable, but an older store revision
	), "client 0 saw revision 4 after 5")
}

func TestGivenANonLinearizableHistoryWhenAVisualizationPathIsGivenThenTheHTMLIsWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out", "history.html")
	r := Check(history("a",
		put(0, "k", "a", 0, 10*ms, 2),
		put(0, "k", "b", 20*ms, 30*ms, 3),
		get(1, "k", "a", 40*ms, 50*ms, 3),
	), CheckOptions{Visualization: path})
	if r.Visualization != path {
		t.Fatalf("visualization %q, violations %v", r.Visualization, r.Violations)
	}
	html, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(html), "put(k, b)") {
		t.Fatalf("visualization not written or missing the operations: %v", err)
	}
}

func TestGivenAHistoryThenStatsCountUnknownsAndTheLongestGapBetweenAcknowledgedWrites(t *testing.T) {
	h := history("c",
		put(0, "k", "a", 0, 10*ms, 2),
		unknown(put(1, "k", "x", 12*ms, 0, 0)),
		get(0, "k", "a", 20*ms, 400*ms, 2),
		put(0, "k", "c", 500*ms, 510*ms, 3),
	)
	s := h.Stats()
	if s.Operations != 4 || s.Unknown != 1 || s.UnknownWrites != 1 || s.LongestWriteGap != 500*ms {
		t.Fatalf("stats %+v", s)
	}
}
