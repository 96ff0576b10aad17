package nagios

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/etcd-charm/etcd/internal/gauges"
)

// Nagios plugin exit codes.
const (
	OK       = 0
	Warning  = 1
	Critical = 2
	Unknown  = 3
)

var stateWords = []string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}

// Run is the check_etcd plugin: `check_etcd service|health|alarms|certificates ...`. It prints one line
// in Nagios' "STATE - text" form and returns the plugin exit code. It needs no etcd credentials: the
// service state comes from systemd, health and alarms from the member's plain-HTTP metrics listener, and
// the certificates from what the TLS listeners present, so nrpe runs it as the unprivileged nagios user.
func Run(ctx context.Context, args []string, out io.Writer) int {
	state, msg := run(ctx, args)
	fmt.Fprintf(out, "%s - %s\n", stateWords[state], msg)
	return state
}

const usage = "usage: check_etcd service UNIT | health URL | alarms URL | certificates [-warn DAYS] [-crit DAYS] HOST:PORT..."

func run(ctx context.Context, args []string) (int, string) {
	if len(args) < 2 {
		return Unknown, usage
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	switch args[0] {
	case "service":
		return checkService(ctx, args[1])
	case "health":
		return checkHealth(ctx, args[1])
	case "alarms":
		return checkAlarms(ctx, args[1])
	case "certificates":
		return checkCertificates(ctx, args[1:])
	}
	return Unknown, usage
}

func checkService(ctx context.Context, unit string) (int, string) {
	out, err := exec.CommandContext(ctx, "systemctl", "is-active", unit).Output()
	state := strings.TrimSpace(string(out))
	if err == nil && state == "active" {
		return OK, unit + " is active"
	}
	if state == "" {
		state = fmt.Sprint(err)
	}
	return Critical, unit + " is " + state
}

// Each check is a process of its own; a connection is never reused.
var httpClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// checkHealth is etcd's own /health: alarms, a raft leader, and a linearizable read through it.
func checkHealth(ctx context.Context, url string) (int, string) {
	h, err := gauges.GetHealth(ctx, httpClient, url)
	if err != nil {
		return Critical, "etcd does not answer: " + err.Error()
	}
	if h.Health != "true" {
		return Critical, "etcd member unhealthy: " + h.Reason
	}
	return OK, "etcd member healthy"
}

func checkAlarms(ctx context.Context, url string) (int, string) {
	raised, err := gauges.RaisedAlarms(ctx, httpClient, url)
	if err != nil {
		return Unknown, "cannot read the alarms: " + err.Error()
	}
	if len(raised) == 0 {
		return OK, "no active alarms"
	}
	var names []string
	for a := range raised {
		names = append(names, a)
	}
	slices.Sort(names)
	return Critical, "raised alarms: " + strings.Join(names, ", ")
}

// checkCertificates reads the certificate each listener presents (no client certificate is needed to see
// the server's) and warns as the first of them nears expiry.
func checkCertificates(ctx context.Context, args []string) (int, string) {
	fs := flag.NewFlagSet("certificates", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	warn := fs.Int("warn", 30, "days before expiry to warn")
	crit := fs.Int("crit", 7, "days before expiry to be critical")
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		return Unknown, usage
	}
	state, notes := OK, []string{}
	for _, addr := range fs.Args() {
		cert, err := presented(ctx, addr)
		if err != nil {
			state = worse(state, Unknown)
			notes = append(notes, addr+": "+err.Error())
			continue
		}
		left := time.Until(cert.NotAfter)
		switch {
		case left < time.Duration(*crit)*24*time.Hour:
			state = worse(state, Critical)
		case left < time.Duration(*warn)*24*time.Hour:
			state = worse(state, Warning)
		}
		notes = append(notes, fmt.Sprintf("%s expires %s (%d days)", addr, cert.NotAfter.UTC().Format(time.DateOnly), int(left.Hours()/24)))
	}
	return state, strings.Join(notes, "; ")
}

// worse is the state to report of two: CRITICAL over UNKNOWN over WARNING over OK (an expiring certificate
// is the news even when another listener could not be reached).
func worse(a, b int) int {
	rank := map[int]int{OK: 0, Warning: 1, Unknown: 2, Critical: 3}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// presented is the leaf certificate the TLS listener at addr presents.
func presented(ctx context.Context, addr string) (*x509.Certificate, error) {
	var leaf *x509.Certificate
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{
		InsecureSkipVerify: true, // only reading the expiry: nothing is sent over this connection
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) > 0 {
				leaf = cs.PeerCertificates[0]
			}
			return nil
		},
	}}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if conn != nil {
		conn.Close()
	}
	if leaf != nil {
		return leaf, nil // a listener that then wants a client certificate has shown its own already
	}
	if err == nil {
		err = errors.New("no certificate presented")
	}
	return nil, err
}
