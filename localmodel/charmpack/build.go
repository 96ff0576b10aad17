package charmpack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
)

// Build compiles mainPkg (relative to moduleDir) into a static, trimmed binary at outBinary, as a charm's
// dispatch must be: it runs on machines with no Go toolchain and no guaranteed libc.
func Build(ctx context.Context, moduleDir, mainPkg, outBinary string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", outBinary, mainPkg)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %s: %w\n%s", mainPkg, err, out)
	}
	return nil
}
