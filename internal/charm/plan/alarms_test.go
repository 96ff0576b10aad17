package plan

import (
	"strings"
	"testing"

	"github.com/etcd-charm/etcd/internal/cluster"
)

func TestGivenANoSpaceAlarmWhenJudgingADisarmThenOnlyMembersStillFullBlockItWithTheirFix(t *testing.T) {
	const q = 100 << 20
	noSpace := []cluster.Alarm{{MemberID: 1, Type: cluster.AlarmNoSpace}}
	members := []SpaceMember{
		{MemberSpace: MemberSpace{Member: "etcd-0", DBSize: q + 9<<20, InUse: 96 << 20, Quota: q, Answered: true}}, // nothing freed yet
		{MemberSpace: MemberSpace{Member: "etcd-1", DBSize: q, InUse: 10 << 20, Quota: q, Answered: true}},         // compacted, not defragmented
		{MemberSpace: MemberSpace{Member: "etcd-2", DBSize: 12 << 20, InUse: 10 << 20, Quota: q, Answered: true}},  // defragmented
		{MemberSpace: MemberSpace{Member: "etcd-3", DBSize: q, InUse: q, Quota: q}},                                // did not answer
	}
	got := DisarmBlockers(noSpace, members)
	if len(got) != 2 || !strings.HasPrefix(got[0], "etcd-0") || !strings.Contains(got[0], "compact") ||
		!strings.HasPrefix(got[1], "etcd-1") || !strings.Contains(got[1], "run the defrag action") {
		t.Fatalf("blockers: %q", got)
	}
	if got := DisarmBlockers(noSpace, members[2:]); got != nil {
		t.Fatalf("a defragmented cluster is blocked: %q", got)
	}
	if got := DisarmBlockers([]cluster.Alarm{{MemberID: 1, Type: cluster.AlarmCorrupt}}, members); got != nil {
		t.Fatalf("a CORRUPT alarm is judged by space: %q", got)
	}
}

func TestGivenMembersWhoseLiveDataNearlyFillsTheQuotaWhenWarnedThenOnlyThoseAreNamed(t *testing.T) {
	const q = 100 << 20
	got := LiveDataWarnings([]SpaceMember{
		{MemberSpace: MemberSpace{Member: "etcd-0", DBSize: 90 << 20, InUse: 85 << 20, Quota: q, Answered: true}},
		{MemberSpace: MemberSpace{Member: "etcd-1", DBSize: 90 << 20, InUse: 10 << 20, Quota: q, Answered: true}},
	})
	if len(got) != 1 || !strings.HasPrefix(got[0], "etcd-0 holds 85 MiB") {
		t.Fatalf("warnings: %q", got)
	}
}

func TestGivenACorruptAlarmWhenAMemberAsksWhetherItIsNamedThenOnlyTheNamedOneIs(t *testing.T) {
	r := cluster.HealthReport{
		Members: []cluster.Member{{ID: 1, PeerURLs: []string{"https://10.0.0.1:2380"}}, {ID: 2, PeerURLs: []string{"https://10.0.0.2:2380"}}},
		Alarms:  []cluster.Alarm{{MemberID: 2, Type: cluster.AlarmCorrupt}, {MemberID: 1, Type: cluster.AlarmNoSpace}},
	}
	if !CorruptAlarmOn(r, "https://10.0.0.2:2380") {
		t.Error("the member the CORRUPT alarm names does not see it")
	}
	if CorruptAlarmOn(r, "https://10.0.0.1:2380") {
		t.Error("a NOSPACE alarm was taken for CORRUPT")
	}
	if CorruptAlarmOn(r, "https://10.0.0.9:2380") {
		t.Error("a unit that is no member was named")
	}
}

func TestGivenRaisedAlarmsWhenStatusNamesThemThenItGivesTheWayOutOfEach(t *testing.T) {
	for _, tc := range []struct {
		alarms []cluster.Alarm
		want   string
	}{
		{[]cluster.Alarm{{MemberID: 1, Type: cluster.AlarmNoSpace}}, "run the compact, defrag and alarm-disarm actions"},
		{[]cluster.Alarm{{MemberID: 2, Type: cluster.AlarmCorrupt}}, "its unit replaces it"},
	} {
		msg := AlarmMessage(tc.alarms)
		if !strings.HasPrefix(msg, AlarmPrefix) || !strings.Contains(msg, tc.want) {
			t.Errorf("%v: %q, want it to say %q", tc.alarms, msg, tc.want)
		}
		if strings.Contains(msg, "defrag") != (tc.alarms[0].Type == cluster.AlarmNoSpace) {
			t.Errorf("%v: %q speaks of defrag for the wrong alarm", tc.alarms, msg)
		}
	}
}
