package cluster

import (
	"errors"
	"strings"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestNoSpaceRecovery fills a small quota until etcd raises NOSPACE, then
// runs the documented recovery: delete, compact, defragment, disarm.
func TestNoSpaceRecovery(t *testing.T) {
	tc := newTestCluster(t)
	tc.quota = 2 << 20
	m := tc.bootstrap(1)[0]
	c := tc.rootClient(m)
	kv := c.Raw()

	value := strings.Repeat("x", 100<<10)
	var putErr error
	for i := 0; i < 100 && putErr == nil; i++ {
		_, putErr = kv.Put(opContext(t), "/fill/"+string(rune('a'+i%26))+strings.Repeat("z", i/26), value)
	}
	if kindOf(putErr) != ErrNoSpace {
		t.Fatalf("filling a 2 MiB quota: got %v, want NOSPACE", putErr)
	}

	alarms, err := c.Alarms(opContext(t))
	if err != nil {
		t.Fatalf("alarms: %v", err)
	}
	st, err := c.EndpointStatus(opContext(t), m.clientURL)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if len(alarms) != 1 || alarms[0].Type != AlarmNoSpace || alarms[0].MemberID != st.MemberID {
		t.Fatalf("alarms: %+v, want NOSPACE on %x", alarms, st.MemberID)
	}
	r, err := c.Health(opContext(t), nil)
	if err != nil {
		t.Fatalf("health: %v", err)
	}
	if r.Healthy() || !r.HasQuorum() || len(r.Unhealthy()) != 1 || !errors.Is(r.Endpoints[0].Err, ErrNoSpace) {
		t.Fatalf("health under NOSPACE: %+v", r)
	}

	// Deletes still work under NOSPACE; then free the space for real.
	if _, err := kv.Delete(opContext(t), "/fill/", clientv3.WithPrefix()); err != nil {
		t.Fatalf("delete under NOSPACE: %v", err)
	}
	rev, err := c.Revision(opContext(t))
	if err != nil {
		t.Fatalf("revision: %v", err)
	}
	must(t, c.Compact(opContext(t), rev, true))
	must(t, c.Compact(opContext(t), rev, true)) // already compacted: fine
	must(t, c.Defrag(opContext(t), m.clientURL))
	after, err := c.EndpointStatus(opContext(t), m.clientURL)
	if err != nil {
		t.Fatalf("status after defrag: %v", err)
	}
	if after.DBSize >= st.DBSize {
		t.Fatalf("defrag left the db at %d bytes, was %d", after.DBSize, st.DBSize)
	}

	// The alarm outlives the cleanup until disarmed.
	if _, err := kv.Put(opContext(t), "/after", "v"); kindOf(err) != ErrNoSpace {
		t.Fatalf("put before disarm: got %v, want NOSPACE", err)
	}
	must(t, c.DisarmAlarm(opContext(t), alarms[0]))
	must(t, c.DisarmAlarm(opContext(t), Alarm{})) // nothing left: fine
	if alarms, err := c.Alarms(opContext(t)); err != nil || len(alarms) != 0 {
		t.Fatalf("alarms after disarm: %+v, %v", alarms, err)
	}
	if _, err := kv.Put(opContext(t), "/after", "v"); err != nil {
		t.Fatalf("put after disarm: %v", err)
	}

	h, err := c.HashKV(opContext(t), m.clientURL, 0)
	if err != nil {
		t.Fatalf("hashkv: %v", err)
	}
	if h.CompactRevision != rev || h.HashRevision != rev+1 {
		t.Fatalf("hashkv after compacting to %d and one put: %+v", rev, h)
	}
	if _, err := c.HashKV(opContext(t), m.clientURL, rev-1); !errors.Is(err, ErrCompacted) {
		t.Fatalf("hashkv below the compacted revision: got %v, want ErrCompacted", err)
	}
}
