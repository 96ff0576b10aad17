package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/gruyaume/goops"
)

const serviceName = "testcharm-web"

// startService installs and starts the charm's HTTP workload through systemctl, as a machine charm does.
func startService() error {
	addr, err := goops.GetUnitPrivateAddress()
	if err != nil {
		return fmt.Errorf("reading unit address: %w", err)
	}
	charmDir := goops.ReadEnv().CharmDir
	unit := fmt.Sprintf(`[Unit]
Description=testcharm web service

[Service]
ExecStart=%s serve %s:8080
Restart=always
RestartSec=1
KillSignal=SIGTERM

[Install]
WantedBy=multi-user.target
`, filepath.Join(charmDir, "dispatch"), addr)
	path := filepath.Join(root(), "etc/systemd/system", serviceName+".service")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating unit dir: %w", err)
	}
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		return fmt.Errorf("writing unit file: %w", err)
	}
	for _, args := range [][]string{{"daemon-reload"}, {"enable", serviceName}, {"start", serviceName}} {
		if err := systemctl(args...); err != nil {
			return err
		}
	}
	return nil
}

func stopService() error {
	path := filepath.Join(root(), "etc/systemd/system", serviceName+".service")
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	return systemctl("stop", serviceName)
}

func systemctl(args ...string) error {
	out, err := exec.Command("systemctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("systemctl %v: %w: %s", args, err, out)
	}
	return nil
}
