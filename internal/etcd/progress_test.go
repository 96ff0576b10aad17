package etcd

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestGivenAMemberMetricsPageWhenJoinProgressIsParsedThenAppliedAndPendingAreRead(t *testing.T) {
	page := `# HELP etcd_server_proposals_applied_total The total number of consensus proposals applied.
# TYPE etcd_server_proposals_applied_total gauge
etcd_server_proposals_applied_total 11
# HELP etcd_server_proposals_pending The current number of pending proposals to commit.
# TYPE etcd_server_proposals_pending gauge
etcd_server_proposals_pending 1
etcd_server_proposals_committed_total 12
`
	p, err := parseJoinProgress(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	if p.Applied != 11 || p.Pending != 1 {
		t.Errorf("got %+v, want applied 11 pending 1", p)
	}
	if _, err := parseJoinProgress(strings.NewReader("etcd_server_proposals_pending 0\n")); err == nil {
		t.Error("a page without the applied gauge was accepted")
	}
	if _, err := parseJoinProgress(strings.NewReader("etcd_server_proposals_applied_total x\netcd_server_proposals_pending 0\n")); err == nil {
		t.Error("a value that is not a number was accepted")
	}
}

func TestGivenARunningMemberWhenItsJoinProgressIsReadThenItHasAppliedAndPublished(t *testing.T) {
	_, _, e, _ := startRendered(t)
	metrics := e.Config().ListenMetricsUrls[0]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Ready means the member's publish is applied; a proposal it makes just after (the cluster version, on a
	// new cluster) may still be pending for a moment, so read until that settles.
	var got JoinProgress
	for {
		var err error
		got, err = ReadJoinProgress(ctx, metrics.String())
		if err != nil {
			t.Fatal(err)
		}
		if got.Applied > 0 && got.Pending == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("a ready member (%s) reads %+v for 10 s, want applied > 0 and nothing pending", e.Server.MemberID(), got)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
