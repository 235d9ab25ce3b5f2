package decision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

func MustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// faultFields lists the fields of a fault validation error with their messages.
func faultFields(err error) []string {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		return nil
	}
	out := make([]string, len(fe.Fields))
	for i, f := range fe.Fields {
		out[i] = f.Field + ": " + f.Message
	}
	return out
}

func TestInputSchemaAcceptsExamples(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"input_approve.json", "input_potential_match.json", "input_insolvency.json"} {
		in, raw := MustLoadInput(t, name)
		if err := ValidateInputJSON(ctx, raw); err != nil {
			t.Errorf("%s: schema: %v %v", name, err, faultFields(err))
		}
		if err := in.Validate(); err != nil {
			t.Errorf("%s: Validate: %v %v", name, err, faultFields(err))
		}
		if err := ValidateInputJSON(ctx, MustMarshal(t, in)); err != nil {
			t.Errorf("%s re-marshalled: %v %v", name, err, faultFields(err))
		}
	}
	if err := ValidateInputJSON(ctx, MustMarshal(t, baseInput())); err != nil {
		t.Errorf("base input (nil slices): %v %v", err, faultFields(err))
	}
}

// TestInputSchemaAndValidateAgree: each broken input is refused by the JSON schema and by
// Input.Validate alike, on the same field.
func TestInputSchemaAndValidateAgree(t *testing.T) {
	tests := []struct {
		field string
		edit  func(*Input)
	}{
		{"quote.amount_cents", func(in *Input) { in.Quote.Amount = 0 }},
		{"quote.amount_cents", func(in *Input) { in.Quote.Amount = -5 }},
		{"quote.amount_cents", func(in *Input) { in.Quote.Amount = ledger.MaxAmount + 1 }},
		{"quote.currency", func(in *Input) { in.Quote.Currency = "eur" }},
		{"quote.requested_terms_days", func(in *Input) { in.Quote.RequestedTermsDays = 366 }},
		{"quote.quote_id", func(in *Input) { in.Quote.QuoteID = "" }},
		{"client.client_id", func(in *Input) { in.Client.ClientID = "has space" }},
		{"client.country", func(in *Input) { in.Client.Country = ptr("France") }},
		{"score.risk_class", func(in *Input) { in.Score.RiskClass = "F" }},
		{"score.pd", func(in *Input) { in.Score.PD = 1.5 }},
		{"metrics.overdue_cents", func(in *Input) { in.Metrics.Overdue = -1 }},
		{"metrics.max_days_overdue", func(in *Input) { in.Metrics.MaxDaysOverdue = -3 }},
		{"metrics.overdue_rate", func(in *Input) { in.Metrics.OverdueRate = ptr(2.0) }},
		{"solvency.company_status", func(in *Input) { in.Solvency.CompanyStatus = "dissolved" }},
		{"solvency.grade", func(in *Input) { in.Solvency.Grade = ptr(11) }},
		{"solvency.recommended_limit_cents", func(in *Input) { in.Solvency.RecommendedLimit = ptr(ledger.Money(-100)) }},
		{"sanctions.status", func(in *Input) { in.Sanctions.Status = "maybe" }},
		{"sanctions.hits.0.score", func(in *Input) {
			in.Sanctions.Hits = []SanctionsHit{{EntryID: "1", List: "un", MatchedName: "X", Score: 1.2}}
		}},
		{"exposure.reserved_cents", func(in *Input) { in.Exposure.Reserved = -1; in.Exposure.Total-- }},
		{"now", func(in *Input) { in.Now = in.Now.In(time.FixedZone("CET", 3600)) }},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			in := baseInput()
			tt.edit(in)
			schemaErr := ValidateInputJSON(ctx, MustMarshal(t, in))
			if !strings.Contains(" "+strings.Join(faultFields(schemaErr), " "), " "+tt.field+":") {
				t.Errorf("schema: fields %v, want %s (%v)", faultFields(schemaErr), tt.field, schemaErr)
			}
			// Validate names array items without their index.
			want := strings.Replace(tt.field, ".0.", ".", 1)
			if fields := faultFields(in.Validate()); !strings.Contains(" "+strings.Join(fields, " "), " "+want+":") {
				t.Errorf("Validate: fields %v, want %s", fields, want)
			}
		})
	}
}

func TestInputSchemaRefusesBrokenDocuments(t *testing.T) {
	_, raw := MustLoadInput(t, "input_approve.json")
	doc := string(raw)
	tests := []struct {
		name, old, new, field string
	}{
		{"fractional cents", `"amount_cents": 1845000`, `"amount_cents": 1845000.5`, "quote.amount_cents"},
		{"amount in euros", `"amount_cents": 1845000`, `"amount": 18450.00`, "quote"},
		{"amount as text", `"amount_cents": 1845000`, `"amount_cents": "1845000"`, "quote.amount_cents"},
		{"missing section", `"sanctions": {"status": "clear", "hits": []},`, ``, "sanctions is required"},
		{"unknown field", `"is_new": false`, `"is_new": false, "vip": true`, "client"},
		{"null hits", `"hits": []`, `"hits": null`, "sanctions.hits"},
		{"date not a date", `"as_of": "2026-02-14"`, `"as_of": "14/02/2026"`, "solvency.as_of"},
		{"terms as a float", `"requested_terms_days": 45`, `"requested_terms_days": 45.5`, "quote.requested_terms_days"},
		{"now without zone", `"now": "2026-03-02T10:15:00Z"`, `"now": "2026-03-02T10:15:00"`, "now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			broken := strings.Replace(doc, tt.old, tt.new, 1)
			if broken == doc {
				t.Fatal("the case changes nothing")
			}
			err := ValidateInputJSON(context.Background(), []byte(broken))
			if fault.Code(err) != fault.Invalid || !strings.Contains(strings.Join(faultFields(err), " "), tt.field) {
				t.Errorf("error %v fields %v, want %s", err, faultFields(err), tt.field)
			}
		})
	}
	if err := ValidateInputJSON(context.Background(), []byte(`{"now":`)); fault.Code(err) != fault.Invalid {
		t.Errorf("truncated JSON: %v", err)
	}
}

// TestOutputSchema: what the default policy answers, for every outcome, matches
// policies/schema/output.json, as does the fail-safe answer written in the policy's shape; broken
// results do not.
func TestOutputSchema(t *testing.T) {
	ctx := context.Background()
	e := MustCompileDefault(t)
	inputs := map[string]func(*Input){
		"approve": func(*Input) {},
		"deny":    func(in *Input) { in.Sanctions.Status = SanctionsConfirmed },
		"review":  func(in *Input) { in.Quote.RequestedTermsDays = 90; in.Quote.EndOfMonth = true },
		"advance": func(in *Input) { in.Score.RiskClass = ClassE },
	}
	for name, edit := range inputs {
		in := baseInput()
		edit(in)
		out, err := e.full.eval(ctx, ast.NewTerm(in.Value()), time.Minute)
		if err != nil || out == nil {
			t.Fatalf("%s: %v %v", name, out, err)
		}
		doc := []byte(out.String())
		if err := ValidateResultJSON(ctx, doc); err != nil {
			t.Errorf("%s: %s breaks the output schema: %v %v", name, doc, err, faultFields(err))
		}
	}
	fs := failSafe(ErrEvaluation)
	failSafeDoc := fmt.Sprintf(`{"outcome": %q, "credit_limit_cents": %d, "payment_terms": {"net_days": %d, "end_of_month": %t, "deposit_percent": %d}, "reasons": [{"code": %q, "message": %q}]}`,
		fs.Outcome, int64(fs.CreditLimit), fs.PaymentTerms.NetDays, fs.PaymentTerms.EndOfMonth, fs.PaymentTerms.DepositPercent, fs.Reasons[0].Code, fs.Reasons[0].Message)
	if err := ValidateResultJSON(ctx, []byte(failSafeDoc)); err != nil {
		t.Errorf("fail-safe answer %s breaks the output schema: %v %v", failSafeDoc, err, faultFields(err))
	}
	for _, bad := range []string{
		strings.Replace(good, `"approve"`, `"maybe"`, 1),
		strings.Replace(good, `100050`, `-3`, 1),
		strings.Replace(good, `100050`, `1000.50`, 1),
		strings.Replace(good, `"credit_limit_cents"`, `"credit_limit"`, 1),
		strings.Replace(good, `"net_days": 30`, `"net_days": 366`, 1),
		strings.Replace(good, `"deposit_percent": 0`, `"deposit_percent": 100.5`, 1),
		strings.Replace(good, `"code": "OK"`, `"code": "ok"`, 1),
		strings.Replace(strings.Replace(good, `"approve"`, `"deny"`, 1), `[{"code": "OK", "message": "fine"}]`, `[]`, 1),
		`{"outcome": "approve"}`,
	} {
		if err := ValidateResultJSON(ctx, []byte(bad)); fault.Code(err) != fault.Invalid {
			t.Errorf("%s passes the output schema", bad)
		}
	}
	if err := ValidateResultJSON(ctx, []byte(good)); err != nil {
		t.Errorf("good result refused: %v %v", err, faultFields(err))
	}
}

func TestJSONPositions(t *testing.T) {
	doc := []byte("{\n  \"a\": {\"b\": [10,\n    {\"c\": 1}]},\n  \"d\": null\n}")
	pos := jsonPositions(doc)
	want := map[string]position{"a": {2, 3}, "a.b": {2, 9}, "a.b.0": {2, 15}, "a.b.1": {3, 5}, "a.b.1.c": {3, 6}, "d": {4, 3}}
	for k, w := range want {
		if pos[k] != w {
			t.Errorf("%s at %v, want %v", k, pos[k], w)
		}
	}
	if len(pos) != len(want) {
		t.Errorf("positions %v", pos)
	}
}
