package scoring

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// classNames are the risk classes every model must define, best first: the decision policies
// refer to them by name.
var classNames = []string{"A", "B", "C", "D", "E"}

// checkModel runs the checks that span several entries: coverage, duplicates, classes.
func checkModel(p *problems, m *Model) {
	features := map[string]int{}
	codes := map[string]int{}
	for i := range m.chars {
		c := &m.chars[i]
		path := fmt.Sprintf("characteristics[%d]", i)
		if first, dup := features[c.feature]; dup {
			p.add(c.line, path+".feature", "feature %q is already scored at line %d: it would count twice", c.feature, first)
		}
		features[c.feature] = c.line
		if first, dup := codes[c.reason.code]; dup {
			p.add(c.reason.codeLine, path+".reason.code", "reason code %q is already used at line %d", c.reason.code, first)
		}
		codes[c.reason.code] = c.reason.codeLine
		if (c.reason.format == FormatYesNo) != (c.kind == KindBool) {
			p.add(c.reason.formatLine, path+".reason.format", "format %q does not suit %s, a %s (yesno is for booleans only)",
				c.reason.format, c.feature, c.kind)
		}
		if c.kind == KindBool {
			checkCategories(p, c, path)
		} else {
			checkChain(p, "bin", path+".bins", rangesOf(c.bins))
		}
		c.minPoints, c.maxPoints = c.missing.points, c.missing.points
		for _, b := range c.bins {
			c.minPoints = min(c.minPoints, b.points)
			c.maxPoints = max(c.maxPoints, b.points)
		}
	}
	checkClasses(p, m.classes)
}

// checkCategories requires exactly one bin for true and one for false.
func checkCategories(p *problems, c *characteristic, path string) {
	seen := map[bool]int{}
	for _, b := range c.bins {
		if first, dup := seen[b.is]; dup {
			p.add(b.line, path+".bins", "overlap: a second bin for %v (the first is at line %d)", b.is, first)
			continue
		}
		seen[b.is] = b.line
	}
	for _, v := range []bool{false, true} {
		if _, ok := seen[v]; !ok {
			p.add(c.line, path+".bins", "%s: gap: no bin for \"is: %v\"", c.feature, v)
		}
	}
}

// span is a half-open range [lo, hi) declared at a line.
type span struct {
	lo, hi float64
	line   int
}

func rangesOf(bins []bin) []span {
	out := make([]span, len(bins))
	for i, b := range bins {
		out[i] = span{lo: b.lo, hi: b.hi, line: b.line}
	}
	return out
}

// checkChain requires spans listed in ascending order that tile (-inf, +inf): the first without a
// lower bound, each starting exactly where the previous ends, the last without an upper bound.
func checkChain(p *problems, what, path string, spans []span) {
	if len(spans) == 0 {
		return
	}
	if first := spans[0]; !math.IsInf(first.lo, -1) {
		p.add(first.line, path, "gap: values below %s fall in no %s: the lowest %s must have no \"from\"",
			formatBound(first.lo), what, what)
	}
	for i := 1; i < len(spans); i++ {
		prev, cur := spans[i-1], spans[i]
		switch {
		case math.IsInf(prev.hi, 1) || cur.lo < prev.hi:
			p.add(cur.line, path, "overlap: this %s starts at %s but the %s at line %d already covers values up to %s (each %s must start where the previous one stops)",
				what, formatBound(cur.lo), what, prev.line, formatBelow(prev.hi), what)
		case cur.lo > prev.hi:
			p.add(cur.line, path, "gap: values from %s to below %s fall in no %s (between the %s at line %d and the one at line %d)",
				formatBound(prev.hi), formatBound(cur.lo), what, what, min(prev.line, cur.line), max(prev.line, cur.line))
		}
	}
	if last := spans[len(spans)-1]; !math.IsInf(last.hi, 1) {
		p.add(last.line, path, "gap: values from %s up fall in no %s: the highest %s must have no \"below\"",
			formatBound(last.hi), what, what)
	}
}

func formatBelow(x float64) string {
	if math.IsInf(x, 1) {
		return "+inf"
	}
	return "below " + formatBound(x)
}

// checkClasses requires the classes A to E, in that order, as score bands from the highest down
// that together cover every score.
func checkClasses(p *problems, classes []class) {
	names := make([]string, len(classes))
	for i, c := range classes {
		names[i] = c.name
	}
	if !slices.Equal(names, classNames) {
		line := 1
		if len(classes) > 0 {
			line = classes[0].line
		}
		p.add(line, "classes", "must be %s, listed in this order (best first), got %s",
			strings.Join(classNames, ", "), strings.Join(names, ", "))
		return
	}
	spans := make([]span, len(classes))
	for i, c := range classes {
		spans[len(classes)-1-i] = span{lo: c.lo, hi: c.hi, line: c.line}
	}
	checkChain(p, "class", "classes", spans)
}
