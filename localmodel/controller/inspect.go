package controller

import (
	"fmt"
	"net/http"
	"syscall"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/model"
)

func (c *Controller) units(_ *http.Request, _ empty) ([]api.UnitInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []api.UnitInfo{}
	for _, u := range c.m.Units() {
		out = append(out, unitInfo(u))
	}
	return out, nil
}

func unitInfo(u *model.Unit) api.UnitInfo {
	return api.UnitInfo{Name: u.Name, Dir: u.Paths.Dir, CharmDir: u.Paths.CharmDir, Root: u.Paths.Root,
		Address: u.Address, WorkloadLog: u.Paths.WorkloadLog, Leader: u.IsLeader(), Life: string(u.Life)}
}

func (c *Controller) history(_ *http.Request, req api.NameRequest) ([]api.HookRun, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, err := c.m.AnyUnit(req.Name)
	if err != nil {
		return nil, err
	}
	out := []api.HookRun{}
	for _, h := range u.History {
		out = append(out, api.HookRun{Hook: h.Hook, Action: h.Action, Env: h.Env, ExitCode: h.ExitCode, Signal: h.Signal,
			Output: h.Output, ToolCalls: h.ToolCalls, FaultKilled: h.FaultKilled,
			Started: h.Usage.Started, Duration: h.Usage.Wall, MaxRSSKiB: h.Usage.MaxRSSKiB, CPU: h.Usage.CPU})
	}
	return out, nil
}

func (c *Controller) relations(_ *http.Request, _ empty) ([]api.RelationInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []api.RelationInfo{}
	for _, r := range c.m.Relations() {
		info := api.RelationInfo{ID: r.ID, Key: r.Key(), Interface: r.Endpoints[0].Interface, Life: string(r.Life)}
		for _, ep := range r.Endpoints {
			info.Endpoints = append(info.Endpoints, ep.String())
		}
		out = append(out, info)
	}
	return out, nil
}

func (c *Controller) bag(_ *http.Request, req api.BagRequest) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, err := c.m.Relation(req.RelationID)
	if err != nil {
		return nil, err
	}
	src := r.UnitBags[req.Unit]
	if req.App != "" {
		src = r.AppBags[req.App]
	}
	out := map[string]string{}
	for k, v := range src {
		out[k] = v
	}
	return out, nil
}

func (c *Controller) secrets(_ *http.Request, _ empty) ([]api.SecretInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := []api.SecretInfo{}
	for _, s := range c.m.Secrets() {
		info := api.SecretInfo{ID: s.ID, URI: "secret:" + s.ID, Owner: s.OwnerTag(), Label: s.Label,
			Description: s.Description, Rotate: s.Rotate, Latest: s.Latest, Tracking: s.Tracking(),
			Labels: c.m.SecretConsumerLabels(s.ID)}
		for _, rev := range s.Revisions() {
			info.Revisions = append(info.Revisions, api.SecretRevision{Revision: rev, Content: s.Content(rev)})
		}
		for _, g := range s.Grants() {
			info.Grants = append(info.Grants, api.SecretGrant{RelationID: g.RelationID, App: g.App, Unit: g.Unit})
		}
		out = append(out, info)
	}
	return out, nil
}

func (c *Controller) state(_ *http.Request, req api.NameRequest) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	u, err := c.m.Unit(req.Name)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range u.State {
		out[k] = v
	}
	return out, nil
}

func (c *Controller) signal(_ *http.Request, req api.SignalRequest) (empty, error) {
	c.mu.Lock()
	sup := c.supervisors[req.Unit]
	c.mu.Unlock()
	if sup == nil {
		return empty{}, fmt.Errorf("unit %q not found", req.Unit)
	}
	return empty{}, sup.Signal(req.Service, syscall.Signal(req.Signal))
}

func (c *Controller) service(_ *http.Request, req api.SignalRequest) (api.ServiceReply, error) {
	c.mu.Lock()
	sup := c.supervisors[req.Unit]
	c.mu.Unlock()
	if sup == nil {
		return api.ServiceReply{}, fmt.Errorf("unit %q not found", req.Unit)
	}
	return api.ServiceReply{ActiveState: sup.ActiveState(req.Service), MainPID: sup.MainPID(req.Service)}, nil
}
