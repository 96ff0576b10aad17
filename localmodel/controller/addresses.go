package controller

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// BlocksDir is where models claim their loopback /24 so that units of models running at the same time
// never share an address.
var BlocksDir = filepath.Join(os.TempDir(), "localjuju-blocks")

// addressBlock is a claimed 127.a.b.0/24.
type addressBlock struct {
	prefix string // "127.a.b."
	file   string
}

// claimAddressBlock picks a random free 127.a.b.0/24 (a ≠ 0, leaving 127.0.x.x to the host) and claims it
// with an O_EXCL lock file naming this process; blocks of dead processes are reclaimed.
func claimAddressBlock(modelDir string) (*addressBlock, error) {
	if err := os.MkdirAll(BlocksDir, 0o777); err != nil {
		return nil, fmt.Errorf("creating %s: %w", BlocksDir, err)
	}
	for attempt := 0; attempt < 200; attempt++ {
		a, b := randInt(253)+1, randInt(256)
		prefix := fmt.Sprintf("127.%d.%d.", a, b)
		file := filepath.Join(BlocksDir, strings.TrimSuffix(prefix, "."))
		f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(err, os.ErrExist) {
			if stale(file) {
				_ = os.Remove(file)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("claiming address block: %w", err)
		}
		fmt.Fprintf(f, "%d\n%s\n", os.Getpid(), modelDir)
		f.Close()
		return &addressBlock{prefix: prefix, file: file}, nil
	}
	return nil, fmt.Errorf("no free loopback address block under %s", BlocksDir)
}

func (b *addressBlock) release() { _ = os.Remove(b.file) }

func stale(file string) bool {
	raw, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	pidText, _, _ := strings.Cut(string(raw), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(pidText))
	if err != nil {
		return true
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0
	}
	return int(v.Int64())
}

// ClaimAddressBlock claims a loopback /24 for processes outside a model (a hand-run etcd cluster to compare
// against), in the same registry, so no model started meanwhile gets its addresses. It returns the prefix
// ("127.a.b.") and the release.
func ClaimAddressBlock(owner string) (prefix string, release func(), err error) {
	b, err := claimAddressBlock(owner)
	if err != nil {
		return "", nil, err
	}
	return b.prefix, b.release, nil
}
