package decision

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/credorisk/credo/internal/ledger"
)

// TestDefaultPolicyRules checks every rule of policies/credit.rego and its boundaries through
// Evaluate, the path live quotes take (credit_test.rego checks the same from Rego).
func TestDefaultPolicyRules(t *testing.T) {
	e := MustCompileDefault(t)
	advance := PaymentTerms{NetDays: 0, EndOfMonth: false, DepositPercent: 100}
	net30 := PaymentTerms{NetDays: 30}
	exposed := func(total ledger.Money) func(*Input) {
		return func(in *Input) { in.Exposure.OpenAR, in.Exposure.Total = total, total }
	}
	tests := []struct {
		name    string
		edit    func(*Input)
		outcome Outcome
		limit   ledger.Money
		terms   PaymentTerms
		codes   []string // in order
	}{
		{"baseline approves", func(*Input) {}, OutcomeApprove, 200000_00, net30, []string{"WITHIN_LIMIT"}},

		// Deny: nothing granted, only the deny reasons.
		{"confirmed sanctions deny", func(in *Input) { in.Sanctions.Status = SanctionsConfirmed },
			OutcomeDeny, 0, advance, []string{"SANCTIONS_CONFIRMED"}},
		{"open insolvency denies", func(in *Input) { in.Solvency.Insolvency = Insolvency{Open: true, Kind: ptr("liquidation judiciaire")} },
			OutcomeDeny, 0, advance, []string{"INSOLVENCY_OPEN"}},
		{"closed company denies", func(in *Input) { in.Solvency.CompanyStatus = CompanyClosed },
			OutcomeDeny, 0, advance, []string{"COMPANY_CLOSED"}},
		{"unknown company status approves", func(in *Input) { in.Solvency.CompanyStatus = CompanyUnknown },
			OutcomeApprove, 200000_00, net30, []string{"WITHIN_LIMIT"}},
		{"deny wins over review", func(in *Input) {
			in.Solvency.CompanyStatus = CompanyClosed
			exposed(900000_00)(in)
		}, OutcomeDeny, 0, advance, []string{"COMPANY_CLOSED"}},

		// Sanctions screening.
		{"potential match reviews", func(in *Input) { in.Sanctions.Status = SanctionsPotentialMatch },
			OutcomeReview, 200000_00, net30, []string{"SANCTIONS_POTENTIAL_MATCH", "WITHIN_LIMIT"}},
		{"not screened reviews", func(in *Input) { in.Sanctions.Status = SanctionsNotScreened },
			OutcomeReview, 200000_00, net30, []string{"SANCTIONS_NOT_SCREENED", "WITHIN_LIMIT"}},

		// Solvency freshness from 50,000.00 included.
		{"stale solvency, quote one cent under large", func(in *Input) { in.Solvency.Stale = true; in.Quote.Amount = 49999_99 },
			OutcomeApprove, 200000_00, net30, []string{"WITHIN_LIMIT"}},
		{"stale solvency, large quote", func(in *Input) { in.Solvency.Stale = true; in.Quote.Amount = 50000_00 },
			OutcomeReview, 200000_00, net30, []string{"SOLVENCY_STALE", "WITHIN_LIMIT"}},
		{"no solvency data, large quote", func(in *Input) {
			in.Solvency = Solvency{Available: false, CompanyStatus: CompanyUnknown}
			in.Quote.Amount = 50000_00
		}, OutcomeReview, 200000_00, net30, []string{"SOLVENCY_UNAVAILABLE", "WITHIN_LIMIT"}},
		{"no solvency data, small quote", func(in *Input) { in.Solvency = Solvency{Available: false, CompanyStatus: CompanyUnknown} },
			OutcomeApprove, 200000_00, net30, []string{"WITHIN_LIMIT"}},

		// Limit: class table, bureau cap, exposure + quote against it.
		{"class A limit", func(in *Input) { in.Score.RiskClass = ClassA }, OutcomeApprove, 500000_00, net30, []string{"WITHIN_LIMIT"}},
		{"class C limit", func(in *Input) { in.Score.RiskClass = ClassC }, OutcomeApprove, 75000_00, net30, []string{"WITHIN_LIMIT"}},
		{"exposure plus quote at the limit", exposed(190000_00), OutcomeApprove, 200000_00, net30, []string{"WITHIN_LIMIT"}},
		{"exposure plus quote one cent above", exposed(190000_01), OutcomeReview, 200000_00, net30, []string{"LIMIT_EXCEEDED"}},
		{"negative exposure (credit balance)", exposed(-5000_00), OutcomeApprove, 200000_00, net30, []string{"WITHIN_LIMIT"}},
		{"bureau caps the limit", func(in *Input) { in.Solvency.RecommendedLimit = ptr(ledger.Money(80000_50)) },
			OutcomeApprove, 80000_50, net30, []string{"LIMIT_CAPPED_BY_BUREAU", "WITHIN_LIMIT"}},
		{"bureau cap one cent under exposure plus quote", func(in *Input) { in.Solvency.RecommendedLimit = ptr(ledger.Money(59999_99)) },
			OutcomeReview, 59999_99, net30, []string{"LIMIT_EXCEEDED", "LIMIT_CAPPED_BY_BUREAU"}},
		{"bureau equal to class limit does not cap", func(in *Input) { in.Solvency.RecommendedLimit = ptr(ledger.Money(200000_00)) },
			OutcomeApprove, 200000_00, net30, []string{"WITHIN_LIMIT"}},
		{"bureau above class limit ignored", func(in *Input) { in.Solvency.RecommendedLimit = ptr(ledger.Money(900000_00)) },
			OutcomeApprove, 200000_00, net30, []string{"WITHIN_LIMIT"}},

		// Terms: class maximum (review) and French law (cap).
		{"class C at its 45 days", func(in *Input) { in.Score.RiskClass = ClassC; in.Quote.RequestedTermsDays = 45 },
			OutcomeApprove, 75000_00, PaymentTerms{NetDays: 45}, []string{"WITHIN_LIMIT"}},
		{"class C asking 46 days", func(in *Input) { in.Score.RiskClass = ClassC; in.Quote.RequestedTermsDays = 46 },
			OutcomeReview, 75000_00, PaymentTerms{NetDays: 45}, []string{"TERMS_ABOVE_CLASS_MAX", "WITHIN_LIMIT"}},
		{"45 days end of month is legal", func(in *Input) { in.Quote.RequestedTermsDays = 45; in.Quote.EndOfMonth = true },
			OutcomeApprove, 200000_00, PaymentTerms{NetDays: 45, EndOfMonth: true}, []string{"WITHIN_LIMIT"}},
		{"46 days end of month capped to 45", func(in *Input) { in.Quote.RequestedTermsDays = 46; in.Quote.EndOfMonth = true },
			OutcomeApprove, 200000_00, PaymentTerms{NetDays: 45, EndOfMonth: true}, []string{"TERMS_LEGAL_CAP", "WITHIN_LIMIT"}},
		{"60 days net is legal", func(in *Input) { in.Quote.RequestedTermsDays = 60 },
			OutcomeApprove, 200000_00, PaymentTerms{NetDays: 60}, []string{"WITHIN_LIMIT"}},
		{"61 days net: class and law", func(in *Input) { in.Quote.RequestedTermsDays = 61 },
			OutcomeReview, 200000_00, PaymentTerms{NetDays: 60}, []string{"TERMS_ABOVE_CLASS_MAX", "TERMS_LEGAL_CAP", "WITHIN_LIMIT"}},

		// Deposits and payment in advance.
		{"class D deposit", func(in *Input) { in.Score.RiskClass = ClassD; exposed(0)(in) },
			OutcomeApprove, 20000_00, PaymentTerms{NetDays: 30, DepositPercent: 30}, []string{"DEPOSIT_REQUIRED", "WITHIN_LIMIT"}},
		{"class E pays in advance", func(in *Input) { in.Score.RiskClass = ClassE },
			OutcomeApprove, 0, advance, []string{"PAYMENT_IN_ADVANCE_CLASS"}},
		{"60 days overdue keeps credit", func(in *Input) { in.Metrics.MaxDaysOverdue = 60 },
			OutcomeApprove, 200000_00, net30, []string{"WITHIN_LIMIT"}},
		{"61 days overdue pays in advance", func(in *Input) { in.Metrics.MaxDaysOverdue = 61 },
			OutcomeApprove, 200000_00, advance, []string{"PAYMENT_IN_ADVANCE_OVERDUE"}},
		{"class E and overdue: both reasons", func(in *Input) { in.Score.RiskClass = ClassE; in.Metrics.MaxDaysOverdue = 90 },
			OutcomeApprove, 0, advance, []string{"PAYMENT_IN_ADVANCE_CLASS", "PAYMENT_IN_ADVANCE_OVERDUE"}},
		{"advance still reviews a potential match", func(in *Input) { in.Score.RiskClass = ClassE; in.Sanctions.Status = SanctionsPotentialMatch },
			OutcomeReview, 0, advance, []string{"SANCTIONS_POTENTIAL_MATCH", "PAYMENT_IN_ADVANCE_CLASS"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			tt.edit(in)
			r := e.Evaluate(context.Background(), in)
			if r.Err != nil {
				t.Fatalf("fail-safe: %v", r.Err)
			}
			if r.Outcome != tt.outcome || r.CreditLimit != tt.limit || r.PaymentTerms != tt.terms {
				t.Errorf("got %s %s %+v, want %s %s %+v", r.Outcome, r.CreditLimit, r.PaymentTerms, tt.outcome, tt.limit, tt.terms)
			}
			if got := reasonCodes(r); !slices.Equal(got, tt.codes) {
				t.Errorf("reasons %v, want %v", got, tt.codes)
			}
		})
	}
}

// TestReadmeDocumentsThePolicy: every reason code the policy can give and every forbidden builtin
// is in policies/README.md, and the README lists no code the policy does not have.
func TestReadmeDocumentsThePolicy(t *testing.T) {
	readme := MustReadFile(t, "../../policies/README.md")
	modules, _ := MustReadPolicies(t)
	inPolicy := map[string]bool{}
	for _, m := range regexp.MustCompile(`"code": "([A-Z_]+)"`).FindAllStringSubmatch(modules["credit.rego"], -1) {
		inPolicy[m[1]] = true
	}
	if len(inPolicy) < 15 {
		t.Fatalf("found %d codes in credit.rego", len(inPolicy))
	}
	table := regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\| (deny|review|information) \\|")
	inReadme := map[string]bool{}
	for _, m := range table.FindAllStringSubmatch(string(readme), -1) {
		inReadme[m[1]] = true
	}
	for code := range inPolicy {
		if !inReadme[code] {
			t.Errorf("%s is not in the README's rules table", code)
		}
	}
	for code := range inReadme {
		if !inPolicy[code] {
			t.Errorf("the README documents %s, which credit.rego does not give", code)
		}
	}
	for _, f := range forbiddenBuiltins {
		name := strings.TrimSuffix(f.name, ".")
		if !strings.Contains(string(readme), "`"+name) {
			t.Errorf("forbidden builtin %s is not in the README", f.name)
		}
	}
}
