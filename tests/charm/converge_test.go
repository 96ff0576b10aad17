package charm_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/cluster"
	"github.com/etcd-charm/etcd/localmodel/client"
)

// The charm decides from what it observes (what etcd started with, what etcd's RBAC holds), never from what
// a hook changed, so a step that failed, was refused or was undone by hand is found and finished later.

// etcdPIDs are the main pids of every etcd unit's service.
func etcdPIDs(t *testing.T, m *client.Model) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, u := range aliveUnits(t, m) {
		out[u] = etcdPID(t, m, u)
	}
	return out
}

// unitRoot is where a unit's files live on this machine.
func unitRoot(t *testing.T, m *client.Model, unit string) string {
	t.Helper()
	return unitInfo(t, m, unit).Root
}

func configHas(t *testing.T, m *client.Model, unit, line string) bool {
	t.Helper()
	cfg, err := os.ReadFile(filepath.Join(unitRoot(t, m, unit), "etc/etcd/etcd.conf.yml"))
	return err == nil && strings.Contains(string(cfg), line)
}

// TestGivenAStaleRestartTurnWhenTheConfigChangesThenEveryMemberStillRestartsOntoIt: a lock key that no live
// member holds (written without a lease, as a client with write access or a crashed tool could leave it)
// must not stop rolling restarts for good. The key is left where both the old lock (a mutex prefix) and the
// restart turn live.
func TestGivenAStaleRestartTurnWhenTheConfigChangesThenEveryMemberStillRestartsOntoIt(t *testing.T) {
	m := deploy3(t)
	cli := adminClient(t, m)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, key := range []string{"/etcd-charm/locks/restart/stray", "/etcd-charm/turns/restart"} {
		if _, err := cli.Raw().Put(ctx, key, "stray"); err != nil {
			t.Fatalf("writing the stale key %s: %v", key, err)
		}
	}
	before := etcdPIDs(t, m)
	if err := m.SetConfig(context.Background(), "etcd", map[string]string{"heartbeat_interval": "150"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Minute, "every member restarted onto heartbeat-interval 150", func() bool {
		now := etcdPIDs(t, m)
		for u, pid := range before {
			if now[u] == 0 || now[u] == pid {
				return false
			}
		}
		return true
	})
	waitActive(t, m, 2*time.Minute)
	assertCluster(t, m, nil)
}

// TestGivenAMemberThatCannotStartWhenTheConfigChangesThenNoOtherMemberRestartsUntilItIsBack: a rolling
// restart never takes a second member down. One member's etcd cannot start (its binary is broken); the
// others keep running with the old configuration, say why, and restart in turn once it is back. update-status
// is rare here: each member's restart wakes the next, and the application status follows in the same hooks.
func TestGivenAMemberThatCannotStartWhenTheConfigChangesThenNoOtherMemberRestartsUntilItIsBack(t *testing.T) {
	m := deploy3With(t, newModelWith(t, 10*time.Minute))
	keys := map[string]string{}
	put(t, m, keys, "before", "broken member")
	units := aliveUnits(t, m)
	broken, others := units[0], units[1:]
	binary := filepath.Join(unitRoot(t, m, broken), "usr/local/bin/etcd")
	good, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	writeExecutable(t, binary, []byte("#!/bin/sh\necho 'etcd cannot start (test)' >&2\nexit 1\n"))
	exec1(t, m, broken, "systemctl", "stop", "etcd")
	before := etcdPIDs(t, m)

	if err := m.SetConfig(context.Background(), "etcd", map[string]string{"heartbeat_interval": "150"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Minute, "the others held back, naming the broken member", func() bool {
		for _, u := range others {
			if pid := etcdPID(t, m, u); pid != before[u] {
				t.Fatalf("%s restarted (pid %d to %d) while %s was down", u, before[u], pid, broken)
			}
		}
		st := unitStatuses(t, m)
		for _, u := range others {
			if !strings.Contains(st[u], "held back") || !strings.Contains(st[u], strings.Replace(broken, "/", "-", 1)) {
				return false
			}
		}
		return true
	})
	for _, u := range others {
		if pid := etcdPID(t, m, u); pid != before[u] {
			t.Fatalf("%s restarted (pid %d to %d) while %s was down", u, before[u], pid, broken)
		}
		if configHas(t, m, u, "heartbeat-interval: 150") == false {
			t.Fatalf("%s has not even written the new config", u)
		}
	}
	put(t, m, keys, "during", "two of three serve")

	writeExecutable(t, binary, good)
	if err := m.Resolve(context.Background(), broken, false); err != nil {
		t.Logf("resolve %s: %v (its hook may not have failed yet)", broken, err)
	}
	waitFor(t, 4*time.Minute, "every member restarted onto the new config", func() bool {
		now := etcdPIDs(t, m)
		for _, u := range others {
			if now[u] == 0 || now[u] == before[u] {
				return false
			}
		}
		return now[broken] != 0
	})
	waitActive(t, m, 3*time.Minute)
	assertCluster(t, m, keys)
	waitFor(t, 30*time.Second, "the application status to follow the members", func() bool {
		st, err := m.Status(context.Background())
		return err == nil && strings.Contains(st.Applications["etcd"].ApplicationStatus.Message, "cluster healthy")
	})
}

func writeExecutable(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".test-tmp"
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestGivenAClientWhosePermissionsWereTakenWhenTheLeaderLooksAgainThenItsGrantIsWholeAgain: what etcd's
// RBAC holds is compared with what each client is granted on the leader's hooks, so a grant undone half way
// (by a failed hook, or by hand) is mended, and a role added to a client's user is taken away.
func TestGivenAClientWhosePermissionsWereTakenWhenTheLeaderLooksAgainThenItsGrantIsWholeAgain(t *testing.T) {
	m := deployOneWithClientA(t)
	ctx := context.Background()
	integrate(t, m, "etcd:etcd-client", "client-a:etcd-client")
	waitAppsActive(t, m, 4*time.Minute, "etcd", "client-a")
	files := requirerFiles(t, m, "client-a/0", "etcd-client")
	files.mustWork(t, m, "/a/one")

	admin := adminClient(t, m)
	certPEM, err := os.ReadFile(filepath.Join(files.dir, "client.crt"))
	if err != nil {
		t.Fatal(err)
	}
	user := certCN(t, string(certPEM))
	opCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := admin.Raw().RoleRevokePermission(opCtx, user, "/a/", "/a0"); err != nil {
		t.Fatalf("taking the permission of %s: %v", user, err)
	}
	files.mustBeDenied(t, m, "client-a with its permission taken", "put", "/a/two", "x")
	if err := admin.EnsureRole(opCtx, "intruder", []cluster.Permission{cluster.PrefixPermission("/", cluster.ReadWrite)}); err != nil {
		t.Fatal(err)
	}
	if err := admin.GrantRole(opCtx, user, "intruder"); err != nil {
		t.Fatal(err)
	}
	if _, err := files.etcdctl(memberEndpoints(t, m), "put", "/outside", "x"); err != nil {
		t.Fatalf("the extra role did not take: %v", err)
	}

	waitFor(t, 2*time.Minute, "client-a's grant mended by the leader: its prefix again, and nothing else", func() bool {
		_, inside := files.etcdctl(memberEndpoints(t, m), "put", "/a/two", "x")
		_, outside := files.etcdctl(memberEndpoints(t, m), "put", "/outside", "y")
		return inside == nil && outside != nil
	})
	rolesCtx, cancelRoles := context.WithTimeout(ctx, 20*time.Second)
	defer cancelRoles()
	roles, err := admin.UserRoles(rolesCtx, user)
	if err != nil || len(roles) != 1 || roles[0] != user {
		t.Fatalf("roles of %s after mending: %v %v (want only its own)", user, roles, err)
	}
	files.mustBeDenied(t, m, "client-a outside its prefix after mending", "put", "/outside", "x")
}

// restartCounter samples every etcd unit's main pid and counts how often each changed.
type restartCounter struct {
	stop     chan struct{}
	done     chan struct{}
	restarts map[string]int
}

func countRestarts(t *testing.T, m *client.Model) *restartCounter {
	t.Helper()
	units := aliveUnits(t, m)
	rc := &restartCounter{stop: make(chan struct{}), done: make(chan struct{}), restarts: map[string]int{}}
	last := map[string]int{}
	for _, u := range units {
		last[u] = etcdPID(t, m, u)
	}
	go func() {
		defer close(rc.done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-rc.stop:
				return
			case <-tick.C:
			}
			for _, u := range units {
				svc, err := m.Service(context.Background(), u, "etcd")
				if err != nil || svc.ActiveState != "active" || svc.MainPID == 0 {
					continue
				}
				if svc.MainPID != last[u] {
					rc.restarts[u]++
					last[u] = svc.MainPID
				}
			}
		}
	}()
	return rc
}

func (rc *restartCounter) finish() map[string]int {
	close(rc.stop)
	<-rc.done
	return rc.restarts
}

// TestGivenFiveRequirersRelatedAtOnceWhenTheyAreServedThenTheirTrustCostsAtMostTwoRestartsPerMember: every
// etcd-client requirer's certificate joins every member's trust bundle, which etcd reads only at start. A
// member restarts onto the newest bundle at its turn, so requirers arriving together share restarts.
func TestGivenFiveRequirersRelatedAtOnceWhenTheyAreServedThenTheirTrustCostsAtMostTwoRestartsPerMember(t *testing.T) {
	buildRequirers(t)
	m := newModel(t)
	ctx := context.Background()
	if _, err := m.Deploy(ctx, artefacts.charm, client.DeployOptions{App: "etcd", NumUnits: 3}); err != nil {
		t.Fatal(err)
	}
	var apps []string
	for i := range 5 {
		app := "burst-" + string(rune('a'+i))
		apps = append(apps, app)
		deployRequirer(t, m, app, map[string]string{"prefix": "/" + app + "/"})
	}
	waitAppsActive(t, m, 5*time.Minute, "etcd")
	waitIdle(t, m)
	rc := countRestarts(t, m)
	start := time.Now()
	for _, app := range apps {
		integrate(t, m, "etcd:etcd-client", app+":etcd-client")
	}
	waitAppsActive(t, m, 6*time.Minute, apps...)
	ready := time.Since(start)
	restarts := rc.finish()
	t.Logf("5 requirers ready in %s; member restarts %v", ready.Round(time.Second), restarts)
	if lines, err := m.DebugLog(""); err == nil {
		for _, l := range lines {
			if strings.Contains(l, "restarting etcd") || strings.Contains(l, "granting etcd user") || strings.Contains(l, "client trust generation") {
				t.Log(l)
			}
		}
	}
	for u, n := range restarts {
		if n > 2 {
			t.Errorf("%s restarted %d times for one burst of requirers (want at most 2)", u, n)
		}
	}
	for _, app := range apps {
		files := requirerFiles(t, m, app+"/0", "etcd-client")
		files.mustWork(t, m, "/"+app+"/k")
	}
}

// TestGivenADegradedClusterWhenTheMemberIsBackThenTheApplicationStatusFollowsBeforeTheLeadersUpdateStatus:
// the Juju leader sets the application status, but the hook that sees a member come back may run on another
// unit. That unit tells the leader (by its peer bag), so the application status follows at once, not at the
// leader's next update-status (ten minutes away here).
func TestGivenADegradedClusterWhenTheMemberIsBackThenTheApplicationStatusFollowsBeforeTheLeadersUpdateStatus(t *testing.T) {
	m := deploy3With(t, newModelWith(t, 10*time.Minute))
	leader := jujuLeader(t, m)
	down := othersOf(t, m, "etcd", leader)[0]
	binary := filepath.Join(unitRoot(t, m, down), "usr/local/bin/etcd")
	good, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	writeExecutable(t, binary, []byte("#!/bin/sh\necho 'etcd cannot start (test)' >&2\nexit 1\n"))
	exec1(t, m, down, "systemctl", "stop", "etcd")

	// A config change that restarts nothing runs a hook on every unit: the leader's sees the member down,
	// the stopped member's fails to start it.
	if err := m.SetConfig(context.Background(), "etcd", map[string]string{"nagios_context": "degraded-test"}); err != nil {
		t.Fatal(err)
	}
	appMessage := func() string {
		st, err := m.Status(context.Background())
		if err != nil {
			return ""
		}
		return st.Applications["etcd"].ApplicationStatus.Message
	}
	waitFor(t, 2*time.Minute, "the application status to say degraded and "+down+"'s hook to fail", func() bool {
		return strings.Contains(appMessage(), "degraded: 2 of 3 voters healthy") &&
			strings.HasPrefix(unitStatuses(t, m)[down], "error")
	})

	writeExecutable(t, binary, good)
	if err := m.Resolve(context.Background(), down, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Minute, down+"'s member to run again", func() bool { return etcdPID(t, m, down) != 0 })
	waitFor(t, time.Minute, "the application status to follow the member back", func() bool {
		return strings.Contains(appMessage(), "cluster healthy")
	})
	t.Logf("application status: %s", appMessage())
}
