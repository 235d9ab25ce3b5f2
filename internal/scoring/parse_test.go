package scoring

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/credorisk/credo/internal/fault"
)

// wantRefused checks that err is the refusal of file with exactly one problem, at line, whose
// text holds want.
func wantRefused(t *testing.T, err error, file string, line int, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s accepted, want refused at line %d", file, line)
	}
	if got := fault.Code(err); got != fault.Invalid {
		t.Errorf("code %q, want %q", got, fault.Invalid)
	}
	var fe *fault.Error
	if !errors.As(err, &fe) || len(fe.Fields) != 1 {
		t.Fatalf("want exactly one problem, got: %v", err)
	}
	var le *LineError
	if !errors.As(err, &le) {
		t.Fatalf("no LineError in %v", err)
	}
	if le.File != file || le.Line != line || fe.Fields[0].Line != line {
		t.Errorf("problem at %s:%d, want %s:%d: %v", le.File, le.Line, file, line, err)
	}
	if prefix := fmt.Sprintf("%s:%d: ", file, line); !strings.Contains(err.Error(), prefix) {
		t.Errorf("message %q does not name %q", err, prefix)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("message %q does not say %q", err, want)
	}
}

func TestParseRefusesBrokenFiles(t *testing.T) {
	tests := []struct {
		file string
		line int
		want string
	}{
		{"broken_gap.yaml", 23, "gap: values from 10 to below 12 fall in no bin"},
		{"broken_overlap.yaml", 23, "overlap: this bin starts at 8 but the bin at line 22 already covers values up to below 10"},
		{"broken_no_missing.yaml", 25, "late_share_12m: no missing bin"},
		{"broken_class_gap.yaml", 83, "gap: values from 145 to below 150 fall in no class"},
		{"broken_class_order.yaml", 82, "must be A, B, C, D, E, listed in this order"},
		{"broken_type.yaml", 22, `points: must be a whole number, got text "ten"`},
		{"broken_unknown_key.yaml", 22, `unknown key "belwo"`},
		{"broken_unknown_feature.yaml", 25, `unknown feature "late_share_24m"`},
		{"broken_bool_gap.yaml", 53, `open_insolvency: gap: no bin for "is: true"`},
		{"broken_placeholder.yaml", 58, "the only placeholder is {value}"},
		{"broken_format.yaml", 13, `format "yesno" does not suit weighted_dbt_12m`},
		{"broken_syntax.yaml", 23, "YAML syntax: did not find expected ',' or '}'"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := Parse(tt.file, MustReadTestdata(t, tt.file))
			if m != nil {
				t.Error("a refused file still returned a model")
			}
			wantRefused(t, err, tt.file, tt.line, tt.want)
		})
	}
}

// TestParseRefusesEdits covers the remaining rules with one-line edits of valid.yaml.
func TestParseRefusesEdits(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		line     int
		want     string
	}{
		{"version not numeric", `version: "1.0"`, `version: "1.x"`, 3, "must be numbers separated by dots"},
		{"version empty part", `version: "1.0"`, `version: "1..0"`, 3, "must be numbers separated by dots"},
		{"base odds zero", "base_odds: 50", "base_odds: 0", 7, "scaling.base_odds: must be above 0"},
		{"pdo negative", "pdo: 20", "pdo: -20", 8, "scaling.pdo: must be above 0"},
		{"pdo as text", "pdo: 20", "pdo: twenty", 8, `must be a number, got text "twenty"`},
		{"infinite bound", "{below: 0, points: 50}", "{below: .inf, points: 50}", 21, "must be a finite number"},
		{"fractional points", "{below: 0, points: 50}", "{below: 0, points: 50.5}", 21, "must be a whole number, got the number 50.5"},
		{"huge points", "{below: 0, points: 50}", "{below: 0, points: 10001}", 21, "must be between -10000 and 10000"},
		{"empty range", "{from: 0, below: 10, points: 40", "{from: 10, below: 0, points: 40", 22, "empty range"},
		{"first bin bounded", "{below: 0, points: 50}", "{from: -5, below: 0, points: 50}", 21, "values below -5 fall in no bin"},
		{"last bin bounded", "{from: 10, points: 10}", "{from: 10, below: 100, points: 10}", 23, "values from 100 up fall in no bin"},
		{"second missing bin", "{from: 0.1, points: 0}", "{missing: true, points: 0}", 38, "a second missing bin (the first is at line 37)"},
		{"missing false", "{missing: true, points: 30}\n  - feature: late", "{missing: false, points: 30}\n  - feature: late", 24, `write "missing: true"`},
		{"missing not boolean", "{missing: true, points: 30}\n  - feature: late", "{missing: yes, points: 30}\n  - feature: late", 24, `missing: must be true or false, got text "yes"`},
		{"missing with range", "{missing: true, points: 30}\n  - feature: late", "{missing: true, below: 3, points: 30}\n  - feature: late", 24, "the missing bin takes no from, below or is"},
		{"range and category", "{below: 0, points: 50}", "{below: 0, is: true, points: 50}", 21, "either a range (from, below) or a category (is)"},
		{"numeric bin without range", "{below: 0, points: 50}", "{points: 50}", 21, "needs a range"},
		{"boolean bin without is", "{is: false, points: 100}", "{below: 1, points: 100}", 64, `needs "is: true" or "is: false"`},
		{"boolean twice", "{is: true, points: 0}", "{is: true, points: 0}\n      - {is: false, points: 3}", 66, "overlap: a second bin for false (the first is at line 64)"},
		{"is not boolean", "{is: true, points: 0}", "{is: yes please, points: 0}", 65, `must be true or false, got text "yes please"`},
		{"duplicate feature", "feature: dispute_rate_12m", "feature: late_share_12m", 67, `feature "late_share_12m" is already scored at line 25`},
		{"duplicate reason code", "code: DISPUTES", "code: LATE", 69, `reason code "LATE" is already used at line 27`},
		{"bad reason code", "code: DISPUTES", "code: disputes", 69, "must be capitals, digits and _"},
		{"unknown format", "format: months", "format: weeks", 42, `unknown format "weeks"`},
		{"placeholder twice", `en: "client for {value}"`, `en: "client for {value} {value}"`, 44, "use {value} at most once"},
		{"value in missing text", `en: "new client"`, `en: "new client {value}"`, 47, "must be plain text"},
		{"french text absent", `        fr: "client depuis {value}"` + "\n", "", 44, `missing required key "fr"`},
		{"repeated key", "    reason:\n      code: DELAY", "    reason:\n      code: DELAY\n      code: DELAY2", 13, "key repeated (first at line 12)"},
		{"class name", "{class: E, below: 90}", "{class: F, below: 90}", 82, "got A, B, C, D, F"},
		{"class bound not integer", "{class: D, from: 90, below: 120}", "{class: D, from: 90.5, below: 120}", 85, "must be a whole number"},
		{"class overlap", "{class: B, from: 150, below: 180}", "{class: B, from: 150, below: 190}", 82, "overlap: this class starts at 180 but the class at line 83 already covers values up to below 190"},
		{"no scaling", "scaling:\n  base_score: 600\n  base_odds: 50\n  pdo: 20\n", "", 2, `missing required key "scaling"`},
		{"scaling is a list", "scaling:\n  base_score: 600\n  base_odds: 50\n  pdo: 20\n", "scaling: [600, 50, 20]\n", 5, "scaling: must be a mapping of keys to values, got a list"},
		{"classes empty", "classes:\n  - {class: A, from: 180}\n  - {class: B, from: 150, below: 180}\n  - {class: C, from: 120, below: 150}\n  - {class: D, from: 90, below: 120}\n  - {class: E, below: 90}", "classes: []", 81, "classes: must not be empty"},
		{"version a list", `version: "1.0"`, `version: [1, 0]`, 3, "version: must be a single value, got a list"},
		{"feature a number", "feature: dispute_rate_12m", "feature: 12", 67, "feature: must be text, got the number 12"},
		{"bins a mapping", "    bins:\n      - {below: 0.05, points: 10}\n      - {from: 0.05, points: 5}\n      - {missing: true, points: 10}",
			"    bins: {below: 1}", 77, "bins: must be a list, got a mapping"},
		{"name empty", "name: Test scorecard", `name: ""`, 2, "name: must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("edit.yaml", MustEdit(t, tt.old, tt.new))
			wantRefused(t, err, "edit.yaml", tt.line, tt.want)
		})
	}
}

func TestParseRefusesNonModels(t *testing.T) {
	tests := []struct {
		name, data string
		line       int
		want       string
	}{
		{"empty", "", 1, "the file is empty"},
		{"blank", "  \n\n", 1, "the file is empty"},
		{"comment only", "# nothing here\n", 1, "the file is empty"},
		{"a list", "# a list\n- name: x\n", 2, "must be a mapping of keys to values, got a list"},
		{"unclosed list at the end", "name: x\nversion: [\n", 2, "YAML syntax: did not find expected node content"},
		{"unclosed list, no newline", "version: [", 1, "YAML syntax: did not find expected node content"},
		{"bad indentation", "name: x\nscaling:\n  - x\n pdo: 2\n", 4, "YAML syntax: did not find expected key"},
		{"a list item in a mapping", "name: x\n- b\n", 2, "YAML syntax: did not find expected key"},
		{"a tab", "name: x\n\tversion: 1\n", 2, "YAML syntax: found a tab character that violates indentation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("x.yaml", []byte(tt.data))
			wantRefused(t, err, "x.yaml", tt.line, tt.want)
		})
	}
}

func TestParseValid(t *testing.T) {
	m := MustTestModel(t)
	info := m.Info()
	if info.Name != "Test scorecard" || info.Version != "1.0" || info.File != "valid.yaml" {
		t.Errorf("info %+v", info)
	}
	if m.Name() != info.Name || m.Description() != info.Description || m.File() != info.File || m.Digest() != info.Digest {
		t.Errorf("accessors disagree with Info")
	}
	if info.MinScore != 15 || info.MaxScore != 210 {
		t.Errorf("score range %d..%d, want 15..210", info.MinScore, info.MaxScore)
	}
	if want := (Scaling{BaseScore: 600, BaseOdds: 50, PDO: 20}); info.Scaling != want {
		t.Errorf("scaling %+v, want %+v", info.Scaling, want)
	}
	if got := strings.Join(info.Features, ","); got != "weighted_dbt_12m,late_share_12m,relationship_months,open_insolvency,dispute_rate_12m" {
		t.Errorf("features %s", got)
	}
	if len(info.Digest) != 64 {
		t.Errorf("digest %q", info.Digest)
	}
	classes := m.Classes()
	if len(classes) != 5 || classes[0].Class != "A" || *classes[0].From != 180 || classes[0].Below != nil ||
		classes[4].Class != "E" || classes[4].From != nil || *classes[4].Below != 90 {
		t.Errorf("classes %+v", classes)
	}
	// Labels left out of the file are generated from the range or category.
	c := m.chars[0]
	for i, want := range []string{"below 0", "0 to 9 days", "from 10"} {
		if c.bins[i].label != want {
			t.Errorf("bin %d label %q, want %q", i, c.bins[i].label, want)
		}
	}
	if c.missing.label != "missing" || m.chars[3].bins[0].label != "false" || m.chars[3].bins[1].label != "true" {
		t.Errorf("labels %q %q %q", c.missing.label, m.chars[3].bins[0].label, m.chars[3].bins[1].label)
	}
	if !math.IsInf(c.bins[0].lo, -1) || c.bins[0].hi != 0 || c.bins[2].lo != 10 || !math.IsInf(c.bins[2].hi, 1) {
		t.Errorf("ranges %+v", c.bins)
	}
}

// An unquoted version is read as written: YAML would make 2026.10 the float 2026.1.
func TestParseVersionAsWritten(t *testing.T) {
	m := MustParse(t, "v.yaml", MustEdit(t, `version: "1.0"`, "version: 2026.10"))
	if m.Version() != "2026.10" {
		t.Errorf("version %q, want 2026.10", m.Version())
	}
}

// Anchors and aliases are plain YAML and work: a shared reason text, for instance.
func TestParseAliases(t *testing.T) {
	data := MustEdit(t, `en: "no invoice"`, `en: &none "no invoice"`)
	data = []byte(strings.Replace(string(data), `fr: "aucune facture"`, `fr: *none`, 1))
	m := MustParse(t, "alias.yaml", data)
	if got := m.chars[4].reason.missing[langFR]; got != "no invoice" {
		t.Errorf("aliased text %q", got)
	}
}

// Every problem of a file is reported at once, not only the first.
func TestParseReportsEveryProblem(t *testing.T) {
	data := MustEdit(t, "{from: 10, points: 10}", "{from: 12, points: 10}")
	data = []byte(strings.Replace(string(data), "{from: 0.1, points: 0}", "{from: 0.2, points: 0}", 1))
	_, err := Parse("two.yaml", data)
	var fe *fault.Error
	if !errors.As(err, &fe) || len(fe.Fields) != 2 || fe.Fields[0].Line != 23 || fe.Fields[1].Line != 37 {
		t.Fatalf("want problems at lines 23 and 37, got %v", err)
	}
}
