package decision

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// MustCompileError compiles a version that must be refused and returns its diagnostics.
func MustCompileError(t testing.TB, modules map[string]string, data string, opts Options) []Diagnostic {
	t.Helper()
	_, err := Compile(context.Background(), modules, []byte(data), opts)
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T), want a *CompileError", err, err)
	}
	if len(ce.Diagnostics) == 0 {
		t.Fatal("CompileError without diagnostics")
	}
	return ce.Diagnostics
}

func TestCompileRefusals(t *testing.T) {
	modules, data := MustReadPolicies(t)
	policy := modules["credit.rego"]
	anyData := Options{DataSchema: []byte(`{}`)}
	tests := []struct {
		name    string
		modules map[string]string
		data    string
		opts    Options
		want    []Diagnostic // File, Line, Column (0: any), Code, and a part of Message
	}{
		{"syntax error", map[string]string{"p.rego": "package credo.credit\n\ndecision := {\n\t\"outcome\": \"approve\",\n\t\"credit_limit\" 5,\n}\n"}, "{}", anyData,
			[]Diagnostic{{File: "p.rego", Line: 5, Column: 17, Code: "rego_parse_error", Message: "unexpected number token"}}},
		{"syntax errors in two files are all reported", map[string]string{
			"a.rego": "package credo.credit\n\ndecision := \n",
			"b.rego": "package credo.other\n\nx := [1, 2\n",
		}, "{}", anyData, []Diagnostic{
			{File: "a.rego", Line: 4, Code: "rego_parse_error", Message: "eof"},
			{File: "b.rego", Line: 4, Code: "rego_parse_error", Message: "eof"},
		}},
		{"unknown input field (schema type check)", map[string]string{"p.rego": "package credo.credit\n\ndecision := 1 if {\n\tinput.quote.amont > 5\n}\n"}, "{}", anyData,
			[]Diagnostic{{File: "p.rego", Line: 4, Code: "rego_type_error", Message: "input.quote.amont"}}},
		{"input field of the wrong type", map[string]string{"p.rego": "package credo.credit\n\ndecision := 1 if {\n\tinput.quote.amount_cents == \"big\"\n\tupper(input.quote.requested_terms_days) == \"X\"\n}\n"}, "{}", anyData,
			[]Diagnostic{{File: "p.rego", Line: 5, Code: "rego_type_error", Message: "upper"}}},
		{"unsafe variable", map[string]string{"p.rego": "package credo.credit\n\ndecision := x if {\n\ty > 1\n\tx := 2\n}\n"}, "{}", anyData,
			[]Diagnostic{{File: "p.rego", Line: 4, Code: "rego_unsafe_var_error", Message: "y"}}},
		{"no decision rule", map[string]string{"p.rego": "package credo.credit\n\noutcome := \"approve\"\n"}, "{}", anyData,
			[]Diagnostic{{Code: CodeMissingDecision, Message: DecisionQuery}}},
		{"decision in another package", map[string]string{"p.rego": "package credo.risk\n\ndecision := 1\n"}, "{}", anyData,
			[]Diagnostic{{Code: CodeMissingDecision}}},
		{"no module", map[string]string{}, "{}", anyData, []Diagnostic{{Code: CodeMissingDecision}}},
		{"file not named .rego", map[string]string{"policy.txt": "package credo.credit\n"}, "{}", anyData,
			[]Diagnostic{{File: "policy.txt", Code: CodeBadFile}}},
		{"data.json is not JSON", map[string]string{"credit.rego": policy}, "{\n  \"tables\": {\n    \"limit_by_class_cents\": [1,\n  }\n}", Options{},
			[]Diagnostic{{File: DataFile, Line: 4, Code: CodeDataShape, Message: "invalid character"}}},
		{"data.json is not an object", map[string]string{"credit.rego": policy}, "[1, 2]", Options{},
			[]Diagnostic{{File: DataFile, Line: 1, Code: CodeDataShape, Message: "object"}}},
		{"data table missing a class", map[string]string{"credit.rego": policy},
			strings.Replace(string(data), `"E": 0`, `"F": 0`, 1), Options{},
			[]Diagnostic{{File: DataFile, Line: 3, Code: CodeDataShape, Message: "E is required"}}},
		{"negative limit in data", map[string]string{"credit.rego": policy},
			strings.Replace(string(data), `"C": 7500000`, `"C": -7500000`, 1), Options{},
			[]Diagnostic{{File: DataFile, Line: 6, Column: 7, Code: CodeDataShape, Message: "tables.limit_by_class_cents.C"}}},
		{"limit in data with fractional cents", map[string]string{"credit.rego": policy},
			strings.Replace(string(data), `"C": 7500000`, `"C": 75000.5`, 1), Options{},
			[]Diagnostic{{File: DataFile, Line: 6, Column: 7, Code: CodeDataShape, Message: "tables.limit_by_class_cents.C"}}},
		{"terms given as text in data", map[string]string{"credit.rego": policy},
			strings.Replace(string(data), `"net_days": 60`, `"net_days": "60"`, 1), Options{},
			[]Diagnostic{{File: DataFile, Line: 27, Code: CodeDataShape, Message: "legal_max_terms.net_days"}}},
		{"package over the data tables", map[string]string{"p.rego": "package credo.credit\n\ndecision := 1\n", "t.rego": "package tables\n\nx := 1\n"},
			`{"tables": {"x": 1}}`, anyData, []Diagnostic{{Code: "rego_compile_error", Message: "conflict"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MustCompileError(t, tt.modules, tt.data, tt.opts)
			for _, w := range tt.want {
				if !hasDiagnostic(got, w) {
					t.Errorf("missing %s\n in %v", w, got)
				}
			}
		})
	}
}

func hasDiagnostic(ds []Diagnostic, w Diagnostic) bool {
	for _, d := range ds {
		if (w.File == "" || d.File == w.File) && (w.Line == 0 || d.Line == w.Line) &&
			(w.Column == 0 || d.Column == w.Column) && d.Code == w.Code && strings.Contains(d.Message, w.Message) {
			return true
		}
	}
	return false
}

func TestContentHash(t *testing.T) {
	modules, data := MustReadPolicies(t)
	base, err := ContentHash(modules, data)
	if err != nil {
		t.Fatal(err)
	}
	edited := func(name, src string) map[string]string {
		m := make(map[string]string, len(modules)+1)
		for k, v := range modules {
			m[k] = v
		}
		m[name] = src
		return m
	}
	tests := []struct {
		name    string
		modules map[string]string
		data    string
		same    bool
	}{
		{"identical", modules, string(data), true},
		{"data reformatted", modules, compactJSON(t, data), true},
		{"data value changed", modules, strings.Replace(string(data), `"D": 30,`, `"D": 31,`, 1), false},
		{"module edited", edited("credit.rego", modules["credit.rego"]+"\n"), string(data), false},
		{"module renamed", renamed(modules, "credit.rego", "credit2.rego"), string(data), false},
		{"module added", edited("extra.rego", "package x\n"), string(data), false},
		// Moving text between a file name and its source must not collide.
		{"boundary shift", map[string]string{"a.rego": "bc"}, "{}", false},
	}
	other, _ := ContentHash(map[string]string{"a.regob": "c"}, []byte("{}"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ContentHash(tt.modules, []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "boundary shift" {
				if h == other {
					t.Error("a.rego+bc and a.regob+c hash alike")
				}
				return
			}
			if (h == base) != tt.same {
				t.Errorf("hash %s vs %s, same=%v wanted", h, base, tt.same)
			}
		})
	}
	if _, err := ContentHash(modules, []byte("{")); err == nil {
		t.Error("ContentHash of broken JSON succeeded")
	}
}

func renamed(m map[string]string, from, to string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k == from {
			k = to
		}
		out[k] = v
	}
	return out
}

func compactJSON(t *testing.T, data []byte) string {
	t.Helper()
	c, err := canonicalJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	if string(c) == string(data) {
		t.Fatal("data.json is already compact: the reformatting case tests nothing")
	}
	return string(c)
}
