package robustness

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/etcd-charm/etcd/internal/cluster"
)

// CheckCluster checks the cluster after recovery: the member list is exactly want (member names), every
// member a started voter; every member knows the same leader; no alarm is raised; and every member
// reports the same HashKV at one revision. It returns the broken properties in words.
func CheckCluster(ctx context.Context, cli *cluster.Client, want []string) []string {
	members, err := cli.Members(ctx)
	if err != nil {
		return []string{fmt.Sprintf("listing members: %v", err)}
	}
	var out []string
	var names, endpoints []string
	for _, m := range members {
		switch {
		case !m.Started():
			out = append(out, fmt.Sprintf("member %s was added but never started", m.IDString()))
		case m.IsLearner:
			out = append(out, fmt.Sprintf("member %s is still a learner", m.Name))
		}
		names = append(names, m.Name)
		endpoints = append(endpoints, m.ClientURLs...)
	}
	sort.Strings(names)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(names, want) {
		out = append(out, fmt.Sprintf("members %v, expected %v", names, want))
	}
	out = append(out, retried(ctx, func() []string { return leaderAgreement(ctx, cli, endpoints) })...)
	alarms, err := cli.Alarms(ctx)
	switch {
	case err != nil:
		out = append(out, fmt.Sprintf("listing alarms: %v", err))
	case len(alarms) > 0:
		out = append(out, fmt.Sprintf("alarms raised: %v", alarms))
	}
	return append(out, hashMismatch(ctx, cli, endpoints)...)
}

func leaderAgreement(ctx context.Context, cli *cluster.Client, endpoints []string) []string {
	leaders := map[uint64][]string{}
	var out []string
	for _, ep := range endpoints {
		st, err := cli.EndpointStatus(ctx, ep)
		if err != nil {
			out = append(out, fmt.Sprintf("status of %s: %v", ep, err))
			continue
		}
		leaders[st.Leader] = append(leaders[st.Leader], ep)
	}
	if _, none := leaders[0]; none {
		out = append(out, fmt.Sprintf("no leader known to %v", leaders[0]))
	}
	if len(leaders) > 1 {
		out = append(out, fmt.Sprintf("members disagree on the leader: %v", leaders))
	}
	return out
}

// hashMismatch compares every member's HashKV at the cluster's current revision. A member that has not
// applied that revision yet answers with an error, and a compaction between two answers changes what is
// hashed, so it retries for a while before calling a difference a mismatch.
func hashMismatch(ctx context.Context, cli *cluster.Client, endpoints []string) []string {
	return retried(ctx, func() []string {
		rev, err := cli.Revision(ctx)
		if err != nil {
			return []string{fmt.Sprintf("reading the revision for hashkv: %v", err)}
		}
		return compareHashes(ctx, cli, endpoints, rev)
	})
}

// retried repeats a check for up to ten seconds until it finds nothing: right after recovery a member may
// still be catching up or learning of the leader, which is not yet a broken cluster.
func retried(ctx context.Context, check func() []string) []string {
	problems := check()
	for attempt := 1; attempt < 10 && len(problems) > 0; attempt++ {
		select {
		case <-ctx.Done():
			return append(problems, ctx.Err().Error())
		case <-time.After(time.Second):
		}
		problems = check()
	}
	return problems
}

func compareHashes(ctx context.Context, cli *cluster.Client, endpoints []string, rev int64) []string {
	hashes := map[string]cluster.HashKV{}
	for _, ep := range endpoints {
		h, err := cli.HashKV(ctx, ep, rev)
		if err != nil {
			return []string{fmt.Sprintf("hashkv of %s at revision %d: %v", ep, rev, err)}
		}
		hashes[ep] = h
	}
	var first *cluster.HashKV
	for _, ep := range endpoints {
		h := hashes[ep]
		if first == nil {
			first = &h
			continue
		}
		if h.Hash != first.Hash || h.CompactRevision != first.CompactRevision {
			return []string{fmt.Sprintf("hashkv differs at revision %d: %v", rev, hashes)}
		}
	}
	return nil
}
