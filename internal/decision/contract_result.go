package decision

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"

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

var reasonCodePattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

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
	if err := onlyKeys(o, "decision", "outcome", "credit_limit", "payment_terms", "reasons"); err != nil {
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
	if r.CreditLimit, err = moneyField(o, "credit_limit"); err != nil {
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
	var extra error
	o.Until(func(k, _ *ast.Term) bool {
		s, ok := k.Value.(ast.String)
		for _, want := range keys {
			if ok && string(s) == want {
				return false
			}
		}
		extra = contractError(path, "unexpected field %v", k)
		return true
	})
	return extra
}

func field(o ast.Object, path, key string) (ast.Value, error) {
	t := o.Get(ast.InternedTerm(key))
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

// exactNumber reads an OPA number exactly (policies may produce "1e5" or "12.50").
func exactNumber(path string, v ast.Value) (*big.Rat, error) {
	n, ok := v.(ast.Number)
	if !ok {
		return nil, contractError(path, "must be a number, got %s", ast.ValueName(v))
	}
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return nil, contractError(path, "unreadable number %s", n)
	}
	return r, nil
}

var hundred = big.NewRat(100, 1)

func moneyField(o ast.Object, key string) (ledger.Money, error) {
	v, err := field(o, key, key)
	if err != nil {
		return 0, err
	}
	r, err := exactNumber(key, v)
	if err != nil {
		return 0, err
	}
	cents := new(big.Rat).Mul(r, hundred)
	if !cents.IsInt() {
		return 0, contractError(key, "%s has more than two decimals; round it in the policy", v)
	}
	if cents.Sign() < 0 || cents.Num().Cmp(big.NewInt(int64(ledger.MaxAmount))) > 0 {
		return 0, contractError(key, "%s must be between 0 and %s", v, ledger.MaxAmount)
	}
	return ledger.Money(cents.Num().Int64()), nil
}

func intField(o ast.Object, path, key string, lo, hi int) (int, error) {
	v, err := field(o, path, key)
	if err != nil {
		return 0, err
	}
	r, err := exactNumber(path, v)
	if err != nil {
		return 0, err
	}
	if !r.IsInt() || r.Cmp(big.NewRat(int64(lo), 1)) < 0 || r.Cmp(big.NewRat(int64(hi), 1)) > 0 {
		return 0, contractError(path, "%s must be a whole number between %d and %d", v, lo, hi)
	}
	return int(r.Num().Int64()), nil
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
		path := fmt.Sprintf("reasons[%d]", i)
		ro, ok := t.Value.(ast.Object)
		if !ok {
			return nil, contractError(path, "must be an object, got %s", ast.ValueName(t.Value))
		}
		if err := onlyKeys(ro, path, "code", "message"); err != nil {
			return nil, err
		}
		var r Reason
		for _, f := range []struct {
			key string
			dst *string
		}{{"code", &r.Code}, {"message", &r.Message}} {
			fv, err := field(ro, path+"."+f.key, f.key)
			if err != nil {
				return nil, err
			}
			s, ok := fv.(ast.String)
			if !ok || s == "" {
				return nil, contractError(path+"."+f.key, "must be a non-empty string")
			}
			*f.dst = string(s)
		}
		if !reasonCodePattern.MatchString(r.Code) {
			return nil, contractError(path+".code", "%q must be UPPER_SNAKE_CASE", r.Code)
		}
		out = append(out, r)
	}
	return out, nil
}
