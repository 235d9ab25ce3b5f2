package decision

import (
	"math"
	"regexp"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

var (
	clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	countryPattern  = regexp.MustCompile(`^[A-Z]{2}$`)
)

// maxTermsDays bounds payment terms in the input and the output contracts.
const maxTermsDays = 365

// Validate checks the rules of policies/schema/input.json on the typed document, plus one the
// schema cannot state: Exposure.Total = OpenAR + Reserved + OpenOrders. Evaluate refuses an
// invalid input with the fail-safe answer, so a bug upstream can never turn into an approval.
func (in *Input) Validate() error {
	var v validator
	if in.Now.IsZero() {
		v.add("now", "must be set")
	} else if _, off := in.Now.Zone(); off != 0 {
		v.add("now", "must be in UTC")
	}
	v.date("today", in.Today)

	q := in.Quote
	v.text("quote.quote_id", q.QuoteID, 128)
	if q.Amount <= 0 || q.Amount > ledger.MaxAmount {
		v.add("quote.amount_cents", "must be above 0 and at most %d cents", ledger.MaxAmount)
	}
	if !currencyPattern.MatchString(q.Currency) {
		v.add("quote.currency", "must be an ISO 4217 code such as EUR")
	}
	if q.RequestedTermsDays < 0 || q.RequestedTermsDays > maxTermsDays {
		v.add("quote.requested_terms_days", "must be between 0 and %d", maxTermsDays)
	}
	v.money("quote.open_orders_amount_cents", q.OpenOrdersAmount)

	c := in.Client
	if !clientIDPattern.MatchString(c.ClientID) {
		v.add("client.client_id", "must be 1 to 64 of A-Z a-z 0-9 . _ : -")
	}
	v.text("client.name", c.Name, 0)
	if c.Country != nil && !countryPattern.MatchString(*c.Country) {
		v.add("client.country", "must be an ISO 3166-1 alpha-2 code such as FR, or null")
	}

	s := in.Score
	v.finite("score.value", s.Value)
	switch s.RiskClass {
	case ClassA, ClassB, ClassC, ClassD, ClassE:
	default:
		v.add("score.risk_class", "must be one of A, B, C, D, E")
	}
	v.ratio("score.pd", &s.PD)
	v.text("score.model_version", s.ModelVersion, 0)
	for _, r := range s.Reasons {
		v.text("score.reasons.code", r.Code, 0)
		v.finite("score.reasons.points_lost", r.PointsLost)
	}

	m := in.Metrics
	v.signedMoney("metrics.open_ar_cents", m.OpenAR)
	v.money("metrics.overdue_cents", m.Overdue)
	v.ratio("metrics.overdue_rate", m.OverdueRate)
	if m.MaxDaysOverdue < 0 {
		v.add("metrics.max_days_overdue", "must be at least 0")
	}
	if m.WeightedDBT12m != nil {
		v.finite("metrics.weighted_dbt_12m", *m.WeightedDBT12m)
	}
	if m.PaidCount12m < 0 {
		v.add("metrics.paid_count_12m", "must be at least 0")
	}
	if m.DSO != nil && (!isFinite(*m.DSO) || *m.DSO < 0) {
		v.add("metrics.dso", "must be a number of at least 0, or null")
	}

	sv := in.Solvency
	if sv.AsOf != nil {
		v.date("solvency.as_of", *sv.AsOf)
	}
	switch sv.CompanyStatus {
	case CompanyActive, CompanyClosed, CompanyUnknown:
	default:
		v.add("solvency.company_status", "must be active, closed or unknown")
	}
	if sv.Insolvency.JudgmentDate != nil {
		v.date("solvency.insolvency.judgment_date", *sv.Insolvency.JudgmentDate)
	}
	if sv.Grade != nil && (*sv.Grade < 1 || *sv.Grade > 10) {
		v.add("solvency.grade", "must be between 1 and 10, or null")
	}
	if sv.RecommendedLimit != nil {
		v.money("solvency.recommended_limit_cents", *sv.RecommendedLimit)
	}

	switch in.Sanctions.Status {
	case SanctionsClear, SanctionsPotentialMatch, SanctionsConfirmed, SanctionsNotScreened:
	default:
		v.add("sanctions.status", "must be clear, potential_match, confirmed or not_screened")
	}
	for _, h := range in.Sanctions.Hits {
		v.ratio("sanctions.hits.score", &h.Score)
	}

	e := in.Exposure
	v.signedMoney("exposure.open_ar_cents", e.OpenAR)
	v.money("exposure.overdue_cents", e.Overdue)
	v.money("exposure.reserved_cents", e.Reserved)
	v.money("exposure.open_orders_cents", e.OpenOrders)
	v.signedMoney("exposure.total_cents", e.Total)
	if e.Total != e.OpenAR+e.Reserved+e.OpenOrders {
		v.add("exposure.total_cents", "must equal open_ar_cents + reserved_cents + open_orders_cents (%d)", e.OpenAR+e.Reserved+e.OpenOrders)
	}
	return v.err()
}

// validator collects field errors so a caller sees every problem at once.
type validator struct{ fields []fault.FieldError }

func (v *validator) add(field, format string, args ...any) {
	v.fields = append(v.fields, fault.Field(field, format, args...))
}

func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return fault.Validation("invalid policy input", v.fields...)
}

func (v *validator) text(field, s string, max int) {
	switch {
	case s == "":
		v.add(field, "must not be empty")
	case max > 0 && len(s) > max:
		v.add(field, "must be at most %d bytes", max)
	}
}

func (v *validator) date(field string, d ledger.Date) {
	if d < ledger.MinDate || d > ledger.MaxDate {
		v.add(field, "must be a date between %s and %s", ledger.MinDate, ledger.MaxDate)
	}
}

// money and signedMoney check amounts, which the input document holds in cents.
func (v *validator) money(field string, m ledger.Money) {
	if m < 0 || m > ledger.MaxAmount {
		v.add(field, "must be between 0 and %d cents", ledger.MaxAmount)
	}
}

func (v *validator) signedMoney(field string, m ledger.Money) {
	if m < -ledger.MaxAmount || m > ledger.MaxAmount {
		v.add(field, "must be between -%d and %d cents", ledger.MaxAmount, ledger.MaxAmount)
	}
}

func (v *validator) finite(field string, f float64) {
	if !isFinite(f) {
		v.add(field, "must be a finite number")
	}
}

// ratio checks an optional share between 0 and 1.
func (v *validator) ratio(field string, f *float64) {
	if f != nil && (!isFinite(*f) || *f < 0 || *f > 1) {
		v.add(field, "must be between 0 and 1")
	}
}

func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
