package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/etcd-charm/etcd/localmodel/api"
	"github.com/etcd-charm/etcd/localmodel/client"
)

func init() {
	register("status", "status [--format=json|yaml|tabular]: model status, like juju status", status)
	register("wait-for-idle", "wait-for-idle [--status active] [--timeout 10m] [--apps a,b]", waitForIdle)
}

func status(e *env, args []string) error {
	fs := newFlags(e, "status")
	format := fs.String("format", "tabular", "output format: tabular|json|yaml")
	fs.Bool("relations", false, "show relations (always shown)")
	fs.Bool("integrations", false, "show relations (always shown)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	st, err := m.Status(e.ctx)
	if err != nil {
		return err
	}
	if *format == "json" || *format == "yaml" {
		return printFormatted(e, *format, st)
	}
	rels, err := m.Relations(e.ctx)
	if err != nil {
		return err
	}
	printTabular(e, st, rels)
	return nil
}

func printTabular(e *env, st api.Status, rels []api.RelationInfo) {
	tw := tabwriter.NewWriter(e.stdout, 0, 1, 2, ' ', 0)
	fmt.Fprintln(tw, "Model\tController\tCloud/Region\tVersion\tSLA\tTimestamp")
	fmt.Fprintf(tw, "%s\t%s\t%s/%s\t%s\t%s\t%s\n\n", st.Model.Name, st.Model.Controller, st.Model.Cloud, st.Model.Region,
		st.Model.Version, st.Model.SLA, st.Controller.Timestamp)
	if len(st.Applications) == 0 {
		tw.Flush()
		fmt.Fprintln(e.stdout, "Model \""+st.Model.Name+"\" is empty.")
		return
	}
	fmt.Fprintln(tw, "App\tVersion\tStatus\tScale\tCharm\tChannel\tRev\tExposed\tMessage")
	for _, name := range sortedKeys(st.Applications) {
		a := st.Applications[name]
		exposed := "no"
		if a.Exposed {
			exposed = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t\t%d\t%s\t%s\n", name, a.Version, a.ApplicationStatus.Current, len(a.Units),
			a.CharmName, a.CharmRev, exposed, a.ApplicationStatus.Message)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "Unit\tWorkload\tAgent\tMachine\tPublic address\tPorts\tMessage")
	for _, name := range sortedKeys(st.Applications) {
		a := st.Applications[name]
		for _, un := range sortedKeys(a.Units) {
			u := a.Units[un]
			label := un
			if u.Leader {
				label += "*"
			}
			msg := u.WorkloadStatus.Message
			if u.JujuStatus.Current == "executing" && u.JujuStatus.Message != "" && msg == "" {
				msg = "(" + strings.TrimPrefix(u.JujuStatus.Message, "running ") + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", label, u.WorkloadStatus.Current, u.JujuStatus.Current, u.Machine,
				u.PublicAddress, strings.Join(u.OpenPorts, ","), msg)
			// Subordinates are indented under their principal, as juju shows them.
			for _, sn := range sortedKeys(u.Subordinates) {
				s := u.Subordinates[sn]
				if s.Leader {
					sn += "*"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t\t%s\t%s\t%s\n", sn, s.WorkloadStatus.Current, s.JujuStatus.Current,
					s.PublicAddress, strings.Join(s.OpenPorts, ","), s.WorkloadStatus.Message)
			}
		}
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "Machine\tState\tAddress\tInst id\tBase\tAZ\tMessage")
	for _, id := range sortedKeys(st.Machines) {
		mc := st.Machines[id]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s@%s\t\t%s\n", id, mc.JujuStatus.Current, mc.DNSName, mc.InstanceID, mc.Base.Name, mc.Base.Channel, mc.MachineStatus.Message)
	}
	if len(rels) > 0 {
		fmt.Fprintln(tw)
		fmt.Fprintln(tw, "Integration provider\tRequirer\tInterface\tType\tMessage")
		for _, r := range rels {
			typ, prov, req := "regular", r.Endpoints[0], r.Endpoints[0]
			if len(r.Endpoints) == 1 {
				typ = "peer"
			} else {
				req, prov = strings.Fields(r.Key)[0], strings.Fields(r.Key)[1]
			}
			msg := ""
			if r.Life != "alive" {
				msg = r.Life
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", prov, req, r.Interface, typ, msg)
		}
	}
	tw.Flush()
}

func waitForIdle(e *env, args []string) error {
	fs := newFlags(e, "wait-for-idle")
	want := fs.String("status", "", "require this workload status on every unit (e.g. active)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up after this long")
	idle := fs.Duration("idle-period", 500*time.Millisecond, "how long the model must stay idle")
	apps := fs.String("apps", "", "comma-separated applications to wait for (default all)")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	m, err := e.connect()
	if err != nil {
		return err
	}
	var list []string
	if *apps != "" {
		list = strings.Split(*apps, ",")
	}
	return m.WaitForIdle(e.ctx, client.WaitOptions{Apps: list, Status: *want, Timeout: *timeout, IdlePeriod: *idle})
}
