package controller

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/hooktools"
)

// handle registers a JSON endpoint: the request body decodes into Req, the reply encodes Resp; an error
// replies 400 with api.ErrorReply.
func handle[Req, Resp any](mux *http.ServeMux, path string, fn func(r *http.Request, req Req) (Resp, error)) {
	mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, api.ErrorReply{Error: "bad request: " + err.Error()})
			return
		}
		resp, err := fn(r, req)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, api.ErrorReply{Error: err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, resp)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type empty struct{}

func (c *Controller) routes() *http.ServeMux {
	mux := http.NewServeMux()
	handle(mux, "/tool", func(_ *http.Request, req api.ToolRequest) (api.ToolReply, error) { return c.tool(req), nil })
	handle(mux, "/api/ping", func(_ *http.Request, _ empty) (map[string]any, error) {
		return map[string]any{"model-dir": c.cfg.ModelDir, "pid": pid()}, nil
	})
	handle(mux, "/api/destroy", func(_ *http.Request, _ empty) (empty, error) {
		go c.stop()
		return empty{}, nil
	})
	handle(mux, "/api/deploy", c.deploy)
	handle(mux, "/api/refresh", c.refresh)
	handle(mux, "/api/add-unit", c.addUnit)
	handle(mux, "/api/remove-unit", c.removeUnit)
	handle(mux, "/api/remove-application", c.removeApplication)
	handle(mux, "/api/integrate", c.integrate)
	handle(mux, "/api/expose", c.expose)
	handle(mux, "/api/unexpose", c.unexpose)
	handle(mux, "/api/remove-relation", c.removeRelation)
	handle(mux, "/api/config", c.config)
	handle(mux, "/api/run", c.runAction)
	handle(mux, "/api/exec", c.exec)
	handle(mux, "/api/resolve", c.resolve)
	handle(mux, "/api/status", func(_ *http.Request, _ empty) (api.Status, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.m.SetNow(time.Now())
		return c.m.StatusDoc(), nil
	})
	handle(mux, "/api/wait-for-idle", c.waitForIdle)
	handle(mux, "/api/units", c.units)
	handle(mux, "/api/history", c.history)
	handle(mux, "/api/relations", c.relations)
	handle(mux, "/api/bag", c.bag)
	handle(mux, "/api/secrets", c.secrets)
	handle(mux, "/api/state", c.state)
	handle(mux, "/api/signal", c.signal)
	handle(mux, "/api/service", c.service)
	handle(mux, "/api/hook-fault", c.hookFault)
	handle(mux, "/api/hook-faults", c.hookFaults)
	return mux
}

// tool answers one hook-tool invocation from the shim.
func (c *Controller) tool(req api.ToolRequest) api.ToolReply {
	if req.Tool == "systemctl" {
		return c.systemctl(req)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.SetNow(time.Now())
	ctx, err := c.m.Context(req.ContextID)
	if err != nil {
		return api.ToolReply{Stderr: "ERROR " + err.Error() + "\n", Code: 1}
	}
	entity := "unit-" + tag(ctx.Unit.Name)
	env := hooktools.Env{Ctx: ctx, Log: func(level, msg string) {
		c.log.write(entity, level, "unit."+ctx.Unit.Name+".juju-log", msg)
	}}
	stdout, stderr, code := hooktools.Run(env, req.Tool, req.Args, req.Stdin)
	c.toolAnswered(ctx)
	return api.ToolReply{Stdout: stdout, Stderr: stderr, Code: code}
}

// systemctl runs against the calling unit's supervisor, outside the model lock: starting a service can
// take a while and must not stall other units' hooks.
func (c *Controller) systemctl(req api.ToolRequest) api.ToolReply {
	c.mu.Lock()
	ctx, err := c.m.Context(req.ContextID)
	var unit string
	if err == nil {
		unit = ctx.Unit.Name
	}
	sup := c.supervisors[unit]
	c.mu.Unlock()
	if err != nil {
		return api.ToolReply{Stderr: fmt.Sprintf("System has not been booted with systemd as init system (PID 1). Can't operate.\n(%v)\n", err), Code: 1}
	}
	if sup == nil {
		return api.ToolReply{Stderr: "Failed to connect to bus: no supervisor for unit " + unit + "\n", Code: 1}
	}
	stdout, stderr, code := sup.Systemctl(req.Args)
	// systemctl is no Juju hook tool, but it reaches the controller through the same shim and starting or
	// stopping a service is the crash point that matters most, so it counts as a tool call for faults.
	c.mu.Lock()
	c.toolAnswered(ctx)
	c.mu.Unlock()
	return api.ToolReply{Stdout: stdout, Stderr: stderr, Code: code}
}
