package model

import "fmt"

// EnqueueAction validates params against the action's schema, applying defaults, and queues the task.
func (m *Model) EnqueueAction(unit, action string, params map[string]any) (*Task, error) {
	u, err := m.Unit(unit)
	if err != nil {
		return nil, err
	}
	if u.Life == Dead {
		return nil, fmt.Errorf("unit %q is not alive", unit)
	}
	spec, ok := u.App.Charm.Actions[action]
	if !ok {
		return nil, fmt.Errorf("invalid action name %q", action)
	}
	if params == nil {
		params = map[string]any{}
	}
	validated, err := spec.Validate(params)
	if err != nil {
		return nil, err
	}
	t := &Task{
		ID: m.nextTask + 1, Name: action, Params: validated, Results: map[string]any{},
		Enqueued: m.now, Done: make(chan struct{}),
	}
	// Juju numbers the operation first and its task next, so a single-task run shows "task 2".
	m.nextTask += 2
	u.tasks = append(u.tasks, &Event{RelationID: -1, Task: t})
	m.opts.Wake(u.Name)
	return t, nil
}

// EnqueueExec queues a command to run in the unit's hook environment.
func (m *Model) EnqueueExec(unit string, command []string) (chan ExecResult, error) {
	u, err := m.Unit(unit)
	if err != nil {
		return nil, err
	}
	if u.Life == Dead {
		return nil, fmt.Errorf("unit %q is not alive", unit)
	}
	if len(command) == 0 {
		return nil, fmt.Errorf("no command specified")
	}
	reply := make(chan ExecResult, 1)
	u.tasks = append(u.tasks, &Event{RelationID: -1, Exec: &ExecTask{Command: command, Reply: reply}})
	m.opts.Wake(u.Name)
	return reply, nil
}

func (m *Model) finishTask(t *Task, ctx *Context, code int, why string) {
	t.Finished = m.now
	t.Code = code
	t.Results = ctx.actionResults
	t.Logs = ctx.actionLogs
	switch {
	case ctx.actionFailed:
		t.Failed, t.Message = true, ctx.actionMessage
	case code != 0:
		t.Failed, t.Message = true, why
	}
	close(t.Done)
}

func (m *Model) abandonTask(e *Event, why string) {
	switch {
	case e.Task != nil:
		e.Task.Failed, e.Task.Message, e.Task.Finished = true, why, m.now
		close(e.Task.Done)
	case e.Exec != nil:
		e.Exec.Reply <- ExecResult{Stderr: why, Code: 1}
	}
}
