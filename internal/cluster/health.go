package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// healthKey is read to prove an endpoint serves requests. Any key works; the
// read's value is never looked at, and RBAC refusing it still proves the
// request went through the member (etcdctl endpoint health does the same).
const healthKey = "health"

// EndpointHealth is the verdict on one endpoint.
type EndpointHealth struct {
	Endpoint string
	// Member is the member behind the endpoint (zero ID if it could not be
	// identified: unreachable and not among any member's client URLs).
	Member Member
	// Serving: the member answered the health read, so it takes part in
	// quorum. Healthy additionally requires that no alarm is active.
	Serving bool
	Healthy bool
	Took    time.Duration
	// Status is the member's own status, nil when it did not answer.
	Status *EndpointStatus
	// Err says why the endpoint is unhealthy; nil when healthy. It wraps
	// ErrNoSpace or ErrCorrupt when an alarm is the reason.
	Err error
}

// HealthReport is the cluster-wide result of Health: per-endpoint verdicts
// and the numbers a status message needs.
type HealthReport struct {
	Endpoints []EndpointHealth // in the order asked
	Members   []Member         // membership when the check ran

	Voters        int    // voting members in the membership
	HealthyVoters int    // distinct voting members serving reads (alarms aside)
	Quorum        int    // voters needed for writes: Voters/2+1
	Leader        uint64 // leader as a healthy member sees it; 0 if none

	Alarms []Alarm // active alarms (any one makes every endpoint unhealthy)
	// AlarmsErr is set when the alarm list could not be read; the cluster is
	// then not reported healthy.
	AlarmsErr error
}

// HasQuorum reports whether enough voters are healthy to commit writes.
func (r HealthReport) HasQuorum() bool { return r.Voters > 0 && r.HealthyVoters >= r.Quorum }

// Healthy is the cluster verdict: quorum of healthy voters, a leader, and no
// alarm. Individual members may still be down.
func (r HealthReport) Healthy() bool {
	return r.HasQuorum() && r.Leader != 0 && len(r.Alarms) == 0 && r.AlarmsErr == nil
}

// FailureTolerance is how many more voters may fail before quorum is lost
// (negative when it already is).
func (r HealthReport) FailureTolerance() int { return r.HealthyVoters - r.Quorum }

// Unhealthy returns the endpoints that failed their check.
func (r HealthReport) Unhealthy() []EndpointHealth {
	var out []EndpointHealth
	for _, e := range r.Endpoints {
		if !e.Healthy {
			out = append(out, e)
		}
	}
	return out
}

// Health checks each endpoint the way etcdctl endpoint health does: a
// linearizable read through that member alone (so it needs the member to
// reach the leader and a quorum), where a permission-denied answer still
// counts as healthy, and any active alarm (NOSPACE, CORRUPT) makes it
// unhealthy. Learners cannot serve linearizable reads, so a learner is
// checked with a serializable read instead. With no endpoints given, the
// first client URL of every member is checked.
//
// Each endpoint is bounded by the probe timeout; an unreachable member makes
// only its own entry unhealthy. Health returns an error only when the
// membership itself cannot be read.
func (c *Client) Health(ctx context.Context, endpoints []string) (HealthReport, error) {
	members, err := c.Members(ctx)
	if err != nil {
		return HealthReport{}, wrap("check etcd health", err)
	}
	return c.HealthOf(ctx, members, endpoints), nil
}

// HealthOf is Health for a caller that has just read the membership: it checks the endpoints (every
// member's first client URL when none are given) against members without reading them again.
func (c *Client) HealthOf(ctx context.Context, members []Member, endpoints []string) HealthReport {
	if len(endpoints) == 0 {
		for _, m := range members {
			if len(m.ClientURLs) > 0 {
				endpoints = append(endpoints, m.ClientURLs[0])
			}
		}
	}
	r := HealthReport{Members: members, Endpoints: make([]EndpointHealth, len(endpoints))}
	var wg sync.WaitGroup
	for i, ep := range endpoints {
		wg.Go(func() { r.Endpoints[i] = c.endpointHealth(ctx, ep, members) })
	}
	wg.Go(func() {
		pctx, cancel := c.probeContext(ctx)
		defer cancel()
		r.Alarms, r.AlarmsErr = c.Alarms(pctx)
	})
	wg.Wait()
	r.tally()
	return r
}

// tally applies alarms to the endpoints and computes the quorum numbers.
func (r *HealthReport) tally() {
	var alarmErr error
	if len(r.Alarms) > 0 {
		names := make([]string, 0, len(r.Alarms))
		for _, a := range r.Alarms {
			names = append(names, a.String())
		}
		alarmErr = fmt.Errorf("active alarm(s): %s", strings.Join(names, ", "))
		// Name the alarm kind so the charm can pick the remedy with errors.Is.
		for _, k := range []struct {
			t    AlarmType
			kind error
		}{{AlarmNoSpace, ErrNoSpace}, {AlarmCorrupt, ErrCorrupt}} {
			if slices.ContainsFunc(r.Alarms, func(a Alarm) bool { return a.Type == k.t }) {
				alarmErr = &Error{Op: "check etcd health", Kind: k.kind, Err: alarmErr}
				break
			}
		}
	}
	serving := map[uint64]bool{}
	for i := range r.Endpoints {
		e := &r.Endpoints[i]
		e.Healthy = e.Serving && alarmErr == nil
		if e.Serving && alarmErr != nil {
			e.Err = alarmErr
		}
		// An alarm does not take a member out of quorum: it still commits.
		if !e.Serving || e.Member.ID == 0 || e.Member.IsLearner {
			continue
		}
		serving[e.Member.ID] = true
		if r.Leader == 0 && e.Status != nil {
			r.Leader = e.Status.Leader
		}
	}
	for _, m := range r.Members {
		if !m.IsLearner {
			r.Voters++
		}
	}
	r.HealthyVoters = len(serving)
	r.Quorum = r.Voters/2 + 1
}

// endpointHealth checks one endpoint within the probe timeout.
func (c *Client) endpointHealth(ctx context.Context, ep string, members []Member) EndpointHealth {
	ctx, cancel := c.probeContext(ctx)
	defer cancel()
	start := time.Now()
	h := EndpointHealth{Endpoint: ep}
	for _, m := range members {
		if slices.Contains(m.ClientURLs, ep) {
			h.Member = m
		}
	}
	// One connection per endpoint serves both the status and the read: each TLS handshake costs every hook.
	cli, err := c.atEndpoint(ep)
	if err != nil {
		h.Took, h.Err = time.Since(start), err
		return h
	}
	defer cli.Close()
	st, err := statusVia(ctx, pinnedStatus(cli), ep)
	switch {
	case err == nil:
		h.Status = &st
		if m := memberByID(members, st.MemberID); m != nil {
			h.Member = *m
		}
	case !errors.Is(err, ErrPermissionDenied):
		// Older 3.6 patches deny status to non-root users; anything else
		// means the member is not answering.
		h.Took, h.Err = time.Since(start), err
		return h
	}
	h.Err = probeRead(ctx, cli, ep, h.Status != nil && h.Status.IsLearner)
	h.Took = time.Since(start)
	h.Serving = h.Err == nil
	return h
}

// probeRead reads healthKey through cli, pinned to ep.
func probeRead(ctx context.Context, cli *clientv3.Client, ep string, learner bool) error {
	var opts []clientv3.OpOption
	if learner {
		opts = append(opts, clientv3.WithSerializable())
	}
	_, err := cli.Get(ctx, healthKey, opts...)
	if err != nil && !isEtcd(err, rpctypes.ErrPermissionDenied) {
		return wrap("read through etcd endpoint "+ep, err)
	}
	return nil
}

func memberByID(members []Member, id uint64) *Member {
	for i := range members {
		if members[i].ID == id {
			return &members[i]
		}
	}
	return nil
}
