package charm

import (
	"encoding/json"

	"github.com/gruyaume/goops"
)

// The unit's Juju state (state-get) is read with one hook tool call per hook and served from memory after
// that: most hooks want several of its keys, and every hook tool call costs a process start and a round
// trip to the agent. A hook is one process, so the copy cannot go stale; Dispatch resets it regardless.
var unitState struct {
	loaded bool
	keys   map[string]string // nil: the host could not list all keys at once, so every read asks it
}

func resetUnitState() { unitState.loaded, unitState.keys = false, nil }

func getState(key string) string {
	if !unitState.loaded {
		unitState.loaded = true
		if out, err := goops.GetCommandRunner().Run("state-get", "--format=json"); err == nil {
			var all map[string]string
			if json.Unmarshal(out, &all) == nil {
				if all == nil {
					all = map[string]string{}
				}
				unitState.keys = all
			}
		}
	}
	if unitState.keys != nil {
		return unitState.keys[key]
	}
	v, _ := goops.GetState(key) //nolint:errcheck // goops reports a missing key as an error; missing reads as ""
	return v
}

func setState(key, value string) error {
	if err := goops.SetState(key, value); err != nil {
		return err
	}
	if unitState.keys != nil {
		unitState.keys[key] = value
	}
	return nil
}

func deleteState(key string) error {
	if err := goops.DeleteState(key); err != nil {
		return err
	}
	delete(unitState.keys, key)
	return nil
}

// onceUntilChanged runs set when value differs from what it last set under key: Juju keeps the application
// version and open ports itself, so re-asserting them in every hook would only cost hook tool calls.
func onceUntilChanged(key, value string, set func() error) error {
	if getState(key) == value {
		return nil
	}
	if err := set(); err != nil {
		return err
	}
	return setState(key, value)
}
