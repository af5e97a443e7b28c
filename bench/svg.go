package bench

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Chart colours.
const (
	colOurs     = "#2b6cb0"
	colBaseline = "#a0aec0"
	colFail     = "#e53e3e"
	colTarget   = "#dd6b20"
)

// versionColours cycle through the versions of a timeline.
var versionColours = []string{"#3182ce", "#38a169", "#805ad5", "#d69e2e", "#319795", "#b83280"}

// Bar is one bar of a BarChart: the median with a whisker from Lo to Hi.
type Bar struct {
	Label         string
	Value, Lo, Hi float64
	Colour        string
	// Text replaces the value label when set.
	Text string
}

// BarChart is a horizontal bar chart with optional whiskers and target.
type BarChart struct {
	Title, Unit string
	Bars        []Bar
	// Target draws a dashed line at this value when > 0.
	Target      float64
	TargetLabel string
}

const (
	svgWidth   = 720
	labelWidth = 250
	barHeight  = 26
	barGap     = 10
	topPad     = 46
	bottomPad  = 34
	rightPad   = 90
)

// SVG renders the chart.
func (c BarChart) SVG() string {
	max := c.Target
	for _, b := range c.Bars {
		max = math.Max(max, math.Max(b.Value, b.Hi))
	}
	if max <= 0 {
		max = 1
	}
	max = niceCeil(max * 1.05)
	plotW := float64(svgWidth - labelWidth - rightPad)
	x := func(v float64) float64 { return labelWidth + plotW*v/max }
	h := topPad + len(c.Bars)*(barHeight+barGap) + bottomPad
	var b strings.Builder
	svgHeader(&b, svgWidth, h, c.Title)
	// Axis ticks.
	axisY := topPad + len(c.Bars)*(barHeight+barGap)
	for i := 0; i <= 4; i++ {
		v := max * float64(i) / 4
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e2e8f0"/>`+"\n", x(v), topPad-6, x(v), axisY)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="#4a5568">%s</text>`+"\n", x(v), axisY+16, esc(fmtNum(v)))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end" fill="#4a5568">%s</text>`+"\n", svgWidth-rightPad, axisY+30, esc(c.Unit))
	for i, bar := range c.Bars {
		y := topPad + i*(barHeight+barGap)
		col := bar.Colour
		if col == "" {
			col = colOurs
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" text-anchor="end" fill="#1a202c">%s</text>`+"\n", labelWidth-8, y+barHeight/2+4, esc(bar.Label))
		w := x(bar.Value) - labelWidth
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", labelWidth, y, w, barHeight, col)
		if bar.Hi > bar.Lo {
			cy := y + barHeight/2
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#1a202c"/>`+"\n", x(bar.Lo), cy, x(bar.Hi), cy)
			for _, v := range []float64{bar.Lo, bar.Hi} {
				fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#1a202c"/>`+"\n", x(v), cy-5, x(v), cy+5)
			}
		}
		text := bar.Text
		if text == "" {
			text = fmtNum(bar.Value)
		}
		tx := math.Max(x(bar.Value), x(bar.Hi)) + 6
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" fill="#1a202c">%s</text>`+"\n", tx, y+barHeight/2+4, esc(text))
	}
	if c.Target > 0 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="6,4"/>`+"\n", x(c.Target), topPad-10, x(c.Target), axisY, colTarget)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="%s">%s</text>`+"\n", x(c.Target), topPad-14, colTarget, esc(c.TargetLabel))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// StackedBar is one horizontal bar split into named parts (a breakdown).
type StackedBar struct {
	Title, Unit string
	Parts       []Phase
	Target      float64
	TargetLabel string
}

// SVG renders the breakdown with a legend.
func (c StackedBar) SVG() string {
	total := 0.0
	for _, p := range c.Parts {
		total += p.Seconds
	}
	max := niceCeil(math.Max(total, c.Target) * 1.05)
	if max <= 0 {
		max = 1
	}
	left, plotW := 20.0, float64(svgWidth-40)
	x := func(v float64) float64 { return left + plotW*v/max }
	legendRows := len(c.Parts)
	h := topPad + barHeight + 40 + legendRows*18 + 10
	var b strings.Builder
	svgHeader(&b, svgWidth, h, c.Title)
	at := 0.0
	for i, p := range c.Parts {
		col := versionColours[i%len(versionColours)]
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n", x(at), topPad, x(at+p.Seconds)-x(at), barHeight, col, esc(fmt.Sprintf("%s: %.2f s", p.Name, p.Seconds)))
		at += p.Seconds
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="12" fill="#1a202c">%s</text>`+"\n", math.Min(x(at)+6, svgWidth-60), topPad+barHeight/2+4, esc(fmt.Sprintf("%.1f %s", at, c.Unit)))
	if c.Target > 0 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2" stroke-dasharray="6,4"/>`+"\n", x(c.Target), topPad-8, x(c.Target), topPad+barHeight+8, colTarget)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" text-anchor="middle" fill="%s">%s</text>`+"\n", x(c.Target), topPad-12, colTarget, esc(c.TargetLabel))
	}
	y := topPad + barHeight + 30
	for i, p := range c.Parts {
		col := versionColours[i%len(versionColours)]
		fmt.Fprintf(&b, `<rect x="20" y="%d" width="12" height="12" fill="%s"/>`+"\n", y+i*18-10, col)
		fmt.Fprintf(&b, `<text x="38" y="%d" font-size="12" fill="#1a202c">%s</text>`+"\n", y+i*18, esc(fmt.Sprintf("%s: %.2f s", p.Name, p.Seconds)))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// TimelineChart draws requests per bucket of one or more load cases, one
// panel each: 2xx stacked by version, failures in red, operation starts as
// ticks.
type TimelineChart struct {
	Title  string
	Panels []LoadCase
}

// SVG renders the panels.
func (c TimelineChart) SVG() string {
	const panelH, panelGap = 120, 46
	h := topPad + len(c.Panels)*(panelH+panelGap) + 10
	var b strings.Builder
	svgHeader(&b, svgWidth, h, c.Title)
	left, plotW := 60.0, float64(svgWidth-80)
	for pi, lc := range c.Panels {
		t := lc.Timeline
		top := topPad + pi*(panelH+panelGap) + 14
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" font-size="12" fill="#1a202c">%s</text>`+"\n", left, top-4,
			esc(fmt.Sprintf("%s: %d requests, %d failed (first host shown)", lc.Case, lc.Requests, lc.Failed())))
		if t == nil || len(t.Failed) == 0 {
			continue
		}
		n := len(t.Failed)
		maxY := 1
		for i := 0; i < n; i++ {
			sum := t.Failed[i]
			for v := range t.OK {
				sum += t.OK[v][i]
			}
			maxY = max(maxY, sum)
		}
		bw := plotW / float64(n)
		y := func(v int) float64 { return float64(top) + 8 + float64(panelH-8)*(1-float64(v)/float64(maxY)) }
		base := y(0)
		fmt.Fprintf(&b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#a0aec0"/>`+"\n", left, base, left+plotW, base)
		for i := 0; i < n; i++ {
			acc := 0
			for v := range t.OK {
				k := t.OK[v][i]
				if k == 0 {
					continue
				}
				fmt.Fprintf(&b, `<rect x="%.2f" y="%.1f" width="%.2f" height="%.1f" fill="%s"/>`+"\n", left+float64(i)*bw, y(acc+k), math.Max(bw-0.3, 0.3), y(acc)-y(acc+k), versionColours[v%len(versionColours)])
				acc += k
			}
			if k := t.Failed[i]; k > 0 {
				fmt.Fprintf(&b, `<rect x="%.2f" y="%.1f" width="%.2f" height="%.1f" fill="%s"/>`+"\n", left+float64(i)*bw, y(acc+k), math.Max(bw-0.3, 0.8), y(acc)-y(acc+k), colFail)
			}
		}
		for _, m := range t.Marks {
			mx := left + plotW*m/float64(n*t.BucketMs)
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#1a202c" stroke-opacity="0.6" stroke-dasharray="3,3"/>`+"\n", mx, y(maxY), mx, base+8)
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" font-size="10" text-anchor="end" fill="#4a5568">%d</text>`+"\n", left-4, y(maxY)+4, maxY)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" font-size="10" text-anchor="end" fill="#4a5568">0</text>`+"\n", left-4, base+4)
		secsTotal := float64(n*t.BucketMs) / 1000
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" font-size="10" text-anchor="end" fill="#4a5568">%.0f s (req per %d ms; ticks: operation starts)</text>`+"\n", left+plotW, base+20, secsTotal, t.BucketMs)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func svgHeader(b *strings.Builder, w, h int, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif">`+"\n", w, h, w, h)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", w, h)
	fmt.Fprintf(b, `<text x="20" y="24" font-size="15" font-weight="bold" fill="#1a202c">%s</text>`+"\n", esc(title))
}

func esc(s string) string { return html.EscapeString(s) }

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}
