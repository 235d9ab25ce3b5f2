package scoring

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// riskDirection says which way risk moves with a feature's value, independently of any model
// file, so that a model with points the wrong way round fails here.
type riskDirection int

const (
	worseWhenHigher  riskDirection = iota // later payment, more overdue, more disputes, worse grade
	betterWhenHigher                      // more history, older company
	worseWhenTrue                         // open insolvency, negative equity
)

var directions = map[string]riskDirection{
	FeatureWeightedDBT12m:     worseWhenHigher,
	FeatureLateShare12m:       worseWhenHigher,
	FeatureMaxDaysOverdue:     worseWhenHigher,
	FeatureOverdueRate:        worseWhenHigher,
	FeatureDBTTrend:           worseWhenHigher,
	FeatureDisputeRate12m:     worseWhenHigher,
	FeatureBureauGrade:        worseWhenHigher,
	FeatureRelationshipMonths: betterWhenHigher,
	FeaturePaidCount12m:       betterWhenHigher,
	FeatureCompanyAgeMonths:   betterWhenHigher,
	FeatureOpenInsolvency:     worseWhenTrue,
	FeatureNegativeEquity:     worseWhenTrue,
}

// monotonicityViolations lists every pair of neighbouring bins whose points move against risk.
func monotonicityViolations(m *Model) []string {
	var out []string
	for _, c := range m.chars {
		dir, ok := directions[c.feature]
		if !ok {
			out = append(out, fmt.Sprintf("%s: no risk direction known for this feature", c.feature))
			continue
		}
		if dir == worseWhenTrue {
			var pTrue, pFalse int
			for _, b := range c.bins {
				if b.is {
					pTrue = b.points
				} else {
					pFalse = b.points
				}
			}
			if pTrue >= pFalse {
				out = append(out, fmt.Sprintf("%s: true gets %d points, false %d", c.feature, pTrue, pFalse))
			}
			continue
		}
		for i := 1; i < len(c.bins); i++ {
			lo, hi := c.bins[i-1], c.bins[i]
			if (dir == worseWhenHigher && hi.points > lo.points) || (dir == betterWhenHigher && hi.points < lo.points) {
				out = append(out, fmt.Sprintf("%s: %q gets %d points after %q with %d", c.feature, hi.label, hi.points, lo.label, lo.points))
			}
		}
	}
	return out
}

func TestModelsMonotone(t *testing.T) {
	for _, m := range MustModels(t) {
		if v := monotonicityViolations(m); len(v) > 0 {
			t.Errorf("%s: points move against risk:\n%v", m.File(), v)
		}
	}
}

// The check itself catches each kind of mistake.
func TestMonotonicityCheckCatches(t *testing.T) {
	tests := []struct {
		name, old, new string
	}{
		{"later payment earns points", "{from: 10, points: 10}", "{from: 10, points: 45}"},
		{"more history loses points", "{from: 12, points: 20}", "{from: 12, points: -1}"},
		{"insolvency earns points", "{is: true, points: 0}", "{is: true, points: 100}"},
	}
	if v := monotonicityViolations(MustTestModel(t)); len(v) > 0 {
		t.Fatalf("the test model itself is flagged: %v", v)
	}
	for _, tt := range tests {
		m := MustParse(t, "flipped.yaml", MustEdit(t, tt.old, tt.new))
		if v := monotonicityViolations(m); len(v) != 1 {
			t.Errorf("%s: violations %v, want one", tt.name, v)
		}
	}
}

// The default model uses every known feature, exactly as the integrator fills them.
func TestDefaultModelFeatures(t *testing.T) {
	m, err := Select(MustModels(t), "2026.1")
	if err != nil {
		t.Fatal(err)
	}
	got := m.Features()
	var want []string
	for _, s := range FeatureSpecs() {
		want = append(want, s.Name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("features %v, want %v", got, want)
	}
	if s := m.Scaling(); s != (Scaling{BaseScore: 600, BaseOdds: 50, PDO: 20}) {
		t.Errorf("scaling %+v", s)
	}
}

// Anchors of the expert judgment stated in the model file.
func TestDefaultModelAnchors(t *testing.T) {
	m, err := Select(MustModels(t), "2026.1")
	if err != nil {
		t.Fatal(err)
	}
	good := Features{
		FeatureWeightedDBT12m: Number(-2), FeatureLateShare12m: Number(0.02), FeatureMaxDaysOverdue: Int(0),
		FeatureOverdueRate: Number(0), FeatureDBTTrend: Number(-6), FeatureDisputeRate12m: Number(0),
		FeatureRelationshipMonths: Int(72), FeaturePaidCount12m: Int(40), FeatureBureauGrade: Int(1),
		FeatureCompanyAgeMonths: Int(200), FeatureOpenInsolvency: Bool(false), FeatureNegativeEquity: Bool(false),
	}
	with := func(changes Features) Features {
		f := Features{}
		for k, v := range good {
			f[k] = v
		}
		for k, v := range changes {
			f[k] = v
		}
		return f
	}
	noSolvency := Features{FeatureBureauGrade: Missing(), FeatureCompanyAgeMonths: Missing(),
		FeatureOpenInsolvency: Missing(), FeatureNegativeEquity: Missing()}
	tests := []struct {
		name    string
		f       Features
		classes string // acceptable classes
	}{
		{"new prospect, nothing known: middle to cautious", Features{}, "CD"},
		{"best client", good, "A"},
		{"best client before the solvency feed", with(noSolvency), "A"},
		{"best payer with an open insolvency proceeding", with(Features{FeatureOpenInsolvency: Bool(true)}), "E"},
		{"prospect with a very bad bureau grade", Features{FeatureBureauGrade: Int(10)}, "E"},
		{"chronic late payer", with(Features{FeatureWeightedDBT12m: Number(45), FeatureLateShare12m: Number(0.7),
			FeatureMaxDaysOverdue: Int(100), FeatureOverdueRate: Number(0.8), FeatureDBTTrend: Number(12)}), "DE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Score(m, tt.f)
			if !containsClass(tt.classes, r.RiskClass) {
				t.Errorf("score %d class %s, want one of %s; reasons %+v", r.Score, r.RiskClass, tt.classes, Reasons(r, "en"))
			}
		})
	}
	if r := Score(m, good); r.Score != m.MaxScore() {
		t.Errorf("best client %d, model maximum %d", r.Score, m.MaxScore())
	}
	// A thin file costs points even when the few payments were perfect.
	thin := Score(m, with(Features{FeaturePaidCount12m: Int(2), FeatureRelationshipMonths: Int(3)}))
	if full := Score(m, good); thin.Score >= full.Score {
		t.Errorf("thin file %d, full history %d", thin.Score, full.Score)
	}
	if got := Reasons(thin, "en"); len(got) != 2 || got[0].Code != "SHORT_RELATIONSHIP" || got[1].Code != "THIN_FILE" {
		t.Errorf("thin file reasons %+v", got)
	}
}

func containsClass(classes, c string) bool {
	return len(c) == 1 && slices.Contains([]byte(classes), c[0])
}

// Every bin of every model, alone in an otherwise empty client, explains a score whose lines add
// up exactly and name the bin it fell in.
func TestModelsExplanationsAddUp(t *testing.T) {
	for _, m := range MustModels(t) {
		for _, c := range m.chars {
			for _, b := range c.bins {
				f := Features{c.feature: Bool(b.is)}
				if c.kind == KindNumber {
					f[c.feature] = Number(b.lo)
					if math.IsInf(b.lo, -1) {
						f[c.feature] = Number(b.hi - 1)
					}
				}
				r := Score(m, f)
				sum := 0
				for _, l := range r.Lines {
					sum += l.Points
				}
				l := lineOf(t, r, c.feature)
				if sum != r.Score || l.Bin != b.label || l.Points != b.points {
					t.Errorf("%s %s=%s: sum %d score %d, bin %q %d want %q %d", m.File(), c.feature, f[c.feature],
						sum, r.Score, l.Bin, l.Points, b.label, b.points)
				}
				if r.Score < m.MinScore() || r.Score > m.MaxScore() {
					t.Errorf("%s: score %d outside %d..%d", m.File(), r.Score, m.MinScore(), m.MaxScore())
				}
			}
		}
	}
}
