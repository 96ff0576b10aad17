package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// RootUser and RootRole are the names etcd requires before auth can be
// enabled; the charm's own client certificate carries CN=root.
const (
	RootUser = "root"
	RootRole = "root"
)

// AuthEnabled reports whether RBAC is on.
func (c *Client) AuthEnabled(ctx context.Context) (bool, error) {
	resp, err := c.cli.AuthStatus(ctx)
	if err != nil {
		return false, wrap("read etcd auth status", err)
	}
	return resp.Enabled, nil
}

// EnableAuth turns RBAC on, first making sure user root exists and holds
// role root, as etcd requires. rootPassword "" leaves root without a
// password (client-certificate CN auth only); otherwise root's password is
// set to it, so a password kept in a secret keeps working. Safe to call when
// auth is already on, provided the client is authenticated as root.
func (c *Client) EnableAuth(ctx context.Context, rootPassword string) error {
	if err := c.EnsureUser(ctx, RootUser, rootPassword); err != nil {
		return err
	}
	if err := c.addRole(ctx, RootRole); err != nil {
		return err
	}
	if err := c.GrantRole(ctx, RootUser, RootRole); err != nil {
		return err
	}
	_, err := c.cli.AuthEnable(ctx)
	return wrap("enable etcd auth", err)
}

// DisableAuth turns RBAC off; users and roles are kept for a later enable.
func (c *Client) DisableAuth(ctx context.Context) error {
	_, err := c.cli.AuthDisable(ctx)
	return wrap("disable etcd auth", err)
}

// EnsureUser creates user name if missing. password "" creates it without
// a password, for client-certificate CN auth. For an existing user a
// non-empty password is (re)set. etcd cannot switch an existing user
// between password and no-password in place, and does not reveal which kind
// it is; to switch, DeleteUser first.
func (c *Client) EnsureUser(ctx context.Context, name, password string) error {
	op := "ensure etcd user " + name
	opts := &clientv3.UserAddOptions{NoPassword: password == ""}
	_, err := c.cli.UserAddWithOptions(ctx, name, password, opts)
	if err == nil {
		return nil
	}
	if !isEtcd(err, rpctypes.ErrUserAlreadyExist) {
		return wrap(op, err)
	}
	if password == "" {
		return nil
	}
	_, err = c.cli.UserChangePassword(ctx, name, password)
	return wrap(op, err)
}

// DeleteUser removes user name; a missing user is not an error. The user's
// requests fail from the next one on.
func (c *Client) DeleteUser(ctx context.Context, name string) error {
	_, err := c.cli.UserDelete(ctx, name)
	if isEtcd(err, rpctypes.ErrUserNotFound) {
		return nil
	}
	return wrap("delete etcd user "+name, err)
}

// Users lists the user names.
func (c *Client) Users(ctx context.Context) ([]string, error) {
	resp, err := c.cli.UserList(ctx)
	if err != nil {
		return nil, wrap("list etcd users", err)
	}
	return resp.Users, nil
}

// UserRoles lists the roles granted to user name.
func (c *Client) UserRoles(ctx context.Context, name string) ([]string, error) {
	resp, err := c.cli.UserGet(ctx, name)
	if err != nil {
		return nil, wrap("get etcd user "+name, err)
	}
	return resp.Roles, nil
}

// GrantRole grants role to user; granting a role the user holds is not an
// error.
func (c *Client) GrantRole(ctx context.Context, user, role string) error {
	_, err := c.cli.UserGrantRole(ctx, user, role)
	return wrap(fmt.Sprintf("grant etcd role %s to user %s", role, user), err)
}

// RevokeRole takes role from user; a role the user does not hold is not an
// error.
func (c *Client) RevokeRole(ctx context.Context, user, role string) error {
	_, err := c.cli.UserRevokeRole(ctx, user, role)
	if isEtcd(err, rpctypes.ErrRoleNotGranted) {
		return nil
	}
	return wrap(fmt.Sprintf("revoke etcd role %s from user %s", role, user), err)
}

// addRole creates role name if missing.
func (c *Client) addRole(ctx context.Context, name string) error {
	_, err := c.cli.RoleAdd(ctx, name)
	if err == nil || isEtcd(err, rpctypes.ErrRoleAlreadyExist) {
		return nil
	}
	return wrap("add etcd role "+name, err)
}

// EnsureRole creates role name if missing and makes its permissions exactly
// perms: missing ones are granted, ones with another type are granted again,
// and any others are revoked. Grants come before revocations, so a call that
// fails half way leaves the role with at least what it is to have, never
// empty. Permissions on the same range are merged (read plus write is
// readwrite).
func (c *Client) EnsureRole(ctx context.Context, name string, perms []Permission) error {
	op := "ensure etcd role " + name
	if name == RootRole {
		return fmt.Errorf("%s: the root role's permissions are fixed by etcd", op)
	}
	if err := c.addRole(ctx, name); err != nil {
		return err
	}
	have, err := c.RolePermissions(ctx, name)
	if err != nil {
		return err
	}
	want := mergePermissions(perms)
	current := mergePermissions(have)
	for _, r := range slices.SortedFunc(maps.Keys(want), compareRanges) {
		t := want[r]
		if ht, ok := current[r]; ok && ht == t {
			continue
		}
		if _, err := c.cli.RoleGrantPermission(ctx, name, r.key, r.end, clientv3.PermissionType(t)); err != nil {
			return wrap(fmt.Sprintf("%s: grant %s on [%q, %q)", op, t, r.key, r.end), err)
		}
	}
	for _, r := range slices.SortedFunc(maps.Keys(current), compareRanges) {
		if _, ok := want[r]; ok {
			continue
		}
		if _, err := c.cli.RoleRevokePermission(ctx, name, r.key, r.end); err != nil &&
			!isEtcd(err, rpctypes.ErrPermissionNotGranted) {
			return wrap(fmt.Sprintf("%s: revoke [%q, %q)", op, r.key, r.end), err)
		}
	}
	return nil
}

// RoleMatches reports whether role name grants exactly perms (after merging), without changing anything. A
// missing role matches nothing.
func (c *Client) RoleMatches(ctx context.Context, name string, perms []Permission) (bool, error) {
	have, err := c.RolePermissions(ctx, name)
	if errors.Is(err, ErrRoleNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return maps.Equal(mergePermissions(have), mergePermissions(perms)), nil
}

// AuthRevision is etcd's count of auth changes: any user, role or permission change raises it, so an unchanged
// revision means nothing in RBAC changed since it was read.
func (c *Client) AuthRevision(ctx context.Context) (uint64, error) {
	resp, err := c.cli.AuthStatus(ctx)
	if err != nil {
		return 0, wrap("read etcd auth status", err)
	}
	return resp.AuthRevision, nil
}

// RolePermissions returns the permissions role name grants.
func (c *Client) RolePermissions(ctx context.Context, name string) ([]Permission, error) {
	resp, err := c.cli.RoleGet(ctx, name)
	if err != nil {
		return nil, wrap("get etcd role "+name, err)
	}
	out := make([]Permission, 0, len(resp.Perm))
	for _, p := range resp.Perm {
		out = append(out, permissionFromRange(string(p.Key), string(p.RangeEnd), PermissionType(p.PermType)))
	}
	return out, nil
}

// DeleteRole removes role name (and its grants to users); a missing role is
// not an error.
func (c *Client) DeleteRole(ctx context.Context, name string) error {
	_, err := c.cli.RoleDelete(ctx, name)
	if isEtcd(err, rpctypes.ErrRoleNotFound) {
		return nil
	}
	return wrap("delete etcd role "+name, err)
}

// Roles lists the role names.
func (c *Client) Roles(ctx context.Context) ([]string, error) {
	resp, err := c.cli.RoleList(ctx)
	if err != nil {
		return nil, wrap("list etcd roles", err)
	}
	return resp.Roles, nil
}
