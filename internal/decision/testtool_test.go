package decision

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/credorisk/credo/policies"
)

// MustReadPolicies reads the embedded default policy version.
func MustReadPolicies(t testing.TB) (map[string]string, []byte) {
	t.Helper()
	modules, data, err := ReadSource(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	return modules, data
}

// TestDefaultPolicyRegoTests runs policies/credit_test.rego: a failing Rego test fails go test.
func TestDefaultPolicyRegoTests(t *testing.T) {
	modules, data := MustReadPolicies(t)
	results, err := RunTests(context.Background(), modules, data)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(modules["credit_test.rego"], "\ntest_"); len(results) != n || n < 30 {
		t.Fatalf("ran %d tests, credit_test.rego has %d", len(results), n)
	}
	for _, r := range results {
		if r.Result != TestPass {
			t.Errorf("%s (%s:%d): %s: %s", r.Name, r.File, r.Line, r.Result, r.Message)
		}
		if r.File != "credit_test.rego" || r.Line == 0 || r.Duration <= 0 {
			t.Errorf("%s: located at %s:%d, took %v", r.Name, r.File, r.Line, r.Duration)
		}
	}
}

// TestRunTestsResults: each kind of result, with what a credit manager needs to fix a failure.
func TestRunTestsResults(t *testing.T) {
	modules, data := MustReadPolicies(t)
	modules["extra_test.rego"] = `package credo.extra_test

import data.credo.credit

test_fails if {
	d := credit.decision with input as data.credo.credit_test.base
	d.outcome == "deny"
}

test_errors if {
	to_number("twelve") == 12
}

todo_test_later if {
	false
}

test_prints if {
	d := credit.decision with input as data.credo.credit_test.base
	print("limit", d.credit_limit_cents)
}
`
	results, err := RunTests(context.Background(), modules, data)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]TestResult{}
	for _, r := range results {
		byName[r.Name] = r
	}
	tests := []struct {
		name, result string
		line         int
		message      []string
		output       string
	}{
		{"data.credo.extra_test.test_fails", TestFail, 5, []string{"extra_test.rego:7", `d.outcome == "deny"`, `"approve"`}, ""},
		{"data.credo.extra_test.test_errors", TestError, 10, []string{"extra_test.rego:11", "to_number"}, ""},
		{"data.credo.extra_test.todo_test_later", TestSkip, 14, nil, ""},
		{"data.credo.extra_test.test_prints", TestPass, 18, nil, "limit 20000000"},
	}
	for _, tt := range tests {
		r, ok := byName[tt.name]
		if !ok {
			t.Errorf("%s: no result among %d", tt.name, len(results))
			continue
		}
		if r.Result != tt.result || r.File != "extra_test.rego" || r.Line != tt.line {
			t.Errorf("%s: %s at %s:%d, want %s at line %d", tt.name, r.Result, r.File, r.Line, tt.result, tt.line)
		}
		for _, part := range tt.message {
			if !strings.Contains(r.Message, part) {
				t.Errorf("%s: message %q lacks %q", tt.name, r.Message, part)
			}
		}
		if !strings.Contains(r.Output, tt.output) {
			t.Errorf("%s: output %q, want %q", tt.name, r.Output, tt.output)
		}
	}
	if results[len(results)-1].File != "extra_test.rego" || results[0].File != "credit_test.rego" {
		t.Errorf("results not in file order: first %s, last %s", results[0].File, results[len(results)-1].File)
	}
}

func TestRunTestsRefusesBrokenVersion(t *testing.T) {
	modules, data := MustReadPolicies(t)
	modules["broken_test.rego"] = "package credo.broken_test\n\ntest_x if {\n\tinput.quote.amont == 1\n}\n"
	_, err := RunTests(context.Background(), modules, data)
	var ce *CompileError
	if !errors.As(err, &ce) || !hasDiagnostic(ce.Diagnostics, Diagnostic{File: "broken_test.rego", Line: 4, Code: "rego_type_error", Message: "amont"}) {
		t.Errorf("error %v, want a type error at broken_test.rego:4", err)
	}
}
