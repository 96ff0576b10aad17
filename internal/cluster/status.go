package cluster

import (
	"context"
	"strconv"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// pinnedStatus is a Maintenance whose Status travels over cli's own connection; cli must be pinned to the
// one endpoint asked about.
func pinnedStatus(cli *clientv3.Client) clientv3.Maintenance {
	return clientv3.NewMaintenanceFromMaintenanceClient(pb.NewMaintenanceClient(cli.ActiveConnection()), cli)
}

// EndpointStatus is what one member says about itself (etcdctl endpoint
// status).
type EndpointStatus struct {
	Endpoint         string
	MemberID         uint64
	Version          string // server version
	StorageVersion   string // storage schema version; lags Version during up/downgrades
	DBSize           int64  // bytes on disk, including free pages
	DBSizeInUse      int64  // bytes holding live data; DBSize-DBSizeInUse is what defrag reclaims
	DBSizeQuota      int64  // quota-backend-bytes in effect
	Leader           uint64 // 0 when the member knows no leader
	RaftIndex        uint64
	RaftTerm         uint64
	RaftAppliedIndex uint64
	Revision         int64 // current key-value store revision, as seen by this member
	IsLearner        bool
	Errors           []string // member-reported errors, e.g. active alarms
	// DowngradeTarget is the version etcd's downgrade is enabled to ("3.6.0"), "" when none is enabled.
	DowngradeTarget string
}

// IsLeader reports whether this member is the raft leader.
func (s EndpointStatus) IsLeader() bool { return s.Leader != 0 && s.Leader == s.MemberID }

// EndpointStatus asks the member behind endpoint for its status. A learner
// answers too.
func (c *Client) EndpointStatus(ctx context.Context, endpoint string) (EndpointStatus, error) {
	return statusVia(ctx, c.cli, endpoint)
}

// statusVia asks for a member's status through m. clientv3's own Maintenance dials the endpoint anew for
// every call; a Maintenance over an existing connection (pinnedStatus) lets a probe reuse it.
func statusVia(ctx context.Context, m clientv3.Maintenance, endpoint string) (EndpointStatus, error) {
	resp, err := m.Status(ctx, endpoint)
	if err != nil {
		return EndpointStatus{}, wrap("status of etcd endpoint "+endpoint, err)
	}
	st := EndpointStatus{
		Endpoint:         endpoint,
		Version:          resp.Version,
		StorageVersion:   resp.StorageVersion,
		DBSize:           resp.DbSize,
		DBSizeInUse:      resp.DbSizeInUse,
		DBSizeQuota:      resp.DbSizeQuota,
		Leader:           resp.Leader,
		RaftIndex:        resp.RaftIndex,
		RaftTerm:         resp.RaftTerm,
		RaftAppliedIndex: resp.RaftAppliedIndex,
		IsLearner:        resp.IsLearner,
		Errors:           append([]string(nil), resp.Errors...),
	}
	if d := resp.DowngradeInfo; d.GetEnabled() {
		st.DowngradeTarget = d.GetTargetVersion()
	}
	if h := resp.Header; h != nil {
		st.MemberID = h.MemberId
		st.Revision = h.Revision
	}
	return st, nil
}

// statusesOf probes every endpoint concurrently, each bounded by the probe
// timeout, and returns the answers in endpoint order (errs[i] set where
// endpoint i did not answer).
func (c *Client) statusesOf(ctx context.Context, endpoints []string) ([]EndpointStatus, []error) {
	sts := make([]EndpointStatus, len(endpoints))
	errs := make([]error, len(endpoints))
	done := make(chan struct{}, len(endpoints))
	for i, ep := range endpoints {
		go func() {
			defer func() { done <- struct{}{} }()
			pctx, cancel := c.probeContext(ctx)
			defer cancel()
			sts[i], errs[i] = c.EndpointStatus(pctx, ep)
		}()
	}
	for range endpoints {
		<-done
	}
	return sts, errs
}

func idString(id uint64) string { return strconv.FormatUint(id, 16) }
