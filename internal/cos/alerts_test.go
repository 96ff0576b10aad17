package cos

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// Every alert, in promtool's own rule unit tests: fed the series that should fire it, it fires with the
// Juju topology labels and its annotations; fed a healthy three-member cluster for 40 minutes, nothing fires.
func TestGivenSeriesOfATroubledOrHealthyClusterWhenPromtoolEvaluatesTheRulesThenEachAlertFiresOnlyOnItsTrouble(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (Debian's prometheus package; .ci/run installs it)")
	}
	rules, err := Rules(topo)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeYAMLFile(t, filepath.Join(dir, "rules.yaml"), rules)

	const job = `job="etcd_etcd_1f577877"`
	topoSel := `juju_model_uuid="` + topo.ModelUUID + `",juju_application="etcd"`
	ruleLabels := func(extra map[string]string) map[string]string {
		l := map[string]string{}
		for k, v := range topo.labels() {
			l[k] = v
		}
		for k, v := range extra {
			l[k] = v
		}
		return l
	}
	inst := func(i string) map[string]string {
		return map[string]string{"instance": i, "job": "etcd_etcd_1f577877"}
	}
	type series struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	type alert struct {
		Labels      map[string]string `yaml:"exp_labels"`
		Annotations map[string]string `yaml:"exp_annotations"`
	}
	type check struct {
		EvalTime  string  `yaml:"eval_time"`
		AlertName string  `yaml:"alertname"`
		Alerts    []alert `yaml:"exp_alerts"`
	}
	type test struct {
		Interval string   `yaml:"interval"`
		Series   []series `yaml:"input_series"`
		Checks   []check  `yaml:"alert_rule_test"`
	}
	bucket := func(metric, instance string, slowLE string) []series {
		// Every observation between slowLE and 1 s: the p99 lies above the alert's threshold.
		return []series{
			{metric + `_bucket{` + job + `,instance="` + instance + `",` + topoSel + `,le="` + slowLE + `"}`, "0x30"},
			{metric + `_bucket{` + job + `,instance="` + instance + `",` + topoSel + `,le="1"}`, "0+60x30"},
			{metric + `_bucket{` + job + `,instance="` + instance + `",` + topoSel + `,le="+Inf"}`, "0+60x30"},
		}
	}
	slowLabels := map[string]string{"instance": "a:2381", "juju_model_uuid": topo.ModelUUID, "juju_application": "etcd", "severity": "warning"}
	tests := []test{
		{Interval: "1m", Series: []series{{`etcd_server_has_leader{` + job + `,instance="a:2381"}`, "0x10"}},
			Checks: []check{{"5m", "EtcdNoLeader", []alert{{ruleLabels(merge(inst("a:2381"), map[string]string{"severity": "critical"})),
				map[string]string{"summary": "etcd member a:2381 has no raft leader", "description": "The member cannot serve linearizable reads or writes until a leader is elected."}}}}}},
		{Interval: "1m", Series: []series{
			{`up{` + job + `,instance="a:2381",` + topoSel + `}`, "1x10"},
			{`up{` + job + `,instance="b:2381",` + topoSel + `}`, "0x10"},
			{`up{` + job + `,instance="c:2381",` + topoSel + `}`, "0x10"}},
			Checks: []check{{"6m", "EtcdInsufficientMembers", []alert{{ruleLabels(map[string]string{"severity": "critical"}),
				map[string]string{"summary": "etcd cluster etcd has lost quorum", "description": "Fewer than a majority of the cluster's members answer their metrics listener."}}}}}},
		{Interval: "1m", Series: []series{{`up{` + job + `,instance="b:2381"}`, "0x10"}},
			Checks: []check{{"5m", "EtcdMemberDown", []alert{{ruleLabels(merge(inst("b:2381"), map[string]string{"severity": "warning"})),
				map[string]string{"summary": "etcd member b:2381 is not answering", "description": "The metrics listener of this member has not answered for 3 minutes."}}}}}},
		{Interval: "1m", Series: []series{{`etcd_server_leader_changes_seen_total{` + job + `,instance="a:2381"}`, "0+1x30"}},
			Checks: []check{{"25m", "EtcdFrequentLeaderChanges", []alert{{ruleLabels(merge(inst("a:2381"), map[string]string{"severity": "warning"})),
				map[string]string{"summary": "etcd member a:2381 sees frequent leader changes", "description": "Frequent elections usually mean slow disks or a network that drops heartbeats."}}}}}},
		{Interval: "1m", Series: []series{{`etcd_server_proposals_failed_total{` + job + `,instance="a:2381"}`, "0+1x40"}},
			Checks: []check{{"35m", "EtcdHighFailedProposals", []alert{{ruleLabels(merge(inst("a:2381"), map[string]string{"severity": "warning"})),
				map[string]string{"summary": "etcd member a:2381 fails raft proposals", "description": "More than 5 proposals failed in 15 minutes, typically around leader elections or lost quorum."}}}}}},
		{Interval: "1m", Series: bucket("etcd_disk_wal_fsync_duration_seconds", "a:2381", "0.5"),
			Checks: []check{{"20m", "EtcdSlowWALFsync", []alert{{ruleLabels(slowLabels),
				map[string]string{"summary": "etcd member a:2381 is slow to fsync its WAL (p99 over 0.5 s)", "description": "Every write waits for this fsync; above 0.5 s the member risks missing heartbeats."}}}}}},
		{Interval: "1m", Series: bucket("etcd_disk_backend_commit_duration_seconds", "a:2381", "0.25"),
			Checks: []check{{"20m", "EtcdSlowBackendCommit", []alert{{ruleLabels(slowLabels),
				map[string]string{"summary": "etcd member a:2381 is slow to commit its backend (p99 over 0.25 s)", "description": "Slow backend commits point at a saturated or slow disk."}}}}}},
		{Interval: "1m", Series: []series{
			{`etcd_mvcc_db_total_size_in_bytes{` + job + `,instance="a:2381"}`, "900x20"},
			{`etcd_server_quota_backend_bytes{` + job + `,instance="a:2381"}`, "1000x20"}},
			Checks: []check{{"15m", "EtcdDatabaseNearQuota", []alert{{ruleLabels(merge(inst("a:2381"), map[string]string{"severity": "warning"})),
				map[string]string{"summary": "etcd member a:2381 database is over 80% of its quota", "description": "At 100% etcd raises NOSPACE and refuses writes; compact and defrag, or raise quota_backend_bytes."}}}}}},
		{Interval: "1m", Series: []series{
			// a grows 10 bytes a minute: 100800 more in 7 days, past its 100000 quota; b holds still.
			{`etcd_mvcc_db_total_size_in_use_in_bytes{` + job + `,instance="a:2381"}`, "0+10x180"},
			{`etcd_server_quota_backend_bytes{` + job + `,instance="a:2381"}`, "100000x180"},
			{`etcd_mvcc_db_total_size_in_use_in_bytes{` + job + `,instance="b:2381"}`, "90000x180"},
			{`etcd_server_quota_backend_bytes{` + job + `,instance="b:2381"}`, "100000x180"}},
			Checks: []check{{"30m", "EtcdDatabaseQuotaForecast", nil},
				{"2h", "EtcdDatabaseQuotaForecast", []alert{{ruleLabels(merge(inst("a:2381"), map[string]string{"severity": "warning"})),
					map[string]string{"summary": "etcd member a:2381 live data reaches its quota within 7 days at the current growth",
						"description": "Growth over the last 6 hours, projected; at the quota etcd raises NOSPACE and refuses writes. Delete or compact what is not needed, or raise quota_backend_bytes."}}}}}},
		{Interval: "1m", Series: []series{{`etcd_server_is_learner{` + job + `,instance="c:2381"}`, "1x40"}},
			Checks: []check{{"35m", "EtcdLearnerTooLong", []alert{{ruleLabels(merge(inst("c:2381"), map[string]string{"severity": "warning"})),
				map[string]string{"summary": "etcd member c:2381 has been a learner for 30 minutes", "description": "A learner that never catches up is never promoted; look at its disk and network."}}}}}},
		{Interval: "1m", Series: []series{
			{`etcd_charm_alarm_active{` + job + `,instance="a:2381",` + topoSel + `,alarm="NOSPACE"}`, "1x10"},
			{`etcd_charm_alarm_active{` + job + `,instance="b:2381",` + topoSel + `,alarm="NOSPACE"}`, "1x10"},
			{`etcd_charm_alarm_active{` + job + `,instance="a:2381",` + topoSel + `,alarm="CORRUPT"}`, "0x10"}},
			Checks: []check{{"5m", "EtcdAlarmRaised", []alert{{ruleLabels(map[string]string{"alarm": "NOSPACE", "severity": "critical"}),
				map[string]string{"summary": "etcd alarm NOSPACE is raised in etcd", "description": "NOSPACE refuses every write until space is freed (compact, defrag) and the alarm is disarmed; CORRUPT means members disagree on their data (run the health action, then rebuild the odd member)."}}}}}},
		{Interval: "1m", Series: []series{
			// Expires 20 days after the epoch, where promtool's clock starts.
			{`etcd_charm_certificate_expiry_timestamp_seconds{` + job + `,instance="a:2381",certificate="member"}`, "1728000x90"},
			{`etcd_charm_certificate_expiry_timestamp_seconds{` + job + `,instance="a:2381",certificate="ca"}`, "315360000x90"}},
			Checks: []check{{"80m", "EtcdCertificateExpiringSoon", []alert{{ruleLabels(merge(inst("a:2381"), map[string]string{"certificate": "member", "severity": "warning"})),
				map[string]string{"summary": "etcd member certificate on a:2381 expires within 30 days", "description": "The charm renews what its own CA signs; a certificate from a related CA must be renewed by that CA."}}}}}},
		{Interval: "1m", Series: []series{
			// Every 10 minutes by the option; the last success stays at 0 while the clock runs on.
			{`etcd_charm_snapshot_interval_seconds{` + job + `,instance="a:2381",` + topoSel + `}`, "600x40"},
			{`etcd_charm_snapshot_interval_seconds{` + job + `,instance="b:2381",` + topoSel + `}`, "600x40"},
			{`etcd_charm_snapshot_last_success_timestamp_seconds{` + job + `,instance="a:2381",` + topoSel + `,destination="local"}`, "0x40"}},
			Checks: []check{{"40m", "EtcdSnapshotOverdue", []alert{{ruleLabels(map[string]string{"destination": "local", "severity": "warning"}),
				map[string]string{"summary": "etcd etcd has no local scheduled snapshot for over two intervals", "description": "Run the snapshot-status action on the Juju leader for the last error."}}}}}},
	}
	// A healthy three-member cluster: nothing fires.
	healthy := test{Interval: "1m"}
	for _, i := range []string{"a:2381", "b:2381", "c:2381"} {
		sel := job + `,instance="` + i + `",` + topoSel
		healthy.Series = append(healthy.Series,
			series{`up{` + sel + `}`, "1x45"},
			series{`etcd_server_has_leader{` + sel + `}`, "1x45"},
			series{`etcd_server_is_learner{` + sel + `}`, "0x45"},
			series{`etcd_server_leader_changes_seen_total{` + sel + `}`, "1x45"},
			series{`etcd_server_proposals_failed_total{` + sel + `}`, "0x45"},
			series{`etcd_mvcc_db_total_size_in_bytes{` + sel + `}`, "100x45"},
			series{`etcd_server_quota_backend_bytes{` + sel + `}`, "1000x45"},
			series{`etcd_charm_alarm_active{` + sel + `,alarm="NOSPACE"}`, "0x45"},
			series{`etcd_charm_alarm_active{` + sel + `,alarm="CORRUPT"}`, "0x45"},
			series{`etcd_charm_certificate_expiry_timestamp_seconds{` + sel + `,certificate="member"}`, "31536000x45"},
			series{`etcd_charm_snapshot_interval_seconds{` + sel + `}`, "600x45"},
		)
		if i == "a:2381" {
			// The unit that takes the snapshots: a fresh one every interval; an S3 backup with each.
			healthy.Series = append(healthy.Series,
				series{`etcd_charm_snapshot_last_success_timestamp_seconds{` + sel + `,destination="local"}`, "0+60x45"},
				series{`etcd_charm_snapshot_last_success_timestamp_seconds{` + sel + `,destination="s3"}`, "0+60x45"})
		}
		for _, m := range []string{"etcd_disk_wal_fsync_duration_seconds", "etcd_disk_backend_commit_duration_seconds"} {
			healthy.Series = append(healthy.Series,
				series{m + `_bucket{` + sel + `,le="0.01"}`, "0+60x45"},
				series{m + `_bucket{` + sel + `,le="+Inf"}`, "0+60x45"})
		}
	}
	for _, name := range RuleNames() {
		healthy.Checks = append(healthy.Checks, check{EvalTime: "40m", AlertName: name})
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.Checks[0].AlertName] = true
	}
	for _, name := range RuleNames() {
		if !covered[name] {
			t.Errorf("alert %s has no firing test", name)
		}
	}
	tests = append(tests, healthy)
	file := filepath.Join(dir, "tests.yaml")
	writeYAMLFile(t, file, map[string]any{"rule_files": []string{"rules.yaml"}, "evaluation_interval": "1m", "tests": tests})
	out, err := exec.Command(promtool, "test", "rules", file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SUCCESS") {
		t.Fatalf("promtool test rules: %v\n%s", err, out)
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func writeYAMLFile(t *testing.T, path string, v any) {
	t.Helper()
	raw, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}
