package bench

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Colours of the sides, the same in every panel and in the legend.
var (
	sideColours = [sides]color.RGBA{
		Hand:              {0x4c, 0x72, 0xb0, 0xff},
		HandCharmSettings: {0x8f, 0xaa, 0xdc, 0xff},
		Charm:             {0xdd, 0x84, 0x52, 0xff},
	}
	sideLegends = [sides]string{
		Hand:              "hand-run etcd (same binary and TLS, etcd defaults)",
		HandCharmSettings: "hand-run + the charm's settings",
		Charm:             "deployed by the charm",
	}
	inkColour  = color.RGBA{0x22, 0x22, 0x22, 0xff}
	gridColour = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
)

// Chart layout in pixels.
const (
	chartWidth  = 1200
	labelWidth  = 250
	panelGap    = 40
	barHeight   = 20
	barGap      = 4
	headerLines = 124
	footer      = 40
)

// panel is one metric drawn for every row: a bar per side, scaled to the larger of the row's two values so
// the comparison inside a row reads at a glance whatever the row's magnitude; the number is on the bar.
type panel struct {
	title string
	value func(Sample) float64
	text  func(float64) string
}

// WriteChart draws throughput and p99 latency, charm against hand-run, one row per workload, as a PNG.
func WriteChart(w io.Writer, rows []DataRow, subtitle string) error {
	regular, err := face(goregular.TTF, 14)
	if err != nil {
		return err
	}
	bold, err := face(gobold.TTF, 18)
	if err != nil {
		return err
	}
	var shown []Side
	for s := range sides {
		if len(rows) > 0 && rows[0].Measured(s) {
			shown = append(shown, s)
		}
	}
	rowHeight := rowHeightFor(len(shown))
	height := headerLines + rowHeight*len(rows) + footer
	img := image.NewRGBA(image.Rect(0, 0, chartWidth, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)

	text(img, bold, 20, 28, inkColour, "etcd charm vs hand-run etcd: medians of alternating runs")
	text(img, regular, 20, 50, inkColour, subtitle)
	legend(img, regular, 20, 66, shown)

	panels := []panel{
		{"Throughput, requests/s (higher is better)", func(s Sample) float64 { return s.Throughput },
			func(v float64) string { return fmt.Sprintf("%.0f/s", v) }},
		{"p99 latency (lower is better)", func(s Sample) float64 { return float64(s.P99) },
			func(v float64) string { return fmtDur(time.Duration(v)) }},
	}
	panelWidth := (chartWidth - labelWidth - 20 - panelGap*len(panels)) / len(panels)
	for p, pn := range panels {
		x0 := labelWidth + p*(panelWidth+panelGap)
		text(img, bold, x0, headerLines-10, inkColour, pn.title)
		for i, row := range rows {
			y := headerLines + i*rowHeight
			fill(img, image.Rect(x0, y+rowHeight-2, x0+panelWidth, y+rowHeight-1), gridColour)
			var top float64
			for _, s := range shown {
				top = max(top, pn.value(row.Median(s)))
			}
			for k, s := range shown {
				v := pn.value(row.Median(s))
				by := y + 8 + k*(barHeight+barGap)
				length := 0
				if top > 0 {
					length = int(float64(panelWidth-90) * v / top)
				}
				fill(img, image.Rect(x0, by, x0+max(length, 1), by+barHeight), sideColours[s])
				text(img, regular, x0+length+6, by+barHeight-5, inkColour, pn.text(v))
			}
		}
	}
	for i, row := range rows {
		y := headerLines + i*rowHeight
		tp, _, p99 := row.Ratios(Charm)
		text(img, bold, 20, y+26, inkColour, row.Workload.Name())
		text(img, regular, 20, y+48, inkColour, fmt.Sprintf("charm/hand %.2f tput, %.2f p99", tp, p99))
	}
	text(img, regular, 20, height-14, inkColour,
		"Bars are scaled per row to the row's largest value; the numbers are the medians.")
	return png.Encode(w, img)
}

// rowHeightFor leaves room for one bar per side and a gap between rows.
func rowHeightFor(bars int) int { return max(2, bars)*(barHeight+barGap) + 20 }

func legend(img *image.RGBA, f font.Face, x, y int, shown []Side) {
	lx := x
	for _, s := range shown {
		fill(img, image.Rect(lx, y, lx+16, y+16), sideColours[s])
		text(img, f, lx+22, y+13, inkColour, sideLegends[s])
		lx += 22 + font.MeasureString(f, sideLegends[s]).Round() + 30
	}
}

func face(ttf []byte, size float64) (font.Face, error) {
	f, err := opentype.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("parsing the chart font: %w", err)
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
}

func text(img *image.RGBA, f font.Face, x, y int, c color.Color, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: f, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func fill(img *image.RGBA, r image.Rectangle, c color.Color) {
	draw.Draw(img, r, image.NewUniform(c), image.Point{}, draw.Src)
}
