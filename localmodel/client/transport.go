package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/etcd-charm/etcd/localmodel/api"
)

// socketClient speaks HTTP+JSON to a controller on its abstract unix socket.
type socketClient struct {
	http *http.Client
}

func newSocketClient(socket string) *socketClient {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		DisableKeepAlives: true,
	}
	return &socketClient{http: &http.Client{Transport: tr}}
}

// call POSTs req to path and decodes the reply into resp (if non-nil).
func (s *socketClient) call(ctx context.Context, path string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("encoding %s request: %w", path, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://localjuju"+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	hresp, err := s.http.Do(hreq)
	if err != nil {
		return fmt.Errorf("contacting controller: %w", err)
	}
	defer hresp.Body.Close()
	raw, err := io.ReadAll(hresp.Body)
	if err != nil {
		return fmt.Errorf("reading controller reply: %w", err)
	}
	if hresp.StatusCode != http.StatusOK {
		var e api.ErrorReply
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s", e.Error)
		}
		return fmt.Errorf("controller replied %s: %s", hresp.Status, raw)
	}
	if resp == nil {
		return nil
	}
	if err := json.Unmarshal(raw, resp); err != nil {
		return fmt.Errorf("decoding %s reply: %w", path, err)
	}
	return nil
}

// CallTool forwards one hook-tool invocation to the controller at socket (used by the shim).
func CallTool(ctx context.Context, socket string, req api.ToolRequest) (api.ToolReply, error) {
	var reply api.ToolReply
	err := newSocketClient(socket).call(ctx, "/tool", req, &reply)
	return reply, err
}
