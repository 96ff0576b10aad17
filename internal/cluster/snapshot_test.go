package cluster

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/etcd/etcdutl/v3/snapshot"
	"go.uber.org/zap"
)

// TestSnapshot: the streamed snapshot is a database etcdutl accepts, with
// every key written before it.
func TestSnapshot(t *testing.T) {
	tc := newTestCluster(t)
	m := tc.bootstrap(1)[0]
	c := tc.rootClient(m)
	const keys = 50
	for i := range keys {
		if _, err := c.Raw().Put(opContext(t), fmt.Sprintf("/snap/%03d", i), "value"); err != nil {
			t.Fatalf("put: %v", err)
		}
	}
	// Overwrites add revisions, not keys.
	if _, err := c.Raw().Put(opContext(t), "/snap/000", "again"); err != nil {
		t.Fatalf("put: %v", err)
	}

	path := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	w := bufio.NewWriter(f)
	info, err := c.Snapshot(opContext(t), m.clientURL, w)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("flush: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	st, err := snapshot.NewV3(zap.NewNop()).Status(path)
	if err != nil {
		t.Fatalf("etcdutl snapshot status: %v", err)
	}
	if st.TotalKey != keys {
		t.Fatalf("snapshot holds %d keys, want %d", st.TotalKey, keys)
	}
	// Revision 1 is the empty store; each put adds one.
	if st.Revision != keys+2 {
		t.Fatalf("snapshot revision %d, want %d", st.Revision, keys+2)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat: %v", err)
	}
	if info.Size != fi.Size() || info.Version != st.Version || info.Endpoint != m.clientURL {
		t.Fatalf("snapshot info %+v; file has %d bytes, version %q", info, fi.Size(), st.Version)
	}
}
