package charm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gruyaume/goops"

	"github.com/etcd-charm/etcd/internal/etcd"
	"github.com/etcd-charm/etcd/internal/nagios"
)

// nrpeEndpoint is where the classic nrpe subordinate relates (container scope): it reads the check
// definitions this unit writes on the machine, and the Nagios server imports the exported services.
const nrpeEndpoint = "nrpe-external-master"

// nrpeShortnames are every check this charm may write, so departure removes exactly its own files.
var nrpeShortnames = []string{"etcd", "etcd-health", "etcd-alarms", "etcd-certificates"}

// nrpeChecks are this unit's checks. The plugin is the charm binary's check_etcd personality; it needs no
// etcd credentials, so nrpe runs it as the nagios user. Health and alarms need the metrics listener.
func (c *unitContext) nrpeChecks() []nagios.Check {
	plugin := c.paths.Binary + " check_etcd"
	checks := []nagios.Check{
		{Shortname: "etcd", Description: "process check {" + c.unit + "}", Command: plugin + " service " + etcd.ServiceName},
		{Shortname: "etcd-certificates", Description: "Verify etcd's certificates are not about to expire",
			Command: plugin + " certificates -warn 30 -crit 7 " + net.JoinHostPort(c.address, strconv.Itoa(c.cfg.Port)) + " " +
				net.JoinHostPort(c.address, strconv.Itoa(c.cfg.ManagementPort))},
	}
	if c.cfg.MetricsPort != 0 {
		health := "http://" + net.JoinHostPort(c.address, strconv.Itoa(c.cfg.MetricsPort)) + "/health"
		checks = append(checks,
			nagios.Check{Shortname: "etcd-health", Description: "Verify this etcd member is healthy", Command: plugin + " health " + health},
			nagios.Check{Shortname: "etcd-alarms", Description: "Verify etcd has no raised alarms", Command: plugin + " alarms " + health})
	}
	return checks
}

// tendNRPE writes the checks while an nrpe subordinate is related and removes them once it is gone. As the
// classic charm, nothing is written where nrpe is not installed (no /etc/nagios/nrpe.d), and the Nagios
// export only where its directory exists. Failures are logged: monitoring never fails a hook.
func (c *unitContext) tendNRPE() {
	ids, err := c.optionalRelationIDs(nrpeEndpoint)
	if err != nil {
		goops.LogWarningf("listing nrpe-external-master relations: %v", err)
		return
	}
	if c.hook == nrpeEndpoint+"-relation-broken" {
		ids = without(ids, c.getenv("JUJU_RELATION_ID"))
	}
	if len(ids) == 0 {
		c.removeNRPEChecks()
		return
	}
	host, err := c.nagiosHostname(ids[0])
	if err != nil {
		goops.LogWarningf("reading the nrpe unit's host name: %v", err)
		return
	}
	checks := c.nrpeChecks()
	changed, err := c.writeNRPEChecks(checks, host)
	if err != nil {
		goops.LogWarningf("writing the nrpe checks: %v", err)
	}
	monitors, err := nagios.Monitors(checks)
	if err != nil {
		goops.LogWarningf("rendering the nrpe monitors: %v", err)
		return
	}
	for _, id := range ids {
		if err := onceUntilChanged("nrpe "+id, monitors, func() error {
			return goops.SetUnitRelationData(id, map[string]string{"monitors": monitors, "primary": "True"})
		}); err != nil {
			goops.LogWarningf("publishing the nrpe monitors: %v", err)
		}
	}
	if changed {
		c.reloadNRPE()
	}
}

// nagiosHostname is what the nrpe unit published as nagios_hostname, read in that relation's own hooks
// (a change to it always arrives as one) and remembered for the others, else <nagios_context>-<unit>.
func (c *unitContext) nagiosHostname(id string) (string, error) {
	key := "nrpe-host " + id
	published := getState(key)
	if c.getenv("JUJU_RELATION_ID") == id || published == "" {
		units, err := goops.ListRelationUnits(id)
		if err != nil {
			return "", err
		}
		published = "-" // read: nothing published yet
		for _, u := range units {
			data, err := goops.GetUnitRelationData(id, u)
			if err != nil {
				return "", err
			}
			if h := data["nagios_hostname"]; h != "" {
				published = h
			}
		}
		if err := setState(key, published); err != nil {
			return "", err
		}
	}
	if published == "-" {
		published = ""
	}
	context := c.cfg.NagiosContext
	if context == "" {
		context = "juju"
	}
	return nagios.Hostname(published, context, c.unit), nil
}

// writeNRPEChecks writes each check's nrpe.d file and Nagios export where nrpe has its directories, each
// only when its content differs, and removes a check that no longer applies (metrics_port set to 0). It
// reports whether nrpe has to re-read its config.
func (c *unitContext) writeNRPEChecks(checks []nagios.Check, host string) (bool, error) {
	if !isDir(filepath.Join(c.root, nagios.NRPEDir)) {
		return false, nil
	}
	context := c.cfg.NagiosContext
	if context == "" {
		context = "juju"
	}
	groups := nagios.ServiceGroups(c.cfg.NagiosServicegroups, context)
	export := isDir(filepath.Join(c.root, nagios.ExportDir))
	changed := false
	wanted := map[string]bool{}
	var errs []error
	for _, chk := range checks {
		if err := chk.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		wanted[chk.Shortname] = true
		w, err := writeIfChanged(chk.ConfigPath(c.root), chk.Config())
		changed = changed || w
		errs = append(errs, err)
		if export {
			_, err := writeIfChanged(chk.ExportPath(c.root, host), chk.Export(host, groups))
			errs = append(errs, err)
		}
	}
	for _, name := range nrpeShortnames {
		if !wanted[name] {
			changed = c.removeNRPECheck(name) || changed
		}
	}
	// An export written for another host name (nagios_context changed, or the nrpe unit renamed it).
	stale, _ := filepath.Glob(filepath.Join(c.root, nagios.ExportDir, "service__*_check_etcd*.cfg"))
	for _, p := range stale {
		keep := false
		for name := range wanted {
			if p == (nagios.Check{Shortname: name}).ExportPath(c.root, host) {
				keep = true
			}
		}
		if !keep {
			errs = append(errs, os.Remove(p))
		}
	}
	return changed, errors.Join(errs...)
}

// removeNRPEChecks takes every check file of this charm off the machine (the classic charm left its alarm
// check and plugin behind after the relation went).
func (c *unitContext) removeNRPEChecks() {
	removed := false
	for _, name := range nrpeShortnames {
		removed = c.removeNRPECheck(name) || removed
	}
	if removed {
		c.reloadNRPE()
	}
}

func (c *unitContext) removeNRPECheck(name string) bool {
	chk := nagios.Check{Shortname: name}
	removed := os.Remove(chk.ConfigPath(c.root)) == nil
	exports, _ := filepath.Glob(chk.ExportPath(c.root, "*"))
	for _, p := range exports {
		_ = os.Remove(p)
	}
	return removed
}

// reloadNRPE makes nrpe read its checks again, outside update-status (as charmhelpers does). Where nrpe is
// not running there is nothing to tell.
func (c *unitContext) reloadNRPE() {
	if c.hook == "update-status" {
		return
	}
	ctx, cancel := context.WithTimeout(c.ctx, 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "systemctl", "try-restart", "nagios-nrpe-server.service").CombinedOutput(); err != nil {
		goops.LogInfof("restarting nagios-nrpe-server: %v: %s", err, bytes.TrimSpace(out))
	}
}

// writeIfChanged writes a world-readable file unless it already holds data.
func writeIfChanged(path string, data []byte) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	return true, os.Rename(tmp, path)
}

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

func without(ids []string, id string) []string {
	var out []string
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}
