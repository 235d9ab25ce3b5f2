package scoring

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"

	"gopkg.in/yaml.v3"
)

// maxPoints bounds the points of one bin: far beyond any sensible scorecard, far below overflow.
const maxPoints = 10000

var reasonCodePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,39}$`)

// Parse reads and validates one scorecard file. file names it in error messages. A refused model
// gives a fault.Invalid error whose text lists every problem as "file:line: path: message"; each
// is also a *LineError inside it (errors.As).
func Parse(file string, data []byte) (*Model, error) {
	p := &problems{file: file}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		p.syntax(err, data)
		return nil, p.err()
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.add(1, "", "the file is empty")
		return nil, p.err()
	}
	root := newMapping(p, doc.Content[0], "")
	if root == nil {
		return nil, p.err()
	}
	sum := sha256.Sum256(data)
	m := &Model{file: file, digest: hex.EncodeToString(sum[:])}
	m.name, _ = root.text("name", true)
	m.version, m.versionLine = root.raw("version")
	if m.version != "" {
		if _, err := parseVersion(m.version); err != nil {
			p.add(m.versionLine, "version", "%v", err)
		}
	}
	m.description, _ = root.text("description", true)
	if n := root.get("scaling", true); n != nil {
		m.scaling = parseScaling(p, n)
	}
	chars, _ := root.sequence("characteristics")
	for i, n := range chars {
		if c, ok := parseCharacteristic(p, n, fmt.Sprintf("characteristics[%d]", i)); ok {
			m.chars = append(m.chars, c)
		}
	}
	classes, _ := root.sequence("classes")
	for i, n := range classes {
		if c, ok := parseClass(p, n, fmt.Sprintf("classes[%d]", i)); ok {
			m.classes = append(m.classes, c)
		}
	}
	root.done()
	if len(p.errs) > 0 {
		// The cross-checks below would only repeat the damage already reported.
		return nil, p.err()
	}
	checkModel(p, m)
	if err := p.err(); err != nil {
		return nil, err
	}
	for _, c := range m.chars {
		m.minScore += c.minPoints
		m.maxScore += c.maxPoints
	}
	return m, nil
}

func parseScaling(p *problems, n *yaml.Node) Scaling {
	mm := newMapping(p, n, "scaling")
	if mm == nil {
		return Scaling{}
	}
	var s Scaling
	s.BaseScore, _, _ = mm.number("base_score", true)
	var line int
	var ok bool
	if s.BaseOdds, line, ok = mm.number("base_odds", true); ok && s.BaseOdds <= 0 {
		p.add(line, "scaling.base_odds", "must be above 0 (good:bad odds), got %v", s.BaseOdds)
	}
	if s.PDO, line, ok = mm.number("pdo", true); ok && s.PDO <= 0 {
		p.add(line, "scaling.pdo", "must be above 0 (points to double the odds), got %v", s.PDO)
	}
	mm.done()
	return s
}

func parseCharacteristic(p *problems, n *yaml.Node, path string) (characteristic, bool) {
	mm := newMapping(p, n, path)
	if mm == nil {
		return characteristic{}, false
	}
	c := characteristic{line: mm.node.Line}
	var fline int
	c.feature, fline = mm.text("feature", true)
	if c.feature != "" {
		if spec, ok := LookupFeature(c.feature); ok {
			c.kind = spec.Kind
		} else {
			p.add(fline, path+".feature", "unknown feature %q (known: %s)", c.feature, knownFeatureList())
		}
	}
	mm.text("description", false) // for the reader of the file only
	if rn := mm.get("reason", true); rn != nil {
		c.reason = parseReason(p, rn, path+".reason")
	}
	var missing []bin
	bins, binsOK := mm.sequence("bins")
	for i, bn := range bins {
		b, isMissing, ok := parseBin(p, bn, fmt.Sprintf("%s.bins[%d]", path, i), c.kind)
		switch {
		case isMissing:
			missing = append(missing, b) // even with bad points, so no "no missing bin" follows
		case ok:
			c.bins = append(c.bins, b)
		}
	}
	mm.done()
	switch {
	case !binsOK:
	case len(missing) == 0:
		p.add(c.line, path, "%s: no missing bin: add a bin with \"missing: true\" for clients without this value", c.feature)
	case len(missing) > 1:
		p.add(missing[1].line, path, "%s: a second missing bin (the first is at line %d)", c.feature, missing[0].line)
	default:
		c.missing = missing[0]
	}
	return c, true
}

// parseBin reads one bin: a range (from, below), a category (is) or the missing bin. The kind of
// the feature tells which is expected.
func parseBin(p *problems, n *yaml.Node, path string, kind Kind) (b bin, isMissing, ok bool) {
	mm := newMapping(p, n, path)
	if mm == nil {
		return bin{}, false, false
	}
	b = bin{line: mm.node.Line, lo: math.Inf(-1), hi: math.Inf(1)}
	b.label, _ = mm.text("label", false)
	points, _, pointsOK := mm.integer("points", true, maxPoints)
	b.points = points
	from, _, fromOK := mm.number("from", false)
	below, _, belowOK := mm.number("below", false)
	is, _, isOK := mm.boolean("is")
	miss, mline, missOK := mm.boolean("missing")
	hasFrom, hasBelow, hasIs := mm.has("from"), mm.has("below"), mm.has("is")
	mm.done()
	// Presence decides what the bin is meant to be, so that one bad value gives one problem and
	// not a cascade ("no missing bin", "needs a range"); validity decides whether it is usable.
	ok = pointsOK && (fromOK || !hasFrom) && (belowOK || !hasBelow) && (isOK || !hasIs)
	isRange := hasFrom || hasBelow
	switch {
	case mm.has("missing") && !missOK:
		return b, true, false
	case mm.has("missing") && !miss:
		p.add(mline, path+".missing", "write \"missing: true\" on the missing bin and leave the key out elsewhere")
		return b, true, false
	case mm.has("missing") && (isRange || hasIs):
		p.add(b.line, path, "the missing bin takes no from, below or is")
		return b, true, false
	case mm.has("missing"):
		if b.label == "" {
			b.label = "missing"
		}
		return b, true, ok
	case isRange && hasIs:
		p.add(b.line, path, "a bin is either a range (from, below) or a category (is), not both")
		return b, false, false
	case kind == KindBool && !hasIs:
		p.add(b.line, path, "a bin of a boolean feature needs \"is: true\" or \"is: false\"")
		return b, false, false
	case kind == KindNumber && !isRange:
		p.add(b.line, path, "a bin of a numeric feature needs a range: from (inclusive), below (exclusive), or both")
		return b, false, false
	case !ok:
		return b, false, false
	}
	if hasFrom {
		b.lo = from
	}
	if hasBelow {
		b.hi = below
	}
	b.is = is
	if isRange && b.lo >= b.hi {
		p.add(b.line, path, "empty range: from %v is not below %v", from, below)
		return b, false, false
	}
	if b.label == "" {
		b.label = defaultLabel(b, kind)
	}
	return b, false, true
}

func defaultLabel(b bin, kind Kind) string {
	if kind == KindBool {
		return fmt.Sprint(b.is)
	}
	switch {
	case math.IsInf(b.lo, -1):
		return "below " + formatBound(b.hi)
	case math.IsInf(b.hi, 1):
		return "from " + formatBound(b.lo)
	}
	return "from " + formatBound(b.lo) + " below " + formatBound(b.hi)
}

func parseReason(p *problems, n *yaml.Node, path string) reasonTemplate {
	mm := newMapping(p, n, path)
	if mm == nil {
		return reasonTemplate{}
	}
	var r reasonTemplate
	if r.code, r.codeLine = mm.text("code", true); r.code != "" && !reasonCodePattern.MatchString(r.code) {
		p.add(r.codeLine, path+".code", "must be capitals, digits and _ (up to 40), starting with a letter, got %q", r.code)
	}
	var f string
	if f, r.formatLine = mm.text("format", true); f != "" {
		r.format = Format(f)
		if !r.format.valid() {
			p.add(r.formatLine, path+".format", "unknown format %q (known: %s)", f, formatList())
		}
	}
	if tn := mm.get("text", true); tn != nil {
		texts := parseTexts(p, tn, path+".text")
		for i, s := range texts {
			if s.text != "" {
				t, err := compileTemplate(s.text)
				if err != nil {
					p.add(s.line, path+".text."+langCodes[i], "%v", err)
				}
				r.text[i] = t
			}
		}
	}
	if tn := mm.get("missing_text", true); tn != nil {
		texts := parseTexts(p, tn, path+".missing_text")
		for i, s := range texts {
			if t, err := compileTemplate(s.text); err != nil || t.hasValue {
				p.add(s.line, path+".missing_text."+langCodes[i], "must be plain text: there is no value to show")
			}
			r.missing[i] = s.text
		}
	}
	mm.done()
	return r
}

type lineText struct {
	text string
	line int
}

// parseTexts reads one text per supported language.
func parseTexts(p *problems, n *yaml.Node, path string) [numLangs]lineText {
	var out [numLangs]lineText
	mm := newMapping(p, n, path)
	if mm == nil {
		return out
	}
	for i, code := range langCodes {
		out[i].text, out[i].line = mm.text(code, true)
	}
	mm.done()
	return out
}

func parseClass(p *problems, n *yaml.Node, path string) (class, bool) {
	mm := newMapping(p, n, path)
	if mm == nil {
		return class{}, false
	}
	c := class{line: mm.node.Line, lo: math.Inf(-1), hi: math.Inf(1)}
	c.name, _ = mm.text("class", true)
	from, _, hasFrom := mm.integer("from", false, 100000)
	below, _, hasBelow := mm.integer("below", false, 100000)
	mm.done()
	if hasFrom {
		c.lo = float64(from)
	}
	if hasBelow {
		c.hi = float64(below)
	}
	if c.lo >= c.hi {
		p.add(c.line, path, "empty score band: from %d is not below %d", from, below)
		return c, false
	}
	return c, c.name != ""
}
