// Package nagios is the etcd charm's side of the classic nrpe-external-master relation: the check
// definitions the nrpe subordinate picks up from disk, the service definitions a Nagios server imports, the
// `monitors` relation value, and the check plugin itself (Run), which the charm binary serves as its
// check_etcd personality.
//
// The file layouts and names follow what charmhelpers' nrpe module writes for the classic charm, because
// the nrpe charm and Nagios servers key on them: /etc/nagios/nrpe.d/check_<shortname>.cfg holding
// command[check_<shortname>], and /var/lib/nagios/export/service__<host>_check_<shortname>.cfg.
package nagios

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Check is one NRPE check.
type Check struct {
	Shortname   string // the check is check_<Shortname>
	Description string
	Command     string // the full command line nrpe runs, plugin path first
}

// Where nrpe and the Nagios export look, relative to the machine's root.
const (
	NRPEDir   = "/etc/nagios/nrpe.d"
	ExportDir = "/var/lib/nagios/export"
)

var shortnameRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// Validate refuses what would break the nrpe config's line format.
func (c Check) Validate() error {
	if !shortnameRE.MatchString(c.Shortname) {
		return fmt.Errorf("nrpe check name %q: only letters, digits, '.', '_' and '-'", c.Shortname)
	}
	if strings.ContainsAny(c.Command+c.Description, "\n\r") {
		return fmt.Errorf("nrpe check %s: a line break in its command or description", c.Shortname)
	}
	return nil
}

// ConfigPath is the check's nrpe.d file under root.
func (c Check) ConfigPath(root string) string {
	return filepath.Join(root, NRPEDir, "check_"+c.Shortname+".cfg")
}

// Config is the nrpe.d file: one command definition.
func (c Check) Config() []byte {
	return fmt.Appendf(nil, "# Written by the etcd charm; local changes are overwritten.\n# check %s: %s\ncommand[check_%s]=%s\n",
		c.Shortname, c.Description, c.Shortname, c.Command)
}

// ExportPath is the check's Nagios service file under root, named for the Nagios host.
func (c Check) ExportPath(root, host string) string {
	return filepath.Join(root, ExportDir, "service__"+host+"_check_"+c.Shortname+".cfg")
}

// Export is the Nagios service definition a Nagios server imports for this check on host.
func (c Check) Export(host, servicegroups string) []byte {
	return fmt.Appendf(nil, `# Written by the etcd charm; local changes are overwritten.
define service {
    use                             active-service
    host_name                       %s
    service_description             %s[%s] %s
    check_command                   check_nrpe!check_%s
    servicegroups                   %s
}
`, host, host, c.Shortname, c.Description, c.Shortname, servicegroups)
}

// Monitors is the relation's `monitors` value: YAML naming each remote nrpe check.
func Monitors(checks []Check) (string, error) {
	nrpe := map[string]map[string]string{}
	for _, c := range checks {
		nrpe[c.Shortname] = map[string]string{"command": "check_" + c.Shortname}
	}
	raw, err := yaml.Marshal(map[string]any{"monitors": map[string]any{"remote": map[string]any{"nrpe": nrpe}}})
	return string(raw), err
}

// Hostname is the Nagios host name: what the nrpe unit published, else the classic default
// <context>-<unit name with '/' as '-'>.
func Hostname(published, context, unit string) string {
	if h := strings.TrimSpace(published); h != "" && shortnameRE.MatchString(h) {
		return h
	}
	return context + "-" + strings.ReplaceAll(unit, "/", "-")
}

// ServiceGroups is the servicegroups line: the option, else the context (as the classic charm did).
func ServiceGroups(option, context string) string {
	if strings.TrimSpace(option) != "" {
		return option
	}
	return context
}
