package decision

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

func TestForbiddenBuiltinsAreRefused(t *testing.T) {
	tests := []struct {
		builtin string
		rule    string
		line    int
	}{
		{"http.send", `r := http.send({"method": "GET", "url": "https://example.com"})`, 4},
		{"net.lookup_ip_addr", `r := net.lookup_ip_addr("example.com")`, 4},
		{"net.cidr_contains", `r := net.cidr_contains("10.0.0.0/8", "10.1.2.3")`, 4},
		{"time.now_ns", `r := time.now_ns()`, 4},
		{"rand.intn", `r := rand.intn("seed", 100)`, 4},
		{"opa.runtime", `r := opa.runtime()`, 4},
		{"uuid.rfc4122", `r := uuid.rfc4122("k")`, 4},
		{"io.jwt.decode_verify", `r := io.jwt.decode_verify("x", {"secret": "s"})`, 4},
		{"json.match_schema", `r := json.match_schema({}, {})`, 4},
		// Nested in another call, after compiler rewriting.
		{"time.now_ns", `r := sprintf("%d", [time.now_ns()])`, 4},
		// As the target or the value of a with: mocking the clock is refused too.
		{"time.now_ns", "r := 1 with time.now_ns as 5", 4},
		{"http.send", "r := f(1) with f as http.send\n}\n\nf(x) := x if {\n\ttrue", 4},
	}
	for _, tt := range tests {
		t.Run(tt.builtin, func(t *testing.T) {
			src := "package credo.credit\n\ndecision := r if {\n\t" + tt.rule + "\n}\n"
			_, err := Compile(context.Background(), map[string]string{"bad.rego": src}, []byte(`{}`), Options{DataSchema: []byte(`{}`)})
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v, want a CompileError", err)
			}
			found := false
			for _, d := range ce.Diagnostics {
				if d.Code == CodeForbiddenBuiltin && strings.Contains(d.Message, tt.builtin) {
					found = true
					if d.File != "bad.rego" || d.Line != tt.line || d.Column == 0 {
						t.Errorf("located at %s:%d:%d, want bad.rego:%d", d.File, d.Line, d.Column, tt.line)
					}
				}
			}
			if !found {
				t.Errorf("no forbidden_builtin diagnostic naming %s in %v", tt.builtin, ce.Diagnostics)
			}
			if !strings.Contains(err.Error(), tt.builtin) {
				t.Errorf("error text %q does not name %s", err, tt.builtin)
			}
		})
	}
}

// TestForbiddenBuiltinsInTests: a test module may not use them either, even to mock the clock.
func TestForbiddenBuiltinsInTests(t *testing.T) {
	modules := map[string]string{
		"p.rego":      "package credo.credit\n\ndecision := 1\n",
		"p_test.rego": "package credo.credit_test\n\ntest_clock if {\n\ttime.now_ns() > 0\n}\n",
	}
	_, data := MustReadPolicies(t)
	_, err := RunTests(context.Background(), modules, data)
	if err == nil || !strings.Contains(err.Error(), "time.now_ns") {
		t.Fatalf("RunTests error %v, want a refusal naming time.now_ns", err)
	}
}

// TestAllowedBuiltins: deterministic builtins a policy needs keep working, time included when it
// comes from the input.
func TestAllowedBuiltins(t *testing.T) {
	src := `package credo.credit

decision := {
	"outcome": "approve",
	"credit_limit_cents": round(abs(-12.4)) * 100000,
	"payment_terms": {"net_days": days, "end_of_month": false, "deposit_percent": count(regex.split(",", "a,b"))},
	"reasons": [{"code": upper(replace("from_input", "-", "_")), "message": sprintf("%s", [input.now])}],
}

days := (time.parse_rfc3339_ns("2026-03-31T00:00:00Z") - time.parse_rfc3339_ns(input.now)) / (24 * 3600 * 1000000000)
`
	e := MustCompileDecision(t, src, Options{})
	r := e.EvaluateJSON(context.Background(), []byte(`{"now": "2026-03-01T00:00:00Z"}`))
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if r.CreditLimit != 12000_00 || r.PaymentTerms.NetDays != 30 || r.PaymentTerms.DepositPercent != 2 || r.Reasons[0].Code != "FROM_INPUT" {
		t.Errorf("got %+v", r)
	}
}

func TestForbiddenBuiltinsList(t *testing.T) {
	list := ForbiddenBuiltins()
	for _, name := range []string{"http.send", "net.", "opa.runtime", "rand.", "uuid.rfc4122", "time.now_ns"} {
		if list[name] == "" {
			t.Errorf("%s missing from ForbiddenBuiltins", name)
		}
	}
	for _, f := range forbiddenBuiltins {
		if !strings.HasSuffix(f.name, ".") && ast.BuiltinMap[f.name] == nil {
			t.Errorf("%s is listed but is not an OPA builtin", f.name)
		}
	}
	caps := restrictedCapabilities()
	for _, b := range caps.Builtins {
		if b.Nondeterministic {
			t.Errorf("capabilities keep non-deterministic %s", b.Name)
		}
		if why, bad := forbiddenReason(b.Name); bad {
			t.Errorf("capabilities keep forbidden %s (%s)", b.Name, why)
		}
	}
	if len(caps.Builtins) < 150 {
		t.Errorf("only %d builtins left: the filter removes too much", len(caps.Builtins))
	}
}
