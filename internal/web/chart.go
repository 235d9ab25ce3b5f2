package web

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Charts are inline SVG drawn here, so a page needs no script to show them and no other host.
// Each is an image with a title for assistive technology; the page puts the same figures in a
// table beside it, the chart's text equivalent.

// chartSVG is SVG markup made by this file; every text in it is escaped.
type chartSVG string

// bar is one bar of a bar chart: its label under it, its value, and how the value reads.
type bar struct {
	Label string
	Value float64
	Text  string
}

// Chart geometry, in SVG user units (the image scales to the width of its box).
const (
	chartW, chartH = 640.0, 240.0
	padL, padR     = 12.0, 12.0
	padT, padB     = 24.0, 40.0
	// minLabelledSlot is the narrowest bar slot whose figure fits above the bar.
	minLabelledSlot = 70.0
)

func esc(s string) string { return html.EscapeString(s) }

// barChart draws bars from zero; negative values are drawn as zero-height bars (amounts here
// are never negative).
func barChart(id, title string, bars []bar) chartSVG {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-labelledby="%s-t" id="%s">`, chartW, chartH, esc(id), esc(id))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title>`, esc(id), esc(title))
	maxV := 0.0
	for _, x := range bars {
		maxV = math.Max(maxV, x.Value)
	}
	n := float64(max(len(bars), 1))
	slot := (chartW - padL - padR) / n
	barW := slot * 0.7
	base := chartH - padB
	fmt.Fprintf(&b, `<line class="axis" x1="%g" y1="%g" x2="%g" y2="%g"/>`, padL, base, chartW-padR, base)
	for i, x := range bars {
		h := 0.0
		if maxV > 0 && x.Value > 0 {
			h = (base - padT) * x.Value / maxV
		}
		left := padL + float64(i)*slot + (slot-barW)/2
		fmt.Fprintf(&b, `<g class="bar"><rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %s</title></rect>`,
			left, base-h, barW, h, esc(x.Label), esc(x.Text))
		if slot >= minLabelledSlot { // narrower bars keep their figure in the tooltip and the table
			fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, left+barW/2, base-h-6, esc(shortFigure(x.Text)))
		}
		fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f" text-anchor="middle">%s</text></g>`, left+barW/2, base+16, esc(x.Label))
	}
	b.WriteString(`</svg>`)
	return chartSVG(b.String())
}

// shortFigure keeps a bar's value label short enough to sit above a narrow bar: the amount
// without its cents.
func shortFigure(s string) string {
	for _, mark := range []string{".", ","} {
		if i := strings.LastIndex(s, mark); i > 0 && i+3 <= len(s) && isDigits(s[i+1:i+3]) && (i+3 == len(s) || !isDigit(s[i+3])) {
			return s[:i] + s[i+3:]
		}
	}
	return s
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// point is one point of a line chart: X in any unit that orders the points (Unix seconds), its
// tooltip, and the label shown under the axis for the first and the last point.
type point struct {
	X, Y      float64
	Tip, Axis string
}

// lineChart draws points joined in X order, with the Y range padded around the values and a dot
// with a tooltip on each point.
func lineChart(id, title string, pts []point) chartSVG {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %g %g" role="img" aria-labelledby="%s-t" id="%s">`, chartW, chartH, esc(id), esc(id))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title>`, esc(id), esc(title))
	if len(pts) == 0 {
		b.WriteString(`</svg>`)
		return chartSVG(b.String())
	}
	minX, maxX, minY, maxY := pts[0].X, pts[0].X, pts[0].Y, pts[0].Y
	for _, p := range pts {
		minX, maxX = math.Min(minX, p.X), math.Max(maxX, p.X)
		minY, maxY = math.Min(minY, p.Y), math.Max(maxY, p.Y)
	}
	minY, maxY = minY-20, maxY+20
	left, right, top, bottom := padL+36, chartW-padR, padT, chartH-padB
	x := func(v float64) float64 {
		if maxX == minX {
			return (left + right) / 2
		}
		return left + (right-left)*(v-minX)/(maxX-minX)
	}
	y := func(v float64) float64 { return bottom - (bottom-top)*(v-minY)/(maxY-minY) }
	fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, left, bottom, right, bottom)
	fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="end">%.0f</text>`, left-4, y(maxY)+4, maxY)
	fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="end">%.0f</text>`, left-4, y(minY), minY)
	var path strings.Builder
	for i, p := range pts {
		if i > 0 {
			path.WriteByte(' ')
		}
		fmt.Fprintf(&path, "%.1f,%.1f", x(p.X), y(p.Y))
	}
	fmt.Fprintf(&b, `<polyline class="line" points="%s"/>`, path.String())
	for _, p := range pts {
		fmt.Fprintf(&b, `<circle class="dot" cx="%.1f" cy="%.1f" r="4"><title>%s</title></circle>`, x(p.X), y(p.Y), esc(p.Tip))
	}
	fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f">%s</text>`, left, chartH-12, esc(pts[0].Axis))
	if len(pts) > 1 {
		fmt.Fprintf(&b, `<text class="label" x="%.1f" y="%.1f" text-anchor="end">%s</text>`, right, chartH-12, esc(pts[len(pts)-1].Axis))
	}
	b.WriteString(`</svg>`)
	return chartSVG(b.String())
}
