package cluster

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestErrorKinds: etcd's refusals map to the sentinels whichever form they
// arrive in (clientv3's typed error, a raw gRPC status, wrapped by us or by
// the caller).
func TestErrorKinds(t *testing.T) {
	cases := []struct {
		grpc      error
		kind      error
		transient bool
	}{
		{rpctypes.ErrGRPCUnhealthy, ErrUnhealthyCluster, true},
		{rpctypes.ErrGRPCMemberNotEnoughStarted, ErrUnhealthyCluster, true},
		{rpctypes.ErrGRPCTooManyLearners, ErrTooManyLearners, false},
		{rpctypes.ErrGRPCLearnerNotReady, ErrLearnerNotReady, true},
		{rpctypes.ErrGRPCMemberNotFound, ErrMemberNotFound, false},
		{rpctypes.ErrGRPCMemberNotLearner, ErrNotLearner, false},
		{rpctypes.ErrGRPCNotLeader, ErrNotLeader, true},
		{rpctypes.ErrGRPCNoLeader, ErrNoLeader, true},
		{rpctypes.ErrGRPCLeaderChanged, ErrNoLeader, true},
		{rpctypes.ErrGRPCNotSupportedForLearner, ErrLearnerUnsupported, false},
		{rpctypes.ErrGRPCPermissionDenied, ErrPermissionDenied, false},
		{rpctypes.ErrGRPCAuthFailed, ErrAuthFailed, false},
		{rpctypes.ErrGRPCAuthNotEnabled, ErrAuthNotEnabled, false},
		{rpctypes.ErrGRPCNoSpace, ErrNoSpace, false},
		{rpctypes.ErrGRPCPeerURLExist, ErrPeerURLExists, false},
		{rpctypes.ErrGRPCCompacted, ErrCompacted, false},
		{rpctypes.ErrGRPCUserNotFound, ErrUserNotFound, false},
		{rpctypes.ErrGRPCRoleNotFound, ErrRoleNotFound, false},
		{rpctypes.ErrGRPCTimeout, nil, true},
		{rpctypes.ErrGRPCKeyNotFound, nil, false},
	}
	for _, tc := range cases {
		forms := map[string]error{
			"grpc status":       tc.grpc,
			"clientv3 typed":    rpctypes.Error(tc.grpc),
			"wrapped status":    fmt.Errorf("caller: %w", tc.grpc),
			"wrapped by us":     wrap("op", rpctypes.Error(tc.grpc)),
			"wrapped twice":     fmt.Errorf("hook: %w", wrap("op", tc.grpc)),
			"joined with other": errors.Join(errors.New("other"), rpctypes.Error(tc.grpc)),
		}
		for form, err := range forms {
			if got := kindOf(err); got != tc.kind {
				t.Errorf("%v as %s: kind %v, want %v", tc.grpc, form, got, tc.kind)
			}
			if tc.kind != nil && !errors.Is(wrap("op", err), tc.kind) {
				t.Errorf("%v as %s: errors.Is(wrapped, %v) is false", tc.grpc, form, tc.kind)
			}
			if got := IsTransient(err); got != tc.transient {
				t.Errorf("%v as %s: transient %v, want %v", tc.grpc, form, got, tc.transient)
			}
		}
	}
	// etcd's own sentinel stays reachable through ours.
	if err := wrap("op", rpctypes.ErrUnhealthy); !errors.Is(err, rpctypes.ErrUnhealthy) {
		t.Errorf("wrapped error lost etcd's sentinel: %v", err)
	}
	if !IsTransient(fmt.Errorf("x: %w", status.Error(codes.Unknown, "raft: stopped"))) {
		t.Error("a stopping member's raft error must be transient")
	}
	if !IsTransient(wrap("put", status.Error(codes.Unknown, "raft proposal dropped"))) {
		t.Error("a proposal dropped during a leadership handover must be transient")
	}
	if IsTransient(context.Canceled) || IsTransient(nil) || !IsTransient(context.DeadlineExceeded) {
		t.Error("IsTransient on context errors")
	}
	if wrap("op", nil) != nil {
		t.Error("wrap(nil) must be nil")
	}
}

// TestRetryStopsAtDeadline: a call etcd keeps refusing ends with the
// refusal (so the caller learns why) once the context ends.
func TestRetryStopsAtDeadline(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	attempts := 0
	err := retry(ctx, IsTransient, func(context.Context) error {
		attempts++
		if attempts == 3 {
			cancel()
		}
		return rpctypes.ErrUnhealthy
	})
	if !errors.Is(err, rpctypes.ErrUnhealthy) || !errors.Is(err, context.Canceled) || attempts != 3 {
		t.Fatalf("after %d attempts: %v", attempts, err)
	}
	attempts = 0
	err = retry(context.Background(), IsTransient, func(context.Context) error {
		attempts++
		return rpctypes.ErrTooManyLearners
	})
	if !errors.Is(err, rpctypes.ErrTooManyLearners) || attempts != 1 {
		t.Fatalf("permanent refusal retried %d times: %v", attempts, err)
	}
}
