package etcd

import (
	"os"
	"testing"
)

func TestGivenADirectoryWhenItsFsyncLatencyIsMeasuredThenThePercentilesAreOrderedAndNothingIsLeftBehind(t *testing.T) {
	dir := t.TempDir()
	p, err := MeasureFsync(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.Writes != probeWrites || p.P99 <= 0 || p.P99 > p.Max {
		t.Errorf("probe %+v: want %d writes and 0 < p99 <= max", p, probeWrites)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the probe left %v behind", entries)
	}
	if _, err := MeasureFsync(dir + "/missing"); err == nil {
		t.Error("a directory that does not exist was measured")
	}
}
