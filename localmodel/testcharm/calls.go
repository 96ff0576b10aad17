package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gruyaume/goops"
)

// invoke performs the goops function named fn with string arguments, so tests reach every hook tool through
// the real goops code path (and so see exactly the argv goops sends).
//
// Argument conventions: a relation id of "" or "$RELATION" means the hook's own JUJU_RELATION_ID;
// "$REMOTE_UNIT", "$UNIT" and "$SECRET" expand to JUJU_REMOTE_UNIT, JUJU_UNIT_NAME and JUJU_SECRET_ID; data
// arguments are k=v; secret options are --label=, --owner=, --description=, --rotate=, --expire= (RFC 3339);
// peek/refresh flags are the literal words "peek" and "refresh".
func invoke(fn string, args []string) (any, error) {
	args = expand(args)
	arg := func(i int) string {
		if i < len(args) {
			return args[i]
		}
		return ""
	}
	switch fn {
	case "IsLeader":
		return goops.IsLeader()
	case "GetConfig":
		var cfg map[string]any
		err := goops.GetConfig(&cfg)
		return cfg, err
	case "SetAppVersion":
		return nil, goops.SetAppVersion(arg(0))
	case "LogDebugf":
		goops.LogDebugf("%s", arg(0))
		return nil, nil
	case "LogInfof":
		goops.LogInfof("%s", arg(0))
		return nil, nil
	case "LogWarningf":
		goops.LogWarningf("%s", arg(0))
		return nil, nil
	case "LogErrorf":
		goops.LogErrorf("%s", arg(0))
		return nil, nil
	case "SetUnitStatus":
		return nil, goops.SetUnitStatus(goops.StatusName(arg(0)), args[min(1, len(args)):]...)
	case "SetAppStatus":
		return nil, goops.SetAppStatus(goops.StatusName(arg(0)), args[min(1, len(args)):]...)
	case "GetUnitStatus":
		return goops.GetUnitStatus()
	case "GetAppStatus":
		return goops.GetAppStatus()
	case "GetRelationIDs":
		return goops.GetRelationIDs(arg(0))
	case "ListRelationUnits":
		return goops.ListRelationUnits(arg(0))
	case "GetRelationApp":
		return goops.GetRelationApp(arg(0))
	case "GetUnitRelationData":
		return goops.GetUnitRelationData(arg(0), arg(1))
	case "GetAppRelationData":
		return goops.GetAppRelationData(arg(0), arg(1))
	case "SetUnitRelationData":
		return nil, goops.SetUnitRelationData(arg(0), keyValues(args[min(1, len(args)):]))
	case "SetAppRelationData":
		return nil, goops.SetAppRelationData(arg(0), keyValues(args[min(1, len(args)):]))
	case "GetRelationModelUUID":
		return goops.GetRelationModelUUID(arg(0))
	case "GetState":
		return goops.GetState(arg(0))
	case "SetState":
		return nil, goops.SetState(arg(0), arg(1))
	case "DeleteState":
		return nil, goops.DeleteState(arg(0))
	case "OpenPort", "ClosePort":
		port, err := strconv.Atoi(arg(0))
		if err != nil && arg(1) != "icmp" {
			return nil, fmt.Errorf("port %q: %w", arg(0), err)
		}
		if fn == "OpenPort" {
			return nil, goops.OpenPort(port, goops.Protocol(arg(1)))
		}
		return nil, goops.ClosePort(port, goops.Protocol(arg(1)))
	case "OpenedPorts":
		return goops.OpenedPorts()
	case "SetPorts":
		ports, err := parsePorts(args)
		if err != nil {
			return nil, err
		}
		return nil, goops.SetPorts(ports)
	case "GetNetwork":
		return goops.GetNetwork(arg(0))
	case "GetUnitPrivateAddress":
		return goops.GetUnitPrivateAddress()
	case "GetUnitPublicAddress":
		return goops.GetUnitPublicAddress()
	case "AddSecret":
		opts, content, err := secretOptions(args)
		if err != nil {
			return nil, err
		}
		return goops.AddSecret(&goops.AddSecretOptions{Content: content, Description: opts.Description,
			Expire: opts.Expire, Label: opts.Label, Owner: opts.Owner, Rotate: opts.Rotate})
	case "SetSecret":
		opts, content, err := secretOptions(args[min(1, len(args)):])
		if err != nil {
			return nil, err
		}
		opts.ID, opts.Content = arg(0), content
		return nil, goops.SetSecret(&opts)
	case "GetSecretByID":
		return goops.GetSecretByID(arg(0), has(args[1:], "peek"), has(args[1:], "refresh"))
	case "GetSecretByLabel":
		return goops.GetSecretByLabel(arg(0), has(args[1:], "peek"), has(args[1:], "refresh"))
	case "GrantSecretToRelation":
		return nil, goops.GrantSecretToRelation(arg(0), arg(1))
	case "GrantSecretToUnit":
		return nil, goops.GrantSecretToUnit(arg(0), arg(1), arg(2))
	case "GetSecretIDs":
		return goops.GetSecretIDs()
	case "GetSecretInfoByID":
		return goops.GetSecretInfoByID(arg(0))
	case "GetSecretInfoByLabel":
		return goops.GetSecretInfoByLabel(arg(0))
	case "RemoveSecret":
		return nil, goops.RemoveSecret(arg(0))
	case "RevokeSecret":
		return nil, goops.RevokeSecret(arg(0))
	case "RevokeSecretFromRelation":
		return nil, goops.RevokeSecretFromRelation(arg(0), arg(1))
	case "RevokeSecretFromApp":
		return nil, goops.RevokeSecretFromApp(arg(0), arg(1))
	case "RevokeSecretFromUnit":
		return nil, goops.RevokeSecretFromUnit(arg(0), arg(1))
	case "AddStorage":
		n, err := strconv.Atoi(arg(1))
		if err != nil {
			return nil, fmt.Errorf("storage count %q: %w", arg(1), err)
		}
		return nil, goops.AddStorage(arg(0), n)
	case "GetStorageByID":
		return goops.GetStorageByID(arg(0))
	case "ListStorage":
		return goops.ListStorage(arg(0))
	case "GetResource":
		return goops.GetResource(arg(0))
	case "GetGoalState":
		return goops.GetGoalState()
	case "GetCredential":
		return goops.GetCredential()
	case "ReadEnv":
		return goops.ReadEnv(), nil
	case "ReadMetadata":
		return goops.ReadMetadata()
	case "ActionLogf":
		return nil, goops.ActionLogf("%s", arg(0))
	case "SetActionResults":
		return nil, goops.SetActionResults(keyValues(args))
	case "GetActionParams":
		var params map[string]any
		err := goops.GetActionParams(&params)
		return params, err
	case "FailActionf":
		return nil, goops.FailActionf("%s", arg(0))
	}
	return nil, fmt.Errorf("unknown goops function %q", fn)
}

func expand(args []string) []string {
	env := goops.GetEnvGetter()
	out := make([]string, len(args))
	for i, a := range args {
		switch a {
		case "$RELATION":
			a = env.Get("JUJU_RELATION_ID")
		case "$REMOTE_UNIT":
			a = env.Get("JUJU_REMOTE_UNIT")
		case "$UNIT":
			a = env.Get("JUJU_UNIT_NAME")
		case "$SECRET":
			a = env.Get("JUJU_SECRET_ID")
		}
		out[i] = a
	}
	if len(out) > 0 && out[0] == "" {
		out[0] = env.Get("JUJU_RELATION_ID")
	}
	return out
}

func keyValues(args []string) map[string]string {
	data := make(map[string]string, len(args))
	for _, kv := range args {
		k, v, _ := strings.Cut(kv, "=")
		data[k] = v
	}
	return data
}

func has(args []string, word string) bool {
	for _, a := range args {
		if a == word {
			return true
		}
	}
	return false
}

func parsePorts(args []string) ([]*goops.Port, error) {
	ports := make([]*goops.Port, 0, len(args))
	for _, a := range args {
		num, proto, ok := strings.Cut(a, "/")
		if !ok {
			return nil, fmt.Errorf("port %q is not N/protocol", a)
		}
		n, err := strconv.Atoi(num)
		if err != nil {
			return nil, fmt.Errorf("port %q: %w", a, err)
		}
		ports = append(ports, &goops.Port{Port: n, Protocol: goops.Protocol(proto)})
	}
	return ports, nil
}

// secretOptions splits secret arguments into options (--label=... etc.) and k=v content.
func secretOptions(args []string) (goops.SetSecretOptions, map[string]string, error) {
	var opts goops.SetSecretOptions
	var content map[string]string
	for _, a := range args {
		if !strings.HasPrefix(a, "--") {
			if content == nil {
				content = map[string]string{}
			}
			k, v, _ := strings.Cut(a, "=")
			content[k] = v
			continue
		}
		name, value, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		switch name {
		case "label":
			opts.Label = value
		case "owner":
			opts.Owner = goops.SecretOwner(value)
		case "description":
			opts.Description = value
		case "rotate":
			opts.Rotate = goops.SecretRotate(value)
		case "expire":
			t, err := time.Parse(time.RFC3339, value)
			if err != nil {
				return opts, nil, fmt.Errorf("expire %q: %w", value, err)
			}
			opts.Expire = t
		default:
			return opts, nil, errors.New("unknown secret option --" + name)
		}
	}
	return opts, content, nil
}
