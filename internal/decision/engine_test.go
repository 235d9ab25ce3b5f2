package decision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// MustCompileDefault compiles the embedded default policy. Its deadline is generous: these tests
// check decisions, and a busy test machine must not turn one into a timeout.
func MustCompileDefault(t testing.TB) *Engine {
	t.Helper()
	modules, data := MustReadPolicies(t)
	e, err := Compile(context.Background(), modules, data, Options{EvalTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("compile default policy: %v", err)
	}
	return e
}

// MustCompileDecision compiles one module that defines the decision, with no data tables.
func MustCompileDecision(t testing.TB, src string, opts Options) *Engine {
	t.Helper()
	opts.DataSchema = []byte(`{}`)
	e, err := Compile(context.Background(), map[string]string{"policy.rego": src}, []byte(`{}`), opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return e
}

// MustLoadInput reads an example input document from testdata.
func MustLoadInput(t testing.TB, name string) (*Input, []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var in Input
	if err := dec.Decode(&in); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &in, raw
}

func ptr[T any](v T) *T { return &v }

// baseInput is the Go twin of credit_test.rego's base: a good class B client with fresh solvency
// data asking for 30 days on 10,000.00 with 50,000.00 already exposed.
func baseInput() *Input {
	return &Input{
		Now:   time.Date(2026, 3, 2, 10, 15, 0, 0, time.UTC),
		Today: ledger.DateOf(2026, 3, 2),
		Quote: Quote{QuoteID: "Q-1001", Amount: 10000_00, Currency: "EUR", RequestedTermsDays: 30},
		Client: Client{ClientID: "C-42", Name: "Ateliers Dupont SAS", RegistrationID: ptr("552100554"),
			Country: ptr("FR"), Sector: ptr("25.62")},
		Score:   Score{Value: 710, RiskClass: ClassB, PD: 0.012, ModelVersion: "scorecard-2026.1"},
		Metrics: Metrics{OpenAR: 50000_00, OverdueRate: ptr(0.0), WeightedDBT12m: ptr(2.5), PaidCount12m: 24, DSO: ptr(38.5)},
		Solvency: Solvency{Available: true, AsOf: ptr(ledger.DateOf(2026, 2, 20)), CompanyStatus: CompanyActive,
			Grade: ptr(3), NegativeEquity: ptr(false)},
		Sanctions: Sanctions{Status: SanctionsClear},
		Exposure:  Exposure{OpenAR: 50000_00, Total: 50000_00},
	}
}

func TestCompileDefaultPolicy(t *testing.T) {
	modules, data := MustReadPolicies(t)
	e, err := Compile(context.Background(), modules, data, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.Hash(), "sha256:") || len(e.Hash()) != len("sha256:")+64 {
		t.Errorf("hash %q", e.Hash())
	}
	if e.EvalTimeout() != DefaultEvalTimeout {
		t.Errorf("timeout %v, want %v", e.EvalTimeout(), DefaultEvalTimeout)
	}
	if _, ok := modules["credit.rego"]; !ok {
		t.Errorf("modules %v lack credit.rego", len(modules))
	}
	if _, ok := modules["credit_test.rego"]; !ok {
		t.Errorf("modules lack credit_test.rego")
	}
	if want, _ := ContentHash(modules, data); e.Hash() != want {
		t.Errorf("hash %s, ContentHash %s", e.Hash(), want)
	}
}

func TestCompileEvalTimeoutOption(t *testing.T) {
	e := MustCompileDecision(t, "package credo.credit\ndecision := 1\n", Options{EvalTimeout: 7 * time.Millisecond})
	if e.EvalTimeout() != 7*time.Millisecond {
		t.Errorf("timeout %v", e.EvalTimeout())
	}
}

// TestValueMatchesJSON: the hand-built OPA value is the value of the JSON document the integrator
// logs, so Evaluate and EvaluateJSON of the log see the same input.
func TestValueMatchesJSON(t *testing.T) {
	withEverything := baseInput()
	withEverything.Now = time.Date(2026, 3, 2, 10, 15, 0, 123456789, time.UTC)
	withEverything.Score.PD = 1e-7
	withEverything.Score.Value = 1e21
	withEverything.Score.Reasons = []ScoreReason{{Code: "DBT", Text: "late \"payer\" — été", PointsLost: 12.25}}
	withEverything.Metrics.OverdueRate = nil
	withEverything.Metrics.DSO = ptr(123456.789)
	withEverything.Solvency.RecommendedLimit = ptr(ledger.Money(12345_67))
	withEverything.Solvency.Insolvency = Insolvency{Open: true, Kind: ptr("sauvegarde"), JudgmentDate: ptr(ledger.DateOf(2025, 12, 1))}
	withEverything.Sanctions.Hits = []SanctionsHit{{EntryID: "36", List: "ofac", MatchedName: "AEROCARIBBEAN AIRLINES", Score: 0.93}}
	withEverything.Client = Client{ClientID: "x", Name: "y"}
	approve, _ := MustLoadInput(t, "input_approve.json")
	match, _ := MustLoadInput(t, "input_potential_match.json")

	for name, in := range map[string]*Input{
		"base": baseInput(), "everything": withEverything, "approve": approve, "potential match": match,
	} {
		t.Run(name, func(t *testing.T) {
			raw, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ast.ValueFromReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			got := in.Value()
			// String compares numbers digit for digit, which Compare would not.
			if got.String() != want.String() {
				t.Errorf("Value()\n%s\nJSON\n%s", got, want)
			}
		})
	}
}

func TestEvaluateJSONReplaysEvaluate(t *testing.T) {
	e := MustCompileDefault(t)
	for _, name := range []string{"input_approve.json", "input_potential_match.json", "input_insolvency.json"} {
		t.Run(name, func(t *testing.T) {
			in, raw := MustLoadInput(t, name)
			live := e.Evaluate(context.Background(), in)
			if live.Err != nil {
				t.Fatalf("live: %v", live.Err)
			}
			logged, err := json.Marshal(in)
			if err != nil {
				t.Fatal(err)
			}
			for what, doc := range map[string][]byte{"file": raw, "marshalled": logged} {
				replay := e.EvaluateJSON(context.Background(), doc)
				if replay.Err != nil {
					t.Fatalf("%s: %v", what, replay.Err)
				}
				if !sameResult(live, replay) {
					t.Errorf("%s: replay %+v, live %+v", what, replay, live)
				}
			}
		})
	}
}

func sameResult(a, b Result) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb) && errors.Is(a.Err, b.Err)
}

func TestEvaluateExamples(t *testing.T) {
	e := MustCompileDefault(t)
	tests := []struct {
		file    string
		outcome Outcome
		limit   ledger.Money
		terms   PaymentTerms
		codes   []string
	}{
		{"input_approve.json", OutcomeApprove, 150000_00, PaymentTerms{NetDays: 45, EndOfMonth: true},
			[]string{"LIMIT_CAPPED_BY_BUREAU", "WITHIN_LIMIT"}},
		{"input_potential_match.json", OutcomeReview, 75000_00, PaymentTerms{NetDays: 30},
			[]string{"SANCTIONS_POTENTIAL_MATCH", "WITHIN_LIMIT"}},
		{"input_insolvency.json", OutcomeDeny, 0, PaymentTerms{DepositPercent: 100},
			[]string{"INSOLVENCY_OPEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			in, _ := MustLoadInput(t, tt.file)
			r := e.Evaluate(context.Background(), in)
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if r.Outcome != tt.outcome || r.CreditLimit != tt.limit || r.PaymentTerms != tt.terms {
				t.Errorf("got %s %s %+v, want %s %s %+v", r.Outcome, r.CreditLimit, r.PaymentTerms, tt.outcome, tt.limit, tt.terms)
			}
			if got := reasonCodes(r); strings.Join(got, ",") != strings.Join(tt.codes, ",") {
				t.Errorf("reasons %v, want %v", got, tt.codes)
			}
			for _, reason := range r.Reasons {
				if len(reason.Message) < 20 {
					t.Errorf("reason %s has a terse message %q", reason.Code, reason.Message)
				}
			}
		})
	}
}

func reasonCodes(r Result) []string {
	out := make([]string, len(r.Reasons))
	for i, reason := range r.Reasons {
		out[i] = reason.Code
	}
	return out
}

func TestCompileErrorUnwrapsToFault(t *testing.T) {
	_, err := Compile(context.Background(), map[string]string{"p.rego": "package credo.credit\ndecision := {\n"}, []byte(`{}`), Options{DataSchema: []byte(`{}`)})
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("error %T %v, want *CompileError", err, err)
	}
	if fault.Code(err) != fault.Invalid {
		t.Errorf("fault code %q, want %q", fault.Code(err), fault.Invalid)
	}
	var fe *fault.Error
	if !errors.As(err, &fe) || len(fe.Fields) != len(ce.Diagnostics) || fe.Fields[0].Field != "p.rego" || fe.Fields[0].Line == 0 {
		t.Errorf("fault fields %+v for %+v", fe, ce.Diagnostics)
	}
}

func MustReadFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEvaluateConcurrently: one Engine serves every request; run with -race.
func TestEvaluateConcurrently(t *testing.T) {
	e := MustCompileDefault(t)
	names := []string{"input_approve.json", "input_potential_match.json", "input_insolvency.json"}
	inputs := make([]*Input, len(names))
	want := make([]Result, len(names))
	for i, n := range names {
		inputs[i], _ = MustLoadInput(t, n)
		want[i] = e.Evaluate(context.Background(), inputs[i])
	}
	errs := make(chan string, 64)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for k := range 25 {
				i := (g + k) % len(inputs)
				if got := e.Evaluate(context.Background(), inputs[i]); !sameResult(got, want[i]) {
					errs <- fmt.Sprintf("%s: %+v, want %+v", names[i], got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}
