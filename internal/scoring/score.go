package scoring

// maxReasons is how many reasons a score gives: the ones that cost the most points.
const maxReasons = 4

// Result is a score with everything needed to explain it and to serve it again from a cache: it
// round-trips through JSON, and equal inputs and model give equal JSON bytes.
type Result struct {
	ModelName    string  `json:"model_name"`
	ModelVersion string  `json:"model_version"`
	Score        int     `json:"score"` // the exact sum of the lines' points: no rounding anywhere
	RiskClass    string  `json:"risk_class"`
	PD           float64 `json:"pd"` // Scaling.PD(Score) rounded to 8 decimals
	Scaling      Scaling `json:"scaling"`
	Lines        []Line  `json:"characteristics"`
	// Reasons are the characteristics that lost the most points, already written in every
	// language; Reasons(result, lang) picks one.
	Reasons []Reason `json:"reasons"`
}

// Line is one characteristic of the explanation.
type Line struct {
	Feature    string `json:"feature"`
	Value      Value  `json:"value"` // null when missing
	Bin        string `json:"bin"`
	Points     int    `json:"points"`
	MaxPoints  int    `json:"max_points"`
	ReasonCode string `json:"reason_code"`
}

// Reason is one characteristic below its maximum, with its text in every language.
type Reason struct {
	Code       string `json:"code"`
	Feature    string `json:"feature"`
	PointsLost int    `json:"points_lost"`
	Text       Texts  `json:"text"`
}

// Texts holds one text per supported language.
type Texts struct {
	EN string `json:"en"`
	FR string `json:"fr"`
}

// Score scores features with model m. Each characteristic takes the bin holding its feature's
// value; an absent, missing or wrong-kind value takes the missing bin (Features.Validate reports
// wrong kinds beforehand). The score is the sum of the bins' points, an integer. It is a pure
// function of m's version and the features.
func Score(m *Model, f Features) Result {
	lines := make([]Line, len(m.chars))
	// idx holds the characteristics below their maximum, best reason first, at most maxReasons.
	var idx [maxReasons]int
	n := 0
	total := 0
	for i := range m.chars {
		c := &m.chars[i]
		v := f[c.feature]
		b := c.binOf(v)
		if b == &c.missing {
			v = Value{} // show null, not a wrong-kind value that was not used
		}
		lines[i] = Line{Feature: c.feature, Value: v, Bin: b.label, Points: b.points,
			MaxPoints: c.maxPoints, ReasonCode: c.reason.code}
		total += b.points
		lost := c.maxPoints - b.points
		if lost == 0 {
			continue
		}
		// Insertion into a short ranking: more points lost first; on a tie the earlier
		// characteristic of the model wins, because it is already in place (strict >).
		pos := n
		for pos > 0 && lost > lines[idx[pos-1]].MaxPoints-lines[idx[pos-1]].Points {
			pos--
		}
		if pos == maxReasons {
			continue
		}
		if n < maxReasons {
			n++
		}
		copy(idx[pos+1:n], idx[pos:n-1])
		idx[pos] = i
	}
	reasons := make([]Reason, n)
	for k, i := range idx[:n] {
		c := &m.chars[i]
		l := &lines[i]
		reasons[k] = Reason{Code: c.reason.code, Feature: c.feature, PointsLost: l.MaxPoints - l.Points,
			Text: c.reason.texts(l.Value)}
	}
	return Result{
		ModelName:    m.name,
		ModelVersion: m.version,
		Score:        total,
		RiskClass:    m.classOf(total),
		PD:           roundPD(m.scaling.PD(float64(total))),
		Scaling:      m.scaling,
		Lines:        lines,
		Reasons:      reasons,
	}
}

// Odds returns the good:bad odds of the result's score, at full precision.
func (r Result) Odds() float64 { return r.Scaling.Odds(float64(r.Score)) }
