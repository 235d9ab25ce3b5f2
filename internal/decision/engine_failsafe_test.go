package decision

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/ledger"
)

// decisionPolicy wraps a decision value in a module; %s is the value.
func decisionPolicy(value string) string {
	return "package credo.credit\n\ndecision := " + value + "\n"
}

// good is a valid decision; the malformed cases below change one thing in it.
const good = `{"outcome": "approve", "credit_limit_cents": 100050, "payment_terms": {"net_days": 30, "end_of_month": false, "deposit_percent": 0}, "reasons": [{"code": "OK", "message": "fine"}]}`

func MustFailSafe(t *testing.T, r Result, cause error, detail string) {
	t.Helper()
	if r.Err == nil {
		t.Fatalf("got a decision %+v, want the fail-safe answer", r)
	}
	if !errors.Is(r.Err, cause) {
		t.Errorf("cause %v, want %v", r.Err, cause)
	}
	if detail != "" && !strings.Contains(r.Err.Error(), detail) {
		t.Errorf("cause %q does not say %q", r.Err, detail)
	}
	if !r.FailSafe() || r.Outcome != OutcomeReview || r.CreditLimit != 0 ||
		r.PaymentTerms != (PaymentTerms{DepositPercent: 100}) ||
		len(r.Reasons) != 1 || r.Reasons[0].Code != ReasonPolicyError || r.Reasons[0].Message == "" {
		t.Errorf("fail-safe answer %+v", r)
	}
}

func TestGoodDecisionDecodes(t *testing.T) {
	want := Result{Outcome: OutcomeApprove, CreditLimit: 1000_50, PaymentTerms: PaymentTerms{NetDays: 30}, Reasons: []Reason{{"OK", "fine"}}}
	// A whole number of cents may be spelled as a float or with an exponent.
	for _, limit := range []string{"100050", "100050.0", "1.0005e5"} {
		e := MustCompileDecision(t, decisionPolicy(strings.Replace(good, "100050", limit, 1)), Options{})
		if r := e.Evaluate(context.Background(), baseInput()); !sameResult(r, want) || r.Err != nil {
			t.Errorf("%s: got %+v, want %+v", limit, r, want)
		}
	}
}

func TestMalformedResultsFailSafe(t *testing.T) {
	tests := []struct {
		name, old, new, detail string
	}{
		{"unknown outcome", `"approve"`, `"approved"`, `outcome: must be approve, review or deny, got "approved"`},
		{"outcome not a string", `"approve"`, `true`, "outcome: must be a string"},
		{"negative limit", `100050`, `-1`, "credit_limit_cents: -1 must be a whole number between 0"},
		{"limit with fractional cents", `100050`, `100050.5`, "credit_limit_cents: 100050.5 must be a whole number"},
		{"limit as text", `100050`, `"100050"`, "credit_limit_cents: must be a number"},
		{"limit above the maximum", `100050`, `1e15`, "must be a whole number between 0 and 100000000000000"},
		{"terms above 365 days", `"net_days": 30`, `"net_days": 400`, "payment_terms.net_days: 400"},
		{"fractional terms", `"net_days": 30`, `"net_days": 30.5`, "payment_terms.net_days"},
		{"deposit above 100", `"deposit_percent": 0`, `"deposit_percent": 101`, "deposit_percent: 101"},
		{"end_of_month not a boolean", `"end_of_month": false`, `"end_of_month": "no"`, "end_of_month: must be a boolean"},
		{"missing terms field", `"end_of_month": false, `, ``, "payment_terms.end_of_month: missing"},
		{"missing limit", `"credit_limit_cents": 100050, `, ``, "credit_limit_cents: missing"},
		{"extra field", `"reasons"`, `"limit": 5, "reasons"`, `unexpected field "limit"`},
		{"reason without message", `"message": "fine"`, `"message": ""`, "reasons[0].message"},
		{"reason code not a code", `"code": "OK"`, `"code": "ok then"`, "UPPER_SNAKE_CASE"},
		{"reason not an object", `[{"code": "OK", "message": "fine"}]`, `["OK"]`, "reasons[0]: must be an object"},
		{"reasons not a list", `[{"code": "OK", "message": "fine"}]`, `"OK"`, "reasons: must be an array"},
		{"review without a reason", `"approve"`, `"review"`, "reasons: must"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			value := strings.Replace(good, tt.old, tt.new, 1)
			if tt.name == "review without a reason" {
				value = strings.Replace(value, `[{"code": "OK", "message": "fine"}]`, `[]`, 1)
				tt.detail = "a review needs at least one reason"
			}
			if value == good {
				t.Fatal("the case changes nothing")
			}
			e := MustCompileDecision(t, decisionPolicy(value), Options{})
			MustFailSafe(t, e.Evaluate(context.Background(), baseInput()), ErrContract, tt.detail)
		})
	}
}

func TestUndefinedOrOddDecisionFailsSafe(t *testing.T) {
	tests := []struct {
		name, src, detail string
	}{
		{"undefined", "package credo.credit\n\ndecision := 1 if input.quote.amount_cents > 100000000000\n", "undefined"},
		{"a number", decisionPolicy("42"), "decision: must be an object"},
		{"a set of reasons is fine but a set decision is not", decisionPolicy(`{"approve"}`), "must be an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustCompileDecision(t, tt.src, Options{})
			MustFailSafe(t, e.Evaluate(context.Background(), baseInput()), ErrContract, tt.detail)
		})
	}
}

func TestEvaluationErrorsFailSafe(t *testing.T) {
	tests := []struct {
		name, src, detail string
	}{
		// With lax builtin errors this deny rule would silently vanish and the quote pass.
		{"builtin error", `package credo.credit

deny contains "name is a number" if to_number(input.client.name) > 0

decision := {"outcome": "approve", "credit_limit_cents": 0, "payment_terms": {"net_days": 0, "end_of_month": false, "deposit_percent": 100}, "reasons": []} if count(deny) == 0
`, "to_number"},
		{"division by zero", decisionPolicy(`{"outcome": "approve", "credit_limit_cents": input.quote.amount_cents / 0, "payment_terms": {}, "reasons": []}`), "divide by zero"},
		{"conflicting values", `package credo.credit

decision := {"outcome": "approve"} if input.quote.amount_cents > 0
decision := {"outcome": "deny"} if input.quote.amount_cents > 1
`, "conflicting values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustCompileDecision(t, tt.src, Options{})
			MustFailSafe(t, e.Evaluate(context.Background(), baseInput()), ErrEvaluation, tt.detail)
		})
	}
}

// loopingPolicy walks 10^10 pairs: it cannot finish, so only the deadline ends it.
const loopingPolicy = `package credo.credit

n := count([x |
	some i in numbers.range(1, 100000)
	some j in numbers.range(1, 100000)
	x := i * j
])

decision := {"outcome": "approve", "credit_limit_cents": n, "payment_terms": {"net_days": 0, "end_of_month": false, "deposit_percent": 0}, "reasons": []}
`

func TestDeadlineFailsSafe(t *testing.T) {
	e := MustCompileDecision(t, loopingPolicy, Options{EvalTimeout: 20 * time.Millisecond})
	r := e.Evaluate(context.Background(), baseInput())
	MustFailSafe(t, r, ErrTimeout, "")
	if FailureKind(r.Err) != "timeout" {
		t.Errorf("FailureKind %q, want timeout", FailureKind(r.Err))
	}
}

// TestCallerDeadlineFailsSafe: a request deadline shorter than the engine's counts as a timeout.
func TestCallerDeadlineFailsSafe(t *testing.T) {
	e := MustCompileDecision(t, loopingPolicy, Options{EvalTimeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	MustFailSafe(t, e.Evaluate(ctx, baseInput()), ErrTimeout, "")
}

func TestCanceledFailsSafe(t *testing.T) {
	e := MustCompileDecision(t, loopingPolicy, Options{EvalTimeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(10 * time.Millisecond)
		cancel()
	}()
	r := e.Evaluate(ctx, baseInput())
	MustFailSafe(t, r, ErrCanceled, "")
	if FailureKind(r.Err) != "canceled" {
		t.Errorf("FailureKind %q, want canceled", FailureKind(r.Err))
	}
}

func TestInvalidInputFailsSafe(t *testing.T) {
	e := MustCompileDefault(t)
	tests := []struct {
		name   string
		edit   func(*Input)
		detail string
	}{
		{"unknown risk class", func(in *Input) { in.Score.RiskClass = "F" }, "score.risk_class"},
		{"zero amount", func(in *Input) { in.Quote.Amount = 0 }, "quote.amount_cents"},
		{"exposure total that does not add up", func(in *Input) { in.Exposure.Reserved = 100 }, "exposure.total_cents"},
		{"time not in UTC", func(in *Input) { in.Now = in.Now.In(time.FixedZone("CET", 3600)) }, "now"},
		{"unset sanctions status", func(in *Input) { in.Sanctions.Status = "" }, "sanctions.status"},
		{"negative recommended limit", func(in *Input) { in.Solvency.RecommendedLimit = ptr(ledger.Money(-1)) }, "solvency.recommended_limit_cents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			tt.edit(in)
			r := e.Evaluate(context.Background(), in)
			MustFailSafe(t, r, ErrInput, tt.detail)
			if FailureKind(r.Err) != "input" {
				t.Errorf("FailureKind %q", FailureKind(r.Err))
			}
		})
	}
	for _, doc := range []string{`[1]`, `{"now": `, `"x"`} {
		MustFailSafe(t, e.EvaluateJSON(context.Background(), []byte(doc)), ErrInput, "")
	}
}

func TestFailureKind(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{ErrTimeout, "timeout"},
		{ErrCanceled, "canceled"},
		{ErrContract, "contract"},
		{ErrInput, "input"},
		{ErrEvaluation, "evaluation"},
		{errors.New("other"), "evaluation"},
	}
	for _, tt := range tests {
		if got := FailureKind(tt.err); got != tt.want {
			t.Errorf("FailureKind(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
