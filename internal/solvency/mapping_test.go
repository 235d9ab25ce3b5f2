package solvency

import (
	"strings"
	"testing"
)

func TestExampleMappingGrades(t *testing.T) {
	m := MustLoadExampleMapping(t)
	tests := []struct {
		common, score string
		want          *int
		raw, warning  string
	}{
		{"A", "100", ptr(1), "100", ""},
		{"A", "91", ptr(1), "91", ""},
		{"A", "90", ptr(2), "90", ""},
		{"B", "55", ptr(5), "55", ""},
		{"D", "1", ptr(10), "1", ""},
		{"c", "", ptr(6), "C", ""},
		{"E", "Not Rated", nil, "E", ""},
		{"A", "150", ptr(2), "A", "outside"},
		{"", "0", nil, "0", "outside"},
		{"Z", "", nil, "Z", "no grade"},
		{"", "", nil, "", ""},
		{"B", "64,5", ptr(4), "64,5", ""},
	}
	for _, tt := range tests {
		r := m.GradeFor(tt.common, tt.score)
		if mustJSON(t, r.Grade) != mustJSON(t, tt.want) || r.RawScore != tt.raw || (tt.warning == "") != (r.Warning == "") || !strings.Contains(r.Warning, tt.warning) {
			t.Errorf("GradeFor(%q, %q) = %s %q %q, want %s %q ~%q", tt.common, tt.score, mustJSON(t, r.Grade), r.RawScore, r.Warning, mustJSON(t, tt.want), tt.raw, tt.warning)
		}
	}
}

func TestLinearScales(t *testing.T) {
	tests := []struct {
		direction string
		score     float64
		want      int
	}{
		{HigherIsBetter, 100, 1}, {HigherIsBetter, 0, 10}, {HigherIsBetter, 55, 5}, {HigherIsBetter, 89.9, 2},
		{LowerIsBetter, 0, 1}, {LowerIsBetter, 100, 10}, {LowerIsBetter, 55, 6}, {LowerIsBetter, 9.9, 1},
	}
	for _, tt := range tests {
		s := ScoreScale{Min: 0, Max: 100, Direction: tt.direction}
		if got, ok := s.grade(tt.score); !ok || got != tt.want {
			t.Errorf("%s %g: grade %d, %v; want %d", tt.direction, tt.score, got, ok, tt.want)
		}
	}
}

func TestLowerIsBetterBands(t *testing.T) {
	// A probability-of-default style scale: higher numbers are riskier.
	m, err := ParseMapping([]byte(`
provider: pdbureau
provider_value:
  min: 0
  max: 100
  direction: lower_is_better
  bands:
    - {from: 0, to: 1.5, grade: 1}
    - {from: 1.6, to: 10, grade: 5}
    - {from: 10.1, to: 100, grade: 10}
`))
	if err != nil {
		t.Fatal(err)
	}
	for score, want := range map[string]int{"0.4": 1, "7": 5, "42": 10} {
		if r := m.GradeFor("", score); r.Grade == nil || *r.Grade != want {
			t.Errorf("score %s: grade %v, want %d", score, r.Grade, want)
		}
	}
	if r := m.GradeFor("", "1.55"); r.Grade != nil || r.Warning == "" {
		t.Errorf("a score between decimal bands got %v without warning", r.Grade)
	}
}

func TestParseMappingRejects(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"empty", "", "empty"},
		{"unknown key", "provider: x\ncommon_values: {A: 1}\n", "common_values"},
		{"no scale", "provider: x\n", "common_value, provider_value"},
		{"grade out of range", "common_value: {A: 11}\n", "1 to 10"},
		{"bad direction", "provider_value: {min: 1, max: 100, direction: up}\n", "direction"},
		{"min above max", "provider_value: {min: 100, max: 1, direction: higher_is_better}\n", "min must be below max"},
		{"overlap", "provider_value: {min: 1, max: 100, direction: higher_is_better, bands: [{from: 1, to: 50, grade: 9}, {from: 50, to: 100, grade: 2}]}\n", "overlap"},
		{"gap", "provider_value: {min: 1, max: 100, direction: higher_is_better, bands: [{from: 1, to: 40, grade: 9}, {from: 50, to: 100, grade: 2}]}\n", "gap"},
		{"not covering", "provider_value: {min: 1, max: 100, direction: higher_is_better, bands: [{from: 1, to: 50, grade: 9}, {from: 51, to: 90, grade: 2}]}\n", "cover"},
		{"against direction", "provider_value: {min: 1, max: 100, direction: higher_is_better, bands: [{from: 1, to: 50, grade: 2}, {from: 51, to: 100, grade: 9}]}\n", "contradicts"},
		{"band grade", "provider_value: {min: 1, max: 100, direction: higher_is_better, bands: [{from: 1, to: 100, grade: 0}]}\n", "1 to 10"},
		{"placeholder", "report_path: /companies/{vat}\ncommon_value: {A: 1}\n", "{vat}"},
		{"relative path", "report_path: companies\ncommon_value: {A: 1}\n", "start with /"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseMapping([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}
