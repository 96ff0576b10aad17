package plan

import (
	"strings"
	"testing"
	"time"
)

func TestGivenABrokenMemberWhenItsReplacementIsDecidedThenEachRuleHolds(t *testing.T) {
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	base := ReplaceFacts{Problem: "its data dir is gone", SafeToRemove: true, Now: now, Backoff: 10 * time.Minute,
		DataPresent: true, MaxCopies: 3}
	cases := []struct {
		name    string
		change  func(*ReplaceFacts)
		verdict ReplaceVerdict
		says    string
	}{
		{"others keep quorum: replaced", func(*ReplaceFacts) {}, ReplaceNow, ""},
		{"the only member: the operator restores", func(f *ReplaceFacts) { f.OnlyMember = true }, ReplaceBlocked, "restore action"},
		{"the only member even when quorum is not in question", func(f *ReplaceFacts) { f.OnlyMember, f.SafeToRemove = true, false },
			ReplaceBlocked, "no other member"},
		{"removal would cost quorum: waits", func(f *ReplaceFacts) { f.SafeToRemove = false }, ReplaceWait, "keep quorum"},
		{"copies at the bound: blocked, nothing deleted", func(f *ReplaceFacts) { f.CopiesKept = 3 }, ReplaceBlocked, "3 earlier copies"},
		{"copies at the bound but nothing to keep: replaced", func(f *ReplaceFacts) { f.CopiesKept, f.DataPresent = 3, false }, ReplaceNow, ""},
		{"replaced 4 min ago: backs off", func(f *ReplaceFacts) { f.LastReplaced = now.Add(-4 * time.Minute) }, ReplaceWait,
			"not before 2026-12-07T06:06:00Z"},
		{"replaced 11 min ago: replaced again", func(f *ReplaceFacts) { f.LastReplaced = now.Add(-11 * time.Minute) }, ReplaceNow, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := base
			c.change(&f)
			verdict, why := DecideReplacement(f)
			if verdict != c.verdict || !strings.Contains(why, c.says) {
				t.Errorf("got %v %q, want %v saying %q", verdict, why, c.verdict, c.says)
			}
			if verdict != ReplaceNow && !strings.Contains(why, f.Problem) {
				t.Errorf("%q does not say what was found (%q)", why, f.Problem)
			}
		})
	}
}
