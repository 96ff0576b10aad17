package controller

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/charmdir"
	"github.com/etcd-charm/etcd/localmodel/model"
)

func pid() int { return os.Getpid() }

// loadCharm unpacks a charm into the model's charm store and parses it.
func (c *Controller) loadCharm(path, app string) (*charmdir.Charm, error) {
	if !filepath.IsAbs(path) {
		return nil, fmt.Errorf("charm path %q is not absolute", path)
	}
	dest, err := os.MkdirTemp(c.layout.CharmsDir(), app+"-")
	if err != nil {
		return nil, fmt.Errorf("creating charm store entry: %w", err)
	}
	if err := charmdir.Unpack(path, dest); err != nil {
		os.RemoveAll(dest)
		return nil, err
	}
	ch, err := charmdir.Load(dest)
	if err != nil {
		os.RemoveAll(dest)
		return nil, err
	}
	return ch, nil
}

func (c *Controller) deploy(_ *http.Request, req api.DeployRequest) (api.UnitsReply, error) {
	app := req.App
	ch, err := c.loadCharm(req.CharmPath, "deploy")
	if err != nil {
		return api.UnitsReply{}, err
	}
	if app == "" {
		app = ch.Meta.Name
	}
	config := map[string]any{}
	for k, v := range req.Config {
		typed, err := ch.Config.ParseValue(k, v)
		if err != nil {
			return api.UnitsReply{}, err
		}
		config[k] = typed
	}
	resources := map[string]string{}
	for name, src := range req.Resources {
		spec, ok := ch.Meta.Resources[name]
		if !ok {
			return api.UnitsReply{}, fmt.Errorf("charm %q has no resource %q", ch.Meta.Name, name)
		}
		dst, err := c.storeResource(app, name, spec.Filename, src)
		if err != nil {
			return api.UnitsReply{}, err
		}
		resources[name] = dst
	}
	n := req.NumUnits
	switch {
	case ch.Meta.Subordinate && n <= 1:
		n = 0 // juju deploy's default of one unit means none for a subordinate
	case n == 0:
		n = 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.SetNow(time.Now())
	units, err := c.m.DeployWithStorage(app, ch, config, resources, req.Storage, n)
	if err != nil {
		return api.UnitsReply{}, err
	}
	return c.unitsReply(units)
}

func (c *Controller) storeResource(app, name, filename, src string) (string, error) {
	if filename == "" {
		filename = filepath.Base(src)
	}
	dir := filepath.Join(c.layout.ResourcesDir(), app, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("storing resource %s: %w", name, err)
	}
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("reading resource %s: %w", name, err)
	}
	defer in.Close()
	dst := filepath.Join(dir, filename)
	out, err := os.Create(dst)
	if err != nil {
		return "", fmt.Errorf("storing resource %s: %w", name, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return "", fmt.Errorf("storing resource %s: %w", name, err)
	}
	return dst, out.Close()
}

// startNewUnits gives every unit without a runner (a new unit, or a subordinate that came with one) its
// runner, and starts it on its queue.
func (c *Controller) startNewUnits() error {
	var fresh []string
	for _, u := range c.m.Units() {
		if _, ok := c.runners[u.Name]; !ok {
			fresh = append(fresh, u.Name)
		}
	}
	if err := c.ensureUnits(); err != nil {
		return err
	}
	for _, name := range fresh {
		c.runners[name].poke()
	}
	return nil
}

func (c *Controller) unitsReply(units []*model.Unit) (api.UnitsReply, error) {
	if err := c.startNewUnits(); err != nil {
		return api.UnitsReply{}, err
	}
	reply := api.UnitsReply{Units: []string{}}
	for _, u := range units {
		reply.Units = append(reply.Units, u.Name)
		c.runners[u.Name].poke()
	}
	return reply, nil
}

func (c *Controller) refresh(_ *http.Request, req api.RefreshRequest) (empty, error) {
	ch, err := c.loadCharm(req.CharmPath, req.App)
	if err != nil {
		return empty{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.SetNow(time.Now())
	return empty{}, c.m.Refresh(req.App, ch)
}

func (c *Controller) addUnit(_ *http.Request, req api.AddUnitRequest) (api.UnitsReply, error) {
	n := req.NumUnits
	if n == 0 {
		n = 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.SetNow(time.Now())
	units, err := c.m.AddUnits(req.App, n)
	if err != nil {
		return api.UnitsReply{}, err
	}
	return c.unitsReply(units)
}

func (c *Controller) removeUnit(_ *http.Request, req api.RemoveUnitRequest) (empty, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.SetNow(time.Now())
	for _, name := range req.Units {
		u, err := c.m.Unit(name)
		if err != nil {
			return empty{}, err
		}
		if u.Principal != "" {
			return empty{}, fmt.Errorf("unit %q is a subordinate, to remove use remove-relation. Note: this will remove all units of %q", name, u.App.Name)
		}
	}
	for _, u := range req.Units {
		var err error
		if req.Force {
			err = c.m.ForceRemoveUnit(u)
		} else {
			err = c.m.RemoveUnit(u)
		}
		if err != nil {
			return empty{}, err
		}
	}
	return empty{}, nil
}

func (c *Controller) removeApplication(_ *http.Request, req api.NameRequest) (empty, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.SetNow(time.Now())
	return empty{}, c.m.RemoveApplication(req.Name)
}

func (c *Controller) integrate(_ *http.Request, req api.IntegrateRequest) (api.IntegrateReply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.SetNow(time.Now())
	r, err := c.m.Integrate(req.A, req.B)
	if err != nil {
		return api.IntegrateReply{}, err
	}
	// A container-scoped relation to a subordinate creates its units: they need runners too.
	if err := c.startNewUnits(); err != nil {
		return api.IntegrateReply{}, err
	}
	return api.IntegrateReply{ID: r.ID, Key: r.Key()}, nil
}

func (c *Controller) expose(_ *http.Request, req api.ExposeRequest) (empty, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	eps := map[string]model.ExposedEndpoint{}
	for ep, e := range req.Endpoints {
		eps[ep] = model.ExposedEndpoint{ToSpaces: e.ExposeToSpaces, ToCIDRs: e.ExposeToCIDRs}
	}
	return empty{}, c.m.Expose(req.App, eps)
}

func (c *Controller) unexpose(_ *http.Request, req api.UnexposeRequest) (empty, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return empty{}, c.m.Unexpose(req.App, req.Endpoints)
}

func (c *Controller) removeRelation(_ *http.Request, req api.IntegrateRequest) (empty, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.SetNow(time.Now())
	var id int
	if req.B == "" {
		n, err := model.ParseRelationID(req.A)
		if err != nil {
			return empty{}, fmt.Errorf("invalid relation %q", req.A)
		}
		id = n
	} else {
		r, err := c.m.FindRelation(req.A, req.B)
		if err != nil {
			return empty{}, err
		}
		id = r.ID
	}
	return empty{}, c.m.RemoveRelation(id)
}

func (c *Controller) config(_ *http.Request, req api.ConfigRequest) (api.ConfigReply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.SetNow(time.Now())
	a, err := c.m.Application(req.App)
	if err != nil {
		return api.ConfigReply{}, err
	}
	if len(req.Set) > 0 || len(req.Reset) > 0 {
		set := map[string]any{}
		for k, v := range req.Set {
			typed, err := a.Charm.Config.ParseValue(k, v)
			if err != nil {
				return api.ConfigReply{}, err
			}
			set[k] = typed
		}
		if err := c.m.SetConfig(req.App, set, req.Reset); err != nil {
			return api.ConfigReply{}, err
		}
	}
	reply := api.ConfigReply{Application: a.Name, Charm: a.Charm.Meta.Name, Settings: map[string]api.ConfigSetting{}}
	defaults := a.Charm.Config.Defaults()
	for _, k := range a.Charm.Config.Keys() {
		opt := a.Charm.Config.Options[k]
		s := api.ConfigSetting{Default: defaults[k], Description: strings.TrimSpace(opt.Description), Type: opt.Type, Source: "unset"}
		if defaults[k] != nil {
			s.Source, s.Value = "default", defaults[k]
		}
		if v, ok := a.Config[k]; ok {
			s.Source, s.Value = "user", v
		}
		reply.Settings[k] = s
	}
	return reply, nil
}

func (c *Controller) runAction(r *http.Request, req api.RunRequest) (api.ActionResult, error) {
	c.mu.Lock()
	c.m.SetNow(time.Now())
	u, err := c.m.Unit(req.Unit)
	if err != nil {
		c.mu.Unlock()
		return api.ActionResult{}, err
	}
	task, err := c.m.EnqueueAction(u.Name, req.Action, req.Params)
	c.mu.Unlock()
	if err != nil {
		return api.ActionResult{}, err
	}
	select {
	case <-task.Done:
	case <-r.Context().Done():
		return api.ActionResult{}, fmt.Errorf("cancelled waiting for task %d", task.ID)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	results := map[string]any{}
	for k, v := range task.Results {
		results[k] = v
	}
	results["return-code"] = task.Code
	if task.Stdout != "" {
		results["stdout"] = task.Stdout
	}
	if task.Stderr != "" {
		results["stderr"] = task.Stderr
	}
	status := "completed"
	if task.Failed {
		status = "failed"
	}
	return api.ActionResult{
		ID: fmt.Sprint(task.ID), Unit: u.Name, Status: status, Message: task.Message, Results: results, Logs: task.Logs,
		Timing: api.ActionTiming{Enqueued: ts(task.Enqueued), Started: ts(task.Started), Completed: ts(task.Finished)},
	}, nil
}

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 -0700 MST")
}

func (c *Controller) exec(r *http.Request, req api.ExecRequest) (api.ExecReply, error) {
	c.mu.Lock()
	c.m.SetNow(time.Now())
	reply, err := c.m.EnqueueExec(req.Unit, req.Command)
	c.mu.Unlock()
	if err != nil {
		return api.ExecReply{}, err
	}
	select {
	case res := <-reply:
		return api.ExecReply{Stdout: res.Stdout, Stderr: res.Stderr, Code: res.Code}, nil
	case <-r.Context().Done():
		return api.ExecReply{}, fmt.Errorf("cancelled waiting for exec on %s", req.Unit)
	}
}

func (c *Controller) resolve(_ *http.Request, req api.ResolveRequest) (empty, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.SetNow(time.Now())
	return empty{}, c.m.Resolve(req.Unit, !req.NoRetry)
}

// waitForIdle returns once the selected applications have been idle for the idle period (and, if asked,
// every unit shows the wanted workload status); it fails at once when a unit is in error.
func (c *Controller) waitForIdle(r *http.Request, req api.WaitRequest) (empty, error) {
	if req.Timeout <= 0 {
		req.Timeout = 10 * time.Minute
	}
	if req.IdlePeriod <= 0 {
		req.IdlePeriod = 500 * time.Millisecond
	}
	deadline := time.Now().Add(req.Timeout)
	var idleSince time.Time
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		c.mu.Lock()
		idle, errored := c.m.Idle(req.Apps)
		var why string
		if len(errored) > 0 {
			u, _ := c.m.Unit(errored[0])
			why = fmt.Sprintf("unit %s is in error: %s", u.Name, u.Workload.Message)
		}
		notYet := ""
		if idle && req.Status != "" {
			for _, a := range c.m.Applications() {
				if len(req.Apps) > 0 && !contains(req.Apps, a.Name) {
					continue
				}
				for _, u := range a.Units() {
					if u.Workload.Current != req.Status {
						notYet = fmt.Sprintf("%s is %s (%s)", u.Name, u.Workload.Current, u.Workload.Message)
					}
				}
			}
		}
		c.mu.Unlock()
		if why != "" {
			return empty{}, fmt.Errorf("%s", why)
		}
		now := time.Now()
		if idle && notYet == "" {
			if idleSince.IsZero() {
				idleSince = now
			}
			if now.Sub(idleSince) >= req.IdlePeriod {
				return empty{}, nil
			}
		} else {
			idleSince = time.Time{}
		}
		if now.After(deadline) {
			if notYet == "" {
				notYet = "hooks still running or queued"
			}
			return empty{}, fmt.Errorf("timed out after %s waiting for idle: %s", req.Timeout, notYet)
		}
		select {
		case <-tick.C:
		case <-r.Context().Done():
			return empty{}, r.Context().Err()
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
