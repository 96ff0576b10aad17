package bench

import (
	"bytes"
	"image/png"
	"strings"
	"testing"
	"time"
)

func sampleRows() []DataRow {
	row := func(op Op, clients int, hand, charm Sample) DataRow {
		r := DataRow{Workload: Workload{Op: op, Clients: clients, Conns: 1}}
		r.Samples[Hand] = []Sample{hand, hand, hand}
		r.Samples[Charm] = []Sample{charm, charm, charm}
		return r
	}
	return []DataRow{
		row(OpPut, 1, Sample{Throughput: 700, P50: time.Millisecond, P99: 3 * time.Millisecond},
			Sample{Throughput: 690, P50: time.Millisecond, P99: 4 * time.Millisecond}),
		row(OpRangeSerializable, 64, Sample{Throughput: 25000, P50: 2 * time.Millisecond, P99: 9 * time.Millisecond},
			Sample{Throughput: 26000, P50: 2 * time.Millisecond, P99: 8 * time.Millisecond}),
	}
}

func TestGivenDataRowsWhenChartedThenTheOutputIsAPNGWithARowPerWorkload(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteChart(&buf, sampleRows(), "test machine"); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("not a valid PNG: %v", err)
	}
	b := img.Bounds()
	if want := headerLines + 2*rowHeightFor(2) + footer; b.Dx() != chartWidth || b.Dy() != want {
		t.Errorf("chart is %dx%d, want %dx%d", b.Dx(), b.Dy(), chartWidth, want)
	}
	// Both measured sides' bars are drawn, in order: the first row's throughput bars start at the panel's
	// left edge.
	for k, side := range []Side{Hand, Charm} {
		r, g, bl, a := img.At(labelWidth+2, headerLines+8+k*(barHeight+barGap)+barHeight/2).RGBA()
		if got, want := [4]uint32{r, g, bl, a}, rgba(sideColours[side]); got != want {
			t.Errorf("%s bar colour: got %v, want %v", side, got, want)
		}
	}
}

func rgba(c interface{ RGBA() (r, g, b, a uint32) }) [4]uint32 {
	r, g, b, a := c.RGBA()
	return [4]uint32{r, g, b, a}
}

func TestGivenRunsWhenSummarisedThenMediansAndRatiosComeFromEachSide(t *testing.T) {
	r := DataRow{Workload: Workload{Op: OpPut, Clients: 1, Conns: 1}}
	r.Samples[Hand] = []Sample{{Throughput: 100, P99: 10}, {Throughput: 300, P99: 30}, {Throughput: 200, P99: 20}}
	r.Samples[Charm] = []Sample{{Throughput: 50, P99: 5}, {Throughput: 400, P99: 40}, {Throughput: 220, P99: 22}}
	if m := r.Median(Hand); m.Throughput != 200 || m.P99 != 20 {
		t.Errorf("hand median %+v, want 200 req/s and p99 20", m)
	}
	tp, _, p99 := r.Ratios(Charm)
	if tp != 1.1 || p99 != 1.1 {
		t.Errorf("ratios %v %v, want 1.1 and 1.1", tp, p99)
	}
}

func TestGivenAReportWhenRenderedThenTablesCarryRatiosAndVerdicts(t *testing.T) {
	rows := sampleRows()
	r := Report{Rows: rows, MovedRows: rows, Rounds: 3, Costs: &Costs{
		UpdateStatus: HookCost{Hook: "update-status", Runs: 9, MedianWall: 50 * time.Millisecond, P99Wall: 80 * time.Millisecond,
			MedianCPU: 40 * time.Millisecond, Overlapped: 2},
		GapRemove: WriteGapResult{Gap: 150 * time.Millisecond, Unavailable: 148 * time.Millisecond, Stalled: 74, Writes: 3000,
			MaxLatency: 480 * time.Millisecond},
	}}
	md := r.Markdown("chart.png")
	for _, want := range []string{
		"![throughput and p99 latency, charm vs hand-run](chart.png)",
		"| put 1c/1conn | 700 | 690 | 0.99 | 1.00ms / 3.00ms | 1.00ms / 4.00ms | 1.00 | 1.33 | 0% | **not met** |",
		"| range-s 64c/1conn | 25000 | 26000 | 1.04 | 2.00ms / 9.00ms | 2.00ms / 8.00ms | 1.00 | 0.89 | 0% | met |",
		"| Workload | Hand-run req/s | Moved req/s | Ratio | Hand p50 / p99 | Moved p50 / p99 | p50 ratio | p99 ratio |\n",
		"| `update-status` on a 3-unit cluster (9 runs, 2 of them while another unit ran it too): wall time median / p99 | 50.0ms / 80.0ms | median < 100 ms: met |\n" +
			"| `update-status`: CPU time (user + system of the hook and its hook tools) median | 40.0ms | |\n",
		"| Write gap after `remove-unit` of the raft leader's unit | 150ms | < 100 ms: **not met** |\n" +
			"| ↳ same writes: no write accepted for / writes failed or timed out (500ms timeout) / longest successful write | 148ms / 74 of 3000 / 480ms | |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
