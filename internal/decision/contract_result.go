package decision

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/credorisk/credo/internal/ledger"
)

// Outcome is what the policy decided for the quote.
type Outcome string

// The outcomes: approve lets the quote go out with the answered terms, review sends it to a
// credit manager first, deny refuses credit.
const (
	OutcomeApprove Outcome = "approve"
	OutcomeReview  Outcome = "review"
	OutcomeDeny    Outcome = "deny"
)

// PaymentTerms are the terms the quote may offer. DepositPercent 100 means payment in advance.
type PaymentTerms struct {
	NetDays        int  `json:"net_days"`
	EndOfMonth     bool `json:"end_of_month"`
	DepositPercent int  `json:"deposit_percent"`
}

// Reason explains one rule that fired: a stable code and a message a salesperson understands.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ReasonPolicyError is the code of the fail-safe answer's only reason.
const ReasonPolicyError = "POLICY_ERROR"

// Result is a decision that matches the output contract (policies/schema/output.json), or the
// fail-safe answer when Err is set.
type Result struct {
	Outcome      Outcome      `json:"outcome"`
	CreditLimit  ledger.Money `json:"credit_limit"`
	PaymentTerms PaymentTerms `json:"payment_terms"`
	Reasons      []Reason     `json:"reasons"`
	// Err is why the policy gave no valid decision (nil otherwise); it wraps one of ErrTimeout,
	// ErrCanceled, ErrEvaluation, ErrContract or ErrInput. FailureKind names it for a metric.
	Err error `json:"-"`
}

// FailSafe reports whether r is the fail-safe answer rather than the policy's decision.
func (r Result) FailSafe() bool { return r.Err != nil }

// The causes of a fail-safe answer; Result.Err wraps exactly one of them.
var (
	ErrTimeout    = errors.New("policy evaluation passed its deadline")
	ErrCanceled   = errors.New("policy evaluation canceled by the caller")
	ErrEvaluation = errors.New("policy evaluation failed")
	ErrContract   = errors.New("policy result breaks the output contract")
	ErrInput      = errors.New("policy input is invalid")
)

// FailureKind names the cause of a fail-safe answer for a metric label: timeout, canceled,
// evaluation, contract, input; "" when err is nil.
func FailureKind(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrTimeout):
		return "timeout"
	case errors.Is(err, ErrCanceled):
		return "canceled"
	case errors.Is(err, ErrContract):
		return "contract"
	case errors.Is(err, ErrInput):
		return "input"
	default:
		return "evaluation"
	}
}

// failSafe is the answer when the policy cannot decide: review, never approve; no credit and
// payment in advance until a credit manager decides.
func failSafe(cause error) Result {
	return Result{
		Outcome:      OutcomeReview,
		CreditLimit:  0,
		PaymentTerms: PaymentTerms{NetDays: 0, EndOfMonth: false, DepositPercent: 100},
		Reasons: []Reason{{
			Code:    ReasonPolicyError,
			Message: "The credit policy could not reach a decision; a credit manager will review this quote.",
		}},
		Err: cause,
	}
}

// isReasonCode reports whether code is UPPER_SNAKE_CASE: ^[A-Z][A-Z0-9_]*$.
func isReasonCode(code string) bool {
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return code != ""
}

// contractError says which field of the policy's result is wrong and how.
func contractError(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrContract, field, fmt.Sprintf(format, args...))
}

// decodeResult checks the policy's value against the output contract and converts it. It reads
// the OPA value directly (no JSON round trip) and is strict: a missing, extra or out-of-range
// field is an error, so a typo in a policy cannot pass unnoticed as a default.
func decodeResult(v ast.Value) (Result, error) {
	o, ok := v.(ast.Object)
	if !ok {
		return Result{}, contractError("decision", "must be an object, got %s", ast.ValueName(v))
	}
	if err := onlyKeys(o, "decision", "outcome", "credit_limit_cents", "payment_terms", "reasons"); err != nil {
		return Result{}, err
	}
	var r Result
	outcome, err := stringField(o, "outcome")
	if err != nil {
		return Result{}, err
	}
	switch r.Outcome = Outcome(outcome); r.Outcome {
	case OutcomeApprove, OutcomeReview, OutcomeDeny:
	default:
		return Result{}, contractError("outcome", "must be approve, review or deny, got %q", outcome)
	}
	if r.CreditLimit, err = centsField(o, "credit_limit_cents"); err != nil {
		return Result{}, err
	}
	if r.PaymentTerms, err = termsField(o); err != nil {
		return Result{}, err
	}
	if r.Reasons, err = reasonsField(o); err != nil {
		return Result{}, err
	}
	if r.Outcome != OutcomeApprove && len(r.Reasons) == 0 {
		return Result{}, contractError("reasons", "a %s needs at least one reason", r.Outcome)
	}
	return r, nil
}

func onlyKeys(o ast.Object, path string, keys ...string) error {
	if k := extraKey(o, keys...); k != nil {
		return contractError(path, "unexpected field %v", k)
	}
	return nil
}

// extraKey returns a key of o that is not one of keys, or nil.
func extraKey(o ast.Object, keys ...string) *ast.Term {
	var extra *ast.Term
	o.Until(func(k, _ *ast.Term) bool {
		s, ok := k.Value.(ast.String)
		for _, want := range keys {
			if ok && string(s) == want {
				return false
			}
		}
		extra = k
		return true
	})
	return extra
}

// resultKeys are the output contract's keys as terms, made once: decoding runs on every quote.
var resultKeys = func() map[string]*ast.Term {
	keys := map[string]*ast.Term{}
	for _, k := range []string{"outcome", "credit_limit_cents", "payment_terms", "reasons", "net_days",
		"end_of_month", "deposit_percent", "code", "message"} {
		keys[k] = ast.StringTerm(k)
	}
	return keys
}()

func field(o ast.Object, path, key string) (ast.Value, error) {
	k, ok := resultKeys[key]
	if !ok {
		k = ast.StringTerm(key)
	}
	t := o.Get(k)
	if t == nil {
		return nil, contractError(path, "missing")
	}
	return t.Value, nil
}

func stringField(o ast.Object, key string) (string, error) {
	v, err := field(o, key, key)
	if err != nil {
		return "", err
	}
	s, ok := v.(ast.String)
	if !ok {
		return "", contractError(key, "must be a string, got %s", ast.ValueName(v))
	}
	return string(s), nil
}

// wholeNumber reads an OPA number that must be an integer between lo and hi. Integers written
// plainly ("1500000") take the fast path; other spellings ("1.5e6", "1500000.0") are read exactly.
func wholeNumber(path string, v ast.Value, lo, hi int64) (int64, error) {
	n, ok := v.(ast.Number)
	if !ok {
		return 0, contractError(path, "must be a number, got %s", ast.ValueName(v))
	}
	i, ok := n.Int64()
	if !ok {
		r, ok := new(big.Rat).SetString(string(n))
		if !ok || !r.IsInt() || !r.Num().IsInt64() {
			return 0, contractError(path, "%s must be a whole number between %d and %d", n, lo, hi)
		}
		i = r.Num().Int64()
	}
	if i < lo || i > hi {
		return 0, contractError(path, "%s must be a whole number between %d and %d", n, lo, hi)
	}
	return i, nil
}

// centsField reads an amount in cents of at least 0.
func centsField(o ast.Object, key string) (ledger.Money, error) {
	v, err := field(o, key, key)
	if err != nil {
		return 0, err
	}
	c, err := wholeNumber(key, v, 0, int64(ledger.MaxAmount))
	return ledger.Money(c), err
}

func intField(o ast.Object, path, key string, lo, hi int) (int, error) {
	v, err := field(o, path, key)
	if err != nil {
		return 0, err
	}
	i, err := wholeNumber(path, v, int64(lo), int64(hi))
	return int(i), err
}

func termsField(o ast.Object) (PaymentTerms, error) {
	const path = "payment_terms"
	v, err := field(o, path, path)
	if err != nil {
		return PaymentTerms{}, err
	}
	t, ok := v.(ast.Object)
	if !ok {
		return PaymentTerms{}, contractError(path, "must be an object, got %s", ast.ValueName(v))
	}
	if err := onlyKeys(t, path, "net_days", "end_of_month", "deposit_percent"); err != nil {
		return PaymentTerms{}, err
	}
	var pt PaymentTerms
	if pt.NetDays, err = intField(t, path+".net_days", "net_days", 0, maxTermsDays); err != nil {
		return PaymentTerms{}, err
	}
	eom, err := field(t, path+".end_of_month", "end_of_month")
	if err != nil {
		return PaymentTerms{}, err
	}
	b, ok := eom.(ast.Boolean)
	if !ok {
		return PaymentTerms{}, contractError(path+".end_of_month", "must be a boolean, got %s", ast.ValueName(eom))
	}
	pt.EndOfMonth = bool(b)
	if pt.DepositPercent, err = intField(t, path+".deposit_percent", "deposit_percent", 0, 100); err != nil {
		return PaymentTerms{}, err
	}
	return pt, nil
}

func reasonsField(o ast.Object) ([]Reason, error) {
	v, err := field(o, "reasons", "reasons")
	if err != nil {
		return nil, err
	}
	// A set is accepted too: `reasons contains r if ...` is the natural way to write them.
	var items []*ast.Term
	switch x := v.(type) {
	case *ast.Array:
		items = make([]*ast.Term, 0, x.Len())
		x.Foreach(func(t *ast.Term) { items = append(items, t) })
	case ast.Set:
		items = x.Slice()
	default:
		return nil, contractError("reasons", "must be an array, got %s", ast.ValueName(v))
	}
	out := make([]Reason, 0, len(items))
	for i, t := range items {
		// The path is only spelled out for an error: this loop runs on every quote.
		path := func() string { return "reasons[" + strconv.Itoa(i) + "]" }
		ro, ok := t.Value.(ast.Object)
		if !ok {
			return nil, contractError(path(), "must be an object, got %s", ast.ValueName(t.Value))
		}
		if k := extraKey(ro, "code", "message"); k != nil {
			return nil, contractError(path(), "unexpected field %v", k)
		}
		var r Reason
		for _, f := range [...]struct {
			key string
			dst *string
		}{{"code", &r.Code}, {"message", &r.Message}} {
			fv := ro.Get(resultKeys[f.key])
			if fv == nil {
				return nil, contractError(path()+"."+f.key, "missing")
			}
			s, ok := fv.Value.(ast.String)
			if !ok || s == "" {
				return nil, contractError(path()+"."+f.key, "must be a non-empty string")
			}
			*f.dst = string(s)
		}
		if !isReasonCode(r.Code) {
			return nil, contractError(path()+".code", "%q must be UPPER_SNAKE_CASE", r.Code)
		}
		out = append(out, r)
	}
	return out, nil
}
