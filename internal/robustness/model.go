package robustness

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// kvModel is one key's sequential specification. The state is the key's value ("" when absent). It is
// nondeterministic: a write whose outcome is unknown leads both to the state where it was applied and to
// the one where it was not, so the checker carries both until a later read tells them apart.
var kvModel = porcupine.NondeterministicModel{
	Partition: partitionByKey,
	Init:      func() []any { return []any{""} },
	Step:      step,
	Equal:     func(a, b any) bool { return a.(string) == b.(string) },
	DescribeOperation: func(input, output any) string {
		op := Operation{Request: input.(Request), Response: output.(Response)}
		return op.String()
	},
	DescribeState: func(state any) string {
		if s := state.(string); s != "" {
			return s
		}
		return "(absent)"
	},
	DescribeOperationMetadata: func(info any) string {
		if info == nil {
			return ""
		}
		return fmt.Sprint(info)
	},
}

func step(state, input, output any) []any {
	value, req, resp := state.(string), input.(Request), output.(Response)
	switch req.Kind {
	case Get:
		if resp.Unknown || resp.Value == value {
			return []any{value}
		}
		return nil
	case Put:
		if resp.Unknown {
			return []any{value, req.Value}
		}
		return []any{req.Value}
	case CAS:
		holds := value == req.Expect
		switch {
		case resp.Unknown && holds:
			return []any{value, req.Value}
		case resp.Unknown:
			return []any{value}
		case resp.Succeeded != holds:
			return nil
		case resp.Succeeded:
			return []any{req.Value}
		}
		return []any{value}
	}
	return nil
}

// partitionByKey: every request touches one key, and linearizability is compositional, so each key's
// operations are checked on their own.
func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string]int{}
	var parts [][]porcupine.Operation
	for _, op := range history {
		key := op.Input.(Request).Key
		i, ok := byKey[key]
		if !ok {
			i = len(parts)
			byKey[key] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	return parts
}

// porcupineHistory converts a history. A read that failed observed nothing and changes nothing, so it is
// left out rather than kept pending until the end.
func porcupineHistory(h History) []porcupine.Operation {
	ops := make([]porcupine.Operation, 0, len(h.Operations))
	for _, op := range h.Operations {
		if op.Request.Kind == Get && op.Response.Unknown {
			continue
		}
		ops = append(ops, porcupine.Operation{
			ClientId: op.Client,
			Input:    op.Request,
			Output:   op.Response,
			Call:     int64(op.Call),
			Return:   int64(op.Return),
			Metadata: metadata(h, op),
		})
	}
	return ops
}

func metadata(h History, op Operation) string {
	if op.Client == h.Clients {
		return "final read after recovery"
	}
	return fmt.Sprintf("client %d", op.Client)
}
