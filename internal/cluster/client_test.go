package cluster

import (
	"context"
	"strings"
	"testing"
)

// TestDialRejectsBadOptions: configuration mistakes surface at Dial, not as
// a hang on the first call.
func TestDialRejectsBadOptions(t *testing.T) {
	p := newTestPKI(t)
	cases := map[string]Options{
		"no endpoints":      {},
		"key of other cert": {Endpoints: []string{"https://127.0.0.1:1"}, CertPEM: p.root.CertPEM, KeyPEM: p.client(t, "x").KeyPEM},
		"CA without certs":  {Endpoints: []string{"https://127.0.0.1:1"}, CAPEM: []byte("not PEM")},
	}
	for name, opts := range cases {
		c, err := Dial(context.Background(), opts)
		if err == nil {
			c.Close()
			t.Errorf("%s: Dial succeeded", name)
		} else if !strings.HasPrefix(err.Error(), "dial etcd") {
			t.Errorf("%s: error %q lacks context", name, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Dial(ctx, Options{Endpoints: []string{"https://127.0.0.1:1"}}); err == nil {
		t.Error("Dial with a cancelled context succeeded")
	}
}
