package cluster

import (
	"errors"
	"slices"
	"testing"
)

// TestAuthPrefixRole: with auth on, a user named by its certificate CN and
// holding a prefix role reaches its prefix only; role changes replace the
// permissions exactly.
func TestAuthPrefixRole(t *testing.T) {
	tc := newTestCluster(t)
	m := tc.bootstrap(1)[0]
	root := tc.rootClient(m)

	for range 2 { // idempotent: the second call finds everything in place
		if err := root.EnableAuth(opContext(t), "root-secret"); err != nil {
			t.Fatalf("enable auth: %v", err)
		}
	}
	if on, err := root.AuthEnabled(opContext(t)); err != nil || !on {
		t.Fatalf("auth enabled: %v, %v", on, err)
	}

	must(t, root.EnsureUser(opContext(t), "app1", ""))
	must(t, root.EnsureUser(opContext(t), "app1", ""))
	must(t, root.EnsureRole(opContext(t), "app1", []Permission{PrefixPermission("/app1/", ReadWrite)}))
	must(t, root.GrantRole(opContext(t), "app1", "app1"))
	must(t, root.GrantRole(opContext(t), "app1", "app1"))

	app := tc.dial(tc.pki.client(t, "app1"), m).Raw()
	if _, err := app.Put(opContext(t), "/app1/k", "v"); err != nil {
		t.Fatalf("app1 put in its prefix: %v", err)
	}
	if resp, err := app.Get(opContext(t), "/app1/k"); err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("app1 get in its prefix: %v, %v", resp, err)
	}
	for _, key := range []string{"/app2/k", "/app1"} {
		if _, err := app.Put(opContext(t), key, "v"); kindOf(err) != ErrPermissionDenied {
			t.Fatalf("app1 put %s: got %v, want permission denied", key, err)
		}
	}

	// A permission-denied read still proves the member serves: health holds
	// for a restricted user too.
	appHealth := tc.dial(tc.pki.client(t, "app1"), m)
	r, err := appHealth.Health(opContext(t), nil)
	if err != nil || !r.Healthy() {
		t.Fatalf("health as app1: %+v, %v", r, err)
	}

	// An unknown CN is refused everything on the key space.
	ghost := tc.dial(tc.pki.client(t, "ghost"), m).Raw()
	if _, err := ghost.Get(opContext(t), "/app1/k"); kindOf(err) != ErrPermissionDenied {
		t.Fatalf("ghost get: got %v, want permission denied", err)
	}

	// Replace read-write with read-only; writes stop at the next request.
	readOnly := []Permission{PrefixPermission("/app1/", Read)}
	must(t, root.EnsureRole(opContext(t), "app1", readOnly))
	if _, err := app.Put(opContext(t), "/app1/k", "v2"); !errors.Is(kindOf(err), ErrPermissionDenied) {
		t.Fatalf("app1 put after read-only: got %v, want permission denied", err)
	}
	if _, err := app.Get(opContext(t), "/app1/k"); err != nil {
		t.Fatalf("app1 get after read-only: %v", err)
	}
	// Grow to two ranges, then back: the extra range must be revoked.
	two := []Permission{
		PrefixPermission("/app1/", Read),
		{Key: "/shared/a", RangeEnd: "/shared/m", Type: Write},
	}
	must(t, root.EnsureRole(opContext(t), "app1", two))
	assertPermissions(t, root, "app1", two)
	must(t, root.EnsureRole(opContext(t), "app1", readOnly))
	assertPermissions(t, root, "app1", readOnly)

	// The root password set by EnableAuth authenticates, even over another
	// user's certificate (etcd checks a token before the CN).
	appCert := tc.pki.client(t, "app1")
	byPassword := tc.dialOpts(Options{
		CertPEM: appCert.CertPEM, KeyPEM: appCert.KeyPEM,
		Username: RootUser, Password: "root-secret",
	}, m)
	users, err := byPassword.Users(opContext(t))
	if err != nil || !slices.Equal(users, []string{"app1", "root"}) {
		t.Fatalf("users as root by password: %v, %v", users, err)
	}
	if roles, err := root.UserRoles(opContext(t), RootUser); err != nil || !slices.Contains(roles, RootRole) {
		t.Fatalf("root's roles: %v, %v", roles, err)
	}

	// Removal is idempotent and takes effect on the next request.
	must(t, root.RevokeRole(opContext(t), "app1", "app1"))
	must(t, root.RevokeRole(opContext(t), "app1", "app1"))
	must(t, root.DeleteUser(opContext(t), "app1"))
	must(t, root.DeleteUser(opContext(t), "app1"))
	must(t, root.DeleteRole(opContext(t), "app1"))
	must(t, root.DeleteRole(opContext(t), "app1"))
	if _, err := app.Get(opContext(t), "/app1/k"); kindOf(err) != ErrPermissionDenied {
		t.Fatalf("deleted user get: got %v, want permission denied", err)
	}
	if err := root.GrantRole(opContext(t), "nobody", RootRole); !errors.Is(err, ErrUserNotFound) {
		t.Fatalf("grant to missing user: got %v, want ErrUserNotFound", err)
	}
	roles, err := root.Roles(opContext(t))
	if err != nil || !slices.Equal(roles, []string{RootRole}) {
		t.Fatalf("roles after cleanup: %v, %v", roles, err)
	}
	if err := root.EnsureRole(opContext(t), RootRole, nil); err == nil {
		t.Fatal("EnsureRole on root: want an error, the root role is fixed")
	}
}

func assertPermissions(t *testing.T, c *Client, role string, want []Permission) {
	t.Helper()
	got, err := c.RolePermissions(opContext(t), role)
	if err != nil {
		t.Fatalf("permissions of %s: %v", role, err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("permissions of %s: got %+v, want %+v", role, got, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
