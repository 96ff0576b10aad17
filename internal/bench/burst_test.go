package bench

import (
	"strings"
	"testing"
	"time"
)

func TestGivenMainPIDSamplesWhenRestartsAreCountedThenEachNewProcessCountsOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		pids []int
		want int
	}{
		{"the same PID throughout", []int{101, 101, 101, 101}, 0},
		{"stopped, then a new PID", []int{101, 101, 0, 0, 202, 202}, 1},
		{"a new PID without the 0 between (a poll missed the downtime)", []int{101, 202, 202}, 1},
		{"two restarts", []int{101, 0, 202, 202, 0, 0, 303}, 2},
		{"stopped and back as the same PID", []int{101, 0, 101}, 0},
		{"down at the first sample, then started", []int{0, 0, 101, 101}, 1},
		{"never running", []int{0, 0, 0}, 0},
		{"no samples", nil, 0},
	} {
		if got := restartsFromPIDs(tc.pids); got != tc.want {
			t.Errorf("%s: %v gave %d restarts, want %d", tc.name, tc.pids, got, tc.want)
		}
	}
}

func TestGivenAWorkloadLogWhenStartsAreCountedThenOnlyEtcdStartRecordsCount(t *testing.T) {
	log := strings.Join([]string{
		`{"level":"info","msg":"started etcd pid 12 in the message, not a record"}`,
		"-- started etcd.service pid 4242 --",
		"-- started other.service pid 4243 --",
		`{"level":"info","msg":"serving client traffic"}`,
		"-- started etcd.service pid 4300 --",
		"-- started etcd pid 4301 --",
		"",
	}, "\n")
	if got := countStarts([]byte(log)); got != 3 {
		t.Errorf("counted %d etcd starts, want 3 (the record lines of etcd alone)", got)
	}
}

func TestGivenABurstWhenRenderedThenItsRowsGiveReadyTimeRollingRestartsAndTargets(t *testing.T) {
	b := RequirerBurst{Requirers: 8, Integrate: 412 * time.Millisecond, Active: 41234 * time.Millisecond,
		Verified: 42 * time.Second, Settled: 45 * time.Second, Members: []string{"etcd/0", "etcd/1", "etcd/2"},
		Restarts: []int{2, 1, 2}, RestartsByReady: []int{2, 1, 1}, PolledRestarts: []int{2, 1, 2},
		Source: "the local model's start records", UpdateStatus: 5 * time.Minute}
	var c Costs
	c.Burst = b
	var sb strings.Builder
	c.markdown(&sb)
	out := sb.String()
	for _, want := range []string{
		"| 8 etcd-client requirers related at once (8 integrates back to back in 412ms; update-status every 5m0s): first integrate to every requirer active | 41.2 s | < 62 s (a third of the 187 s measured before): met |",
		"through every member, with its own credentials | 42.0 s | |",
		"member restarts (etcd/0, etcd/1, etcd/2), first integrate to the model idle again (45.0 s) | rolling restarts: 2; member restarts: 2/1/2 | ≤ 2 rolling restarts: met |",
		"| ↳ member restarts counted from the local model's start records; before every requirer was verified: 2/1/1; MainPID polls every 150ms saw 2/1/2 | | |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	b.Active, b.Restarts = 70*time.Second, []int{3, 1, 3}
	if b.Rolling() != 3 {
		t.Errorf("rolling restarts %d, want the most of one member, 3", b.Rolling())
	}
	rows := b.markdownRows()
	if strings.Count(rows, "**not met**") != 2 {
		t.Errorf("70 s and 3 restarts of one member should miss both targets:\n%s", rows)
	}
	if (RequirerBurst{Requirers: 8}).markdownRows() != "" {
		t.Error("a burst that never became ready rendered rows")
	}
}
