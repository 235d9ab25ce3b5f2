package decision

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/credorisk/credo/internal/ledger"
)

// randomClient draws a client state that exercises every rule of the default policy: each
// class, each screening status, solvency available or not, stale, closed, under insolvency,
// with a bureau recommendation below, at or above the class limit, overdue around 60 days.
func randomClient(r *rand.Rand, i int) *Input {
	in := baseInput()
	in.Client.ClientID = fmt.Sprintf("C-%d", i)
	in.Client.IsNew = r.IntN(10) == 0
	in.Score.RiskClass = []RiskClass{ClassA, ClassB, ClassC, ClassD, ClassE}[r.IntN(5)]
	in.Score.Value = float64(400 + r.IntN(400))
	in.Score.PD = float64(r.IntN(1000)) / 1000
	if r.IntN(2) == 0 {
		in.Score.Reasons = []ScoreReason{{Code: "DBT_12M", Text: "Pays late", PointsLost: float64(r.IntN(50))}}
	}
	in.Metrics.MaxDaysOverdue = []int{0, 12, 59, 60, 61, 90}[r.IntN(6)]
	in.Metrics.Overdue = ledger.Money(r.IntN(5_000_000))

	classLimit := map[RiskClass]ledger.Money{ClassA: 500000_00, ClassB: 200000_00, ClassC: 75000_00, ClassD: 20000_00, ClassE: 0}[in.Score.RiskClass]
	sv := &in.Solvency
	sv.Available = r.IntN(6) != 0
	sv.Stale = r.IntN(4) == 0
	if !sv.Available || r.IntN(5) == 0 {
		sv.AsOf = nil
	}
	sv.CompanyStatus = []CompanyStatus{CompanyActive, CompanyActive, CompanyActive, CompanyUnknown, CompanyClosed}[r.IntN(5)]
	if r.IntN(8) == 0 {
		sv.Insolvency = Insolvency{Open: true, JudgmentDate: ptr(ledger.DateOf(2026, 1, 15))}
		if r.IntN(2) == 0 {
			sv.Insolvency.Kind = ptr("redressement judiciaire")
		}
	}
	switch r.IntN(6) {
	case 0:
		sv.RecommendedLimit = ptr(classLimit - 1)
	case 1:
		sv.RecommendedLimit = ptr(classLimit)
	case 2:
		sv.RecommendedLimit = ptr(classLimit + 1)
	case 3:
		sv.RecommendedLimit = ptr(ledger.Money(r.IntN(int(classLimit) + 1)))
	case 4:
		sv.RecommendedLimit = ptr(ledger.Money(0))
	}
	if sv.RecommendedLimit != nil && *sv.RecommendedLimit < 0 {
		sv.RecommendedLimit = ptr(ledger.Money(0))
	}
	in.Sanctions.Status = []SanctionsStatus{SanctionsClear, SanctionsClear, SanctionsClear, SanctionsPotentialMatch, SanctionsConfirmed, SanctionsNotScreened}[r.IntN(6)]
	if in.Sanctions.Status != SanctionsClear {
		in.Sanctions.Hits = []SanctionsHit{{EntryID: "ofac-1", List: "ofac", MatchedName: "X", Score: 0.9}}
	}
	return in
}

// randomQuote sets the request sections of a copy of client: terms around the class and legal
// caps, end of month or not, amounts around the large-quote threshold, exposure around the limit.
func randomQuote(r *rand.Rand, client *Input) *Input {
	in := *client
	in.Now = time.Date(2026, 3, 2, 10, 15, r.IntN(60), r.IntN(1000)*1000, time.UTC)
	in.Quote.QuoteID = fmt.Sprintf("Q-%d", r.Uint32())
	in.Quote.RequestedTermsDays = []int{0, 29, 30, 31, 44, 45, 46, 59, 60, 61, 90, 365, r.IntN(366)}[r.IntN(13)]
	in.Quote.EndOfMonth = r.IntN(2) == 0
	in.Quote.Amount = []ledger.Money{1, 49999_99, 50000_00, 50000_01, ledger.Money(1 + r.IntN(30000000))}[r.IntN(5)]
	in.Quote.OpenOrdersAmount = ledger.Money(r.IntN(3) * 1000_00)
	limit := ledger.Money(map[RiskClass]int{ClassA: 500000_00, ClassB: 200000_00, ClassC: 75000_00, ClassD: 20000_00, ClassE: 0}[in.Score.RiskClass])
	if rl := in.Solvency.RecommendedLimit; in.Solvency.Available && rl != nil && *rl < limit {
		limit = *rl
	}
	// Exposure plus the quote at the limit, a cent either side, far below, above, or negative.
	total := []ledger.Money{limit - in.Quote.Amount, limit - in.Quote.Amount - 1, limit - in.Quote.Amount + 1,
		0, -5000_00, limit * 2, ledger.Money(r.IntN(40000000))}[r.IntN(7)]
	in.Exposure = Exposure{OpenAR: total - in.Quote.OpenOrdersAmount, Overdue: 0, OpenOrders: in.Quote.OpenOrdersAmount, Total: total}
	if in.Exposure.OpenAR > 0 {
		in.Exposure.Overdue = in.Exposure.OpenAR / 3
	}
	return &in
}

// TestResidualMatchesFullEvaluation is the differential test of pre-evaluation: for random
// client states and quotes around every boundary, the residual decides exactly as the whole
// policy does, and the default policy never needs the full-evaluation fallback.
func TestResidualMatchesFullEvaluation(t *testing.T) {
	e := MustCompileDefault(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	const clients, quotes = 250, 24
	seen := map[string]int{}
	for i := range clients {
		client := randomClient(r, i)
		q, err := e.buildResidual(ctx, ast.NewObject(knownPairs(client)...))
		if err != nil {
			t.Fatalf("client %d: the default policy must pre-evaluate: %v\n%s", i, err, MustMarshal(t, client))
		}
		for range quotes {
			in := randomQuote(r, client)
			if err := in.Validate(); err != nil {
				t.Fatalf("generated an invalid input: %v %v", err, faultFields(err))
			}
			input := ast.NewTerm(in.Value())
			full := e.eval(ctx, e.full, input)
			res := e.eval(ctx, q, input)
			if full.Err != nil {
				t.Fatalf("full evaluation failed: %v\n%s", full.Err, MustMarshal(t, in))
			}
			if !sameResult(full, res) {
				t.Fatalf("residual %+v\nfull     %+v\ninput %s", res, full, MustMarshal(t, in))
			}
			seen[string(full.Outcome)]++
			for _, reason := range full.Reasons {
				seen[reason.Code]++
			}
		}
	}
	// The draw must reach every outcome and every reason, or it proves less than it claims.
	for _, want := range []string{"approve", "review", "deny", "SANCTIONS_CONFIRMED", "INSOLVENCY_OPEN", "COMPANY_CLOSED",
		"SANCTIONS_POTENTIAL_MATCH", "SANCTIONS_NOT_SCREENED", "SOLVENCY_UNAVAILABLE", "SOLVENCY_STALE",
		"TERMS_ABOVE_CLASS_MAX", "LIMIT_EXCEEDED", "LIMIT_CAPPED_BY_BUREAU", "WITHIN_LIMIT", "TERMS_LEGAL_CAP",
		"DEPOSIT_REQUIRED", "PAYMENT_IN_ADVANCE_CLASS", "PAYMENT_IN_ADVANCE_OVERDUE"} {
		if seen[want] == 0 {
			t.Errorf("no generated input gave %s (%v)", want, seen)
		}
	}
}

func knownPairs(in *Input) [][2]*ast.Term {
	c := in.clientTerms()
	out := make([][2]*ast.Term, len(c))
	for i, t := range c {
		out[i] = kv(clientSections[i], t)
	}
	return out
}

// MustSyncEngine compiles a policy whose residuals are built in the evaluating goroutine, so a
// test knows which path served each evaluation.
func MustSyncEngine(t testing.TB, modules map[string]string, data []byte, opts Options) *Engine {
	t.Helper()
	e, err := Compile(context.Background(), modules, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.syncBuild = true
	return e
}

// MustWarm evaluates in until its client state has a residual (e must build synchronously).
func MustWarm(t testing.TB, e *Engine, in *Input) {
	t.Helper()
	for range buildAfterSightings {
		if r := e.Evaluate(context.Background(), in); r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	st := e.cache.get(in.appendClientKey(nil), func() [][2]*ast.Term {
		t.Fatal("the client state is not cached")
		return nil
	})
	if r := st.residual.Load(); r == nil || r.q == nil {
		t.Fatalf("no residual: %+v", r)
	}
}

// TestEvaluateUsesResiduals: a client state is decided by the whole policy until its residual is
// built, then by its residual, with the same answers, for typed inputs and logged documents.
func TestEvaluateUsesResiduals(t *testing.T) {
	modules, data := MustReadPolicies(t)
	e := MustSyncEngine(t, modules, data, Options{EvalTimeout: 10 * time.Second})
	ctx := context.Background()
	in, doc := MustLoadInput(t, "input_approve.json")
	first := e.Evaluate(ctx, in)
	for range buildAfterSightings - 2 {
		e.Evaluate(ctx, in)
	}
	const before = buildAfterSightings - 1
	if st := e.ResidualStats(); st.Full != before || st.Residual != 0 || st.Built != 0 || st.Entries != 1 {
		t.Fatalf("after %d evaluations: %+v", before, st)
	}
	other := *in
	other.Quote.Amount += 7
	other.Exposure = Exposure{OpenAR: 1, Total: 1}
	for _, x := range []*Input{in, &other, in} {
		want := e.eval(ctx, e.full, ast.NewTerm(x.Value()))
		if got := e.Evaluate(ctx, x); !sameResult(got, want) {
			t.Errorf("residual %+v, full %+v", got, want)
		}
	}
	if !sameResult(first, e.Evaluate(ctx, in)) {
		t.Error("the residual answers differently from the first, full, evaluation")
	}
	if st := e.ResidualStats(); st.Full != before || st.Residual != 4 || st.Built != 1 || st.Fallbacks != 0 || st.Entries != 1 {
		t.Errorf("after %d evaluations of one client: %+v", before+4, st)
	}

	// A logged document has its own key space: full until its residual is built.
	for range before + 2 {
		if got := e.EvaluateJSON(ctx, doc); !sameResult(got, first) {
			t.Errorf("replay %+v, live %+v", got, first)
		}
	}
	if st := e.ResidualStats(); st.Full != 2*before || st.Residual != 6 || st.Built != 2 || st.Entries != 2 {
		t.Errorf("after %d replays: %+v", before+2, st)
	}
}

// TestResidualFallback: a policy OPA cannot pre-evaluate (an else chain on the quote) is decided
// by full evaluation, correctly, and CheckResidual says why.
func TestResidualFallback(t *testing.T) {
	src := `package credo.credit

decision := {"outcome": "review", "credit_limit_cents": 0, "payment_terms": terms, "reasons": [{"code": "BIG", "message": "big quote"}]} if input.quote.amount_cents > 1000000
else := {"outcome": "approve", "credit_limit_cents": 100, "payment_terms": terms, "reasons": []}

terms := {"net_days": 30, "end_of_month": false, "deposit_percent": 0}
`
	e := MustSyncEngine(t, map[string]string{"p.rego": src}, []byte(`{}`), Options{DataSchema: []byte(`{}`)})
	ctx := context.Background()
	if err := e.CheckResidual(ctx, baseInput()); !errors.Is(err, errNotEffective) {
		t.Errorf("CheckResidual: %v, want %v", err, errNotEffective)
	}
	small, big := baseInput(), baseInput()
	big.Quote.Amount = 1000001
	for range 3 {
		if r := e.Evaluate(ctx, small); r.Err != nil || r.Outcome != OutcomeApprove || r.CreditLimit != 1_00 {
			t.Errorf("small quote: %+v", r)
		}
		if r := e.Evaluate(ctx, big); r.Err != nil || r.Outcome != OutcomeReview {
			t.Errorf("big quote: %+v", r)
		}
	}
	if st := e.ResidualStats(); st.Fallbacks != 1 || st.Built != 0 || st.Residual != 0 || st.Full != 6 {
		t.Errorf("stats %+v", st)
	}
	if err := MustCompileDefault(t).CheckResidual(ctx, baseInput()); err != nil {
		t.Errorf("the default policy: %v", err)
	}
}

// TestResidualFailSafe: the fail-safe answers are the same through a residual: an evaluation
// error on the quote, a contract breach, an undefined decision, the deadline.
func TestResidualFailSafe(t *testing.T) {
	tests := []struct {
		name, src string
		cause     error
	}{
		{"division by zero on the quote", decisionPolicy(`{"outcome": "approve", "credit_limit_cents": input.quote.amount_cents / (input.quote.requested_terms_days - 30), "payment_terms": {"net_days": 0, "end_of_month": false, "deposit_percent": 0}, "reasons": []}`), ErrEvaluation},
		{"limit in fractional cents", decisionPolicy(`{"outcome": "approve", "credit_limit_cents": input.quote.amount_cents / 3, "payment_terms": {"net_days": 0, "end_of_month": false, "deposit_percent": 0}, "reasons": []}`), ErrContract},
		{"undefined for this quote", "package credo.credit\n\ndecision := 1 if input.quote.amount_cents > 100000000000\n", ErrContract},
		{"conflicting values", "package credo.credit\n\ndecision := 1 if input.quote.amount_cents > 0\ndecision := 2 if input.quote.requested_terms_days > 0\n", ErrEvaluation},
		{"loop on the quote", `package credo.credit

decision := {"outcome": "approve", "credit_limit_cents": n, "payment_terms": {"net_days": 0, "end_of_month": false, "deposit_percent": 0}, "reasons": []}

n := count([x |
	some i in numbers.range(1, input.quote.amount_cents)
	some j in numbers.range(1, input.quote.amount_cents)
	x := i * j
])
`, ErrTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustSyncEngine(t, map[string]string{"p.rego": tt.src}, []byte(`{}`), Options{DataSchema: []byte(`{}`), EvalTimeout: 50 * time.Millisecond})
			for range buildAfterSightings {
				MustFailSafe(t, e.Evaluate(context.Background(), baseInput()), tt.cause, "")
			}
			if st := e.ResidualStats(); st.Residual != 1 || st.Built != 1 {
				t.Errorf("the last evaluation did not go through the residual: %+v", st)
			}
		})
	}
}
