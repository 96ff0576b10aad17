package charm

import (
	"strings"
	"testing"
	"time"

	"github.com/etcd-charm/etcd/internal/s3backup"
)

func TestGivenTheLastLookAtTheBucketWhenAHookRunsThenItLooksAgainOnlyForANewLocationOrAnOldFailure(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		check s3Check
		want  bool
	}{
		"never looked":               {s3Check{}, true},
		"same place, worked":         {s3Check{Fingerprint: "a", At: now.Add(-time.Hour)}, false},
		"another place":              {s3Check{Fingerprint: "b", At: now}, true},
		"failed a minute ago":        {s3Check{Fingerprint: "a", At: now.Add(-time.Minute), Err: "refused"}, false},
		"failed five minutes ago":    {s3Check{Fingerprint: "a", At: now.Add(-5 * time.Minute), Err: "refused"}, true},
		"failed elsewhere, just now": {s3Check{Fingerprint: "b", At: now, Err: "refused"}, true},
	} {
		if got := s3Due(tc.check, "a", now); got != tc.want {
			t.Errorf("%s: s3Due = %v, want %v", name, got, tc.want)
		}
	}
}

func TestGivenRetentionOptionsAndTheProvidersDaysThenTheStricterAgeWins(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		days, provider int
		want           time.Duration
	}{{0, 0, 0}, {10, 0, 10 * day}, {0, 30, 30 * day}, {10, 30, 10 * day}, {30, 10, 10 * day}} {
		r := backupConfig{Retention: 3, RetentionDays: tc.days}.retention(s3backup.Location{MaxAgeDays: tc.provider})
		if r.MaxAge != tc.want || r.Keep != 3 {
			t.Errorf("days %d, provider %d: %+v, want max age %v", tc.days, tc.provider, r, tc.want)
		}
	}
	if ps := (backupConfig{Retention: 0, RetentionDays: -1}).problems(); len(ps) != 2 ||
		ps[0].Option != "backup_retention" || ps[1].Option != "backup_retention_days" {
		t.Errorf("problems: %+v", ps)
	}
}

func TestBackupTableKeepsCharmedEtcdsColumnsFirst(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	table := backupTable([]s3backup.Manifest{{ID: "2026-12-06T10:00:00Z", Size: 2048, Revision: 9, TotalKeys: 3,
		Taken: now.Add(-2 * time.Hour), Kind: s3backup.KindScheduled, Application: "etcd", ClusterID: "c1"}}, now)
	lines := strings.Split(table, "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "backup-id ") || !strings.Contains(lines[0], "| backup-status") {
		t.Fatalf("table:\n%s", table)
	}
	for _, want := range []string{"2026-12-06T10:00:00Z", "| finished", "2.0K", "| 9", "2h", "scheduled", "c1"} {
		if !strings.Contains(lines[2], want) {
			t.Errorf("row %q lacks %q", lines[2], want)
		}
	}
}
