package scoring

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

func TestScoreBinEdges(t *testing.T) {
	m := MustTestModel(t)
	tests := []struct {
		name     string
		feature  string
		value    Value
		absent   bool
		wantBin  string
		wantPts  int
		wantNull bool
	}{
		{"far below", FeatureWeightedDBT12m, Number(-1e9), false, "below 0", 50, false},
		{"just below 0", FeatureWeightedDBT12m, Number(-0.001), false, "below 0", 50, false},
		{"0 opens the next bin", FeatureWeightedDBT12m, Number(0), false, "0 to 9 days", 40, false},
		{"just below 10", FeatureWeightedDBT12m, Number(9.999), false, "0 to 9 days", 40, false},
		{"10 opens the last bin", FeatureWeightedDBT12m, Int(10), false, "from 10", 10, false},
		{"far above", FeatureWeightedDBT12m, Number(1e9), false, "from 10", 10, false},
		{"absent", FeatureWeightedDBT12m, Value{}, true, "missing", 30, true},
		{"null", FeatureWeightedDBT12m, Missing(), false, "missing", 30, true},
		{"NaN is missing", FeatureWeightedDBT12m, Number(math.NaN()), false, "missing", 30, true},
		{"boolean for a number is missing", FeatureWeightedDBT12m, Bool(true), false, "missing", 30, true},
		{"share below 0.1", FeatureLateShare12m, Number(0.0999), false, "below 0.1", 30, false},
		{"share at 0.1", FeatureLateShare12m, Number(0.1), false, "from 0.1", 0, false},
		{"share missing", FeatureLateShare12m, Value{}, true, "missing", 30, true},
		{"months at 11", FeatureRelationshipMonths, Int(11), false, "below 12", 0, false},
		{"months at 12", FeatureRelationshipMonths, Int(12), false, "from 12", 20, false},
		{"false", FeatureOpenInsolvency, Bool(false), false, "false", 100, false},
		{"true", FeatureOpenInsolvency, Bool(true), false, "true", 0, false},
		{"boolean missing", FeatureOpenInsolvency, Value{}, true, "missing", 80, true},
		{"number for a boolean is missing", FeatureOpenInsolvency, Int(0), false, "missing", 80, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Features{}
			if !tt.absent {
				f[tt.feature] = tt.value
			}
			l := lineOf(t, Score(m, f), tt.feature)
			if l.Bin != tt.wantBin || l.Points != tt.wantPts {
				t.Errorf("bin %q with %d points, want %q with %d", l.Bin, l.Points, tt.wantBin, tt.wantPts)
			}
			if l.Value.IsMissing() != tt.wantNull {
				t.Errorf("value %s, missing want %v", l.Value, tt.wantNull)
			}
			if !tt.wantNull && l.Value != tt.value {
				t.Errorf("value %s, want %s", l.Value, tt.value)
			}
		})
	}
}

// Clients scored by hand with testdata/valid.yaml.
func TestScoreByHand(t *testing.T) {
	m := MustTestModel(t)
	tests := []struct {
		name      string
		f         Features
		wantScore int
		wantClass string
	}{
		{"best", Features{FeatureWeightedDBT12m: Number(-3), FeatureLateShare12m: Number(0),
			FeatureRelationshipMonths: Int(24), FeatureOpenInsolvency: Bool(false), FeatureDisputeRate12m: Number(0)},
			50 + 30 + 20 + 100 + 10, "A"},
		{"nothing known", Features{}, 30 + 30 + 0 + 80 + 10, "B"},
		{"worst", Features{FeatureWeightedDBT12m: Number(40), FeatureLateShare12m: Number(0.5),
			FeatureRelationshipMonths: Int(1), FeatureOpenInsolvency: Bool(true), FeatureDisputeRate12m: Number(0.3)},
			10 + 0 + 0 + 0 + 5, "E"},
		{"mixed", Features{FeatureWeightedDBT12m: Number(5), FeatureLateShare12m: Number(0.2),
			FeatureRelationshipMonths: Int(3), FeatureDisputeRate12m: Number(0.1)},
			40 + 0 + 0 + 80 + 5, "C"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Score(m, tt.f)
			if r.Score != tt.wantScore || r.RiskClass != tt.wantClass {
				t.Errorf("score %d class %s, want %d %s", r.Score, r.RiskClass, tt.wantScore, tt.wantClass)
			}
			sum := 0
			for _, l := range r.Lines {
				sum += l.Points
			}
			if sum != r.Score {
				t.Errorf("lines add up to %d, score is %d", sum, r.Score)
			}
			if want := roundPD(1 / (1 + 50*math.Exp2(float64(tt.wantScore-600)/20))); r.PD != want {
				t.Errorf("pd %v, want %v", r.PD, want)
			}
			if want := 50 * math.Exp2(float64(tt.wantScore-600)/20); math.Abs(r.Odds()-want) > 1e-9*want {
				t.Errorf("odds %v, want %v", r.Odds(), want)
			}
			if r.ModelVersion != "1.0" || r.ModelName != "Test scorecard" || r.Scaling != m.Scaling() {
				t.Errorf("model fields %q %q %+v", r.ModelVersion, r.ModelName, r.Scaling)
			}
			if len(r.Lines) != 5 || r.Lines[0].MaxPoints != 50 || r.Lines[3].MaxPoints != 100 || r.Lines[3].ReasonCode != "INSOLVENCY" {
				t.Errorf("lines %+v", r.Lines)
			}
		})
	}
}

func TestClassBoundaries(t *testing.T) {
	m := MustTestModel(t)
	tests := []struct {
		score int
		want  string
	}{
		{-100000, "E"}, {89, "E"}, {90, "D"}, {119, "D"}, {120, "C"}, {149, "C"},
		{150, "B"}, {179, "B"}, {180, "A"}, {100000, "A"},
	}
	for _, tt := range tests {
		if got := m.classOf(tt.score); got != tt.want {
			t.Errorf("class of %d = %s, want %s", tt.score, got, tt.want)
		}
	}
}

// Same features and model: same bytes, whatever the order the map was filled in; and a result
// read back from its JSON (the cache) is the same result.
func TestScoreDeterministic(t *testing.T) {
	m := MustDefaultModel(t)
	a := Features{}
	b := Features{}
	keys := []string{FeatureWeightedDBT12m, FeatureLateShare12m, FeatureMaxDaysOverdue, FeatureOverdueRate,
		FeatureDBTTrend, FeatureDisputeRate12m, FeatureRelationshipMonths, FeaturePaidCount12m}
	vals := []Value{Number(12.7), Number(0.25), Int(40), Number(0.3), Number(4), Number(0.01), Int(30), Int(3)}
	for i := range keys {
		a[keys[i]] = vals[i]
		b[keys[len(keys)-1-i]] = vals[len(keys)-1-i]
	}
	ja, _ := json.Marshal(Score(m, a))
	jb, _ := json.Marshal(Score(m, b))
	if !bytes.Equal(ja, jb) {
		t.Fatalf("different bytes:\n%s\n%s", ja, jb)
	}
	var back Result
	if err := json.Unmarshal(ja, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, Score(m, a)) {
		t.Errorf("round trip changed the result: %+v", back)
	}
	again, _ := json.Marshal(back)
	if !bytes.Equal(ja, again) {
		t.Errorf("round trip changed the bytes:\n%s\n%s", ja, again)
	}
}
