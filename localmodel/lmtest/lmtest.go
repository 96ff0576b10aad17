// Package lmtest builds what local-model tests need once per test process (the localjuju binary and the
// packed test charm) and bootstraps models that are destroyed, with every process they started, when the
// test ends.
package lmtest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/localmodel/charmpack"
	"github.com/etcd-charm/etcd/localmodel/client"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
	bins      Binaries
)

// Binaries are the artefacts built for the test process.
type Binaries struct {
	Localjuju  string // the localjuju executable
	TestCharm  string // the packed test charm (.charm)
	Dispatch   string // the test charm's dispatch binary
	Charmcraft string // the test charm's charmcraft.yaml
}

// Main runs the tests and removes the build directory afterwards; call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// ModuleRoot finds the directory holding go.mod above the working directory.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Build builds localjuju and packs the test charm, once per process.
func Build(t testing.TB) Binaries {
	t.Helper()
	buildOnce.Do(func() {
		root, err := ModuleRoot()
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, buildErr = os.MkdirTemp("", "lmtest-build-"); buildErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		bins = Binaries{
			Localjuju:  filepath.Join(buildDir, "localjuju"),
			Dispatch:   filepath.Join(buildDir, "dispatch"),
			TestCharm:  filepath.Join(buildDir, "testcharm.charm"),
			Charmcraft: filepath.Join(root, "localmodel/testcharm/charmcraft.yaml"),
		}
		if buildErr = charmpack.Build(ctx, root, "./cmd/localjuju", bins.Localjuju); buildErr != nil {
			return
		}
		if buildErr = charmpack.Build(ctx, root, "./localmodel/testcharm", bins.Dispatch); buildErr != nil {
			return
		}
		buildErr = charmpack.Pack(bins.Charmcraft, bins.Dispatch, bins.TestCharm)
	})
	if buildErr != nil {
		t.Fatalf("building local model test binaries: %v", buildErr)
	}
	return bins
}

// Options tune NewModel.
type Options struct {
	UpdateStatusInterval time.Duration // default 1h, so hook sequences are deterministic; set it to test update-status
	LeaseDuration        time.Duration // default 1s
	AutoRetry            bool
}

// NewModel bootstraps a model in a fresh temporary directory. The test's cleanup destroys it and fails
// the test if any process of the controller's session is left running.
func NewModel(t testing.TB, opts Options) *client.Model {
	t.Helper()
	b := Build(t)
	if opts.UpdateStatusInterval == 0 {
		opts.UpdateStatusInterval = time.Hour
	}
	if opts.LeaseDuration == 0 {
		opts.LeaseDuration = time.Second
	}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := client.Bootstrap(ctx, client.Options{
		Dir: filepath.Join(dir, "model"), Binary: b.Localjuju, UpdateStatusInterval: opts.UpdateStatusInterval,
		LeaseDuration: opts.LeaseDuration, AutoRetry: opts.AutoRetry,
	})
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := m.Destroy(ctx); err != nil {
			t.Errorf("destroy: %v", err)
		}
		if left := client.SessionProcesses(m.PID()); len(left) > 0 {
			t.Errorf("processes left after destroy: %v", left)
		}
	})
	return m
}

// Ctx returns a context bounded by d and cancelled at the end of the test.
func Ctx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// WaitFor polls cond until it holds or the deadline passes, failing the test with what.
func WaitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
