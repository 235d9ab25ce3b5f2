package decision

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/credorisk/credo/internal/ledger"
)

// Value builds the input as an OPA value directly, without a JSON round trip: this is the hot
// path of every quote. It gives the same value as parsing the document's JSON encoding
// (MarshalJSON), which the tests check, so a logged document replays to the same decision.
func (in *Input) Value() ast.Value {
	c := in.clientTerms()
	r := in.requestTerms()
	return inputObject(&c, &r)
}

// clientTerms are the sections of the input that describe the client and change rarely (client,
// score, metrics, solvency, sanctions): the engine builds them once per client state and
// pre-evaluates the policy on them (engine_residual.go).
type clientTerms [5]*ast.Term

// requestTerms are the sections that change with every quote: now, today, quote, exposure.
type requestTerms [4]*ast.Term

// clientSections and requestSections name the sections of clientTerms and requestTerms, in order.
var (
	clientSections  = [5]string{"client", "score", "metrics", "solvency", "sanctions"}
	requestSections = [4]string{"now", "today", "quote", "exposure"}
)

func inputObject(c *clientTerms, r *requestTerms) ast.Object {
	var pairs [9][2]*ast.Term
	for i, t := range c {
		pairs[i] = kv(clientSections[i], t)
	}
	for i, t := range r {
		pairs[len(c)+i] = kv(requestSections[i], t)
	}
	return ast.NewObject(pairs[:]...)
}

func (in *Input) clientTerms() clientTerms {
	c, s, m, sv := &in.Client, &in.Score, &in.Metrics, &in.Solvency
	return clientTerms{
		obj(
			kv("client_id", str(c.ClientID)),
			kv("name", str(c.Name)),
			kv("registration_id", optStr(c.RegistrationID)),
			kv("country", optStr(c.Country)),
			kv("sector", optStr(c.Sector)),
			kv("is_new", ast.InternedTerm(c.IsNew)),
		),
		obj(
			kv("value", float(s.Value)),
			kv("risk_class", str(string(s.RiskClass))),
			kv("pd", float(s.PD)),
			kv("model_version", str(s.ModelVersion)),
			kv("reasons", scoreReasons(s.Reasons)),
		),
		obj(
			kv("open_ar_cents", cents(m.OpenAR)),
			kv("overdue_cents", cents(m.Overdue)),
			kv("overdue_rate", optFloat(m.OverdueRate)),
			kv("max_days_overdue", integer(m.MaxDaysOverdue)),
			kv("weighted_dbt_12m", optFloat(m.WeightedDBT12m)),
			kv("paid_count_12m", integer(m.PaidCount12m)),
			kv("dso", optFloat(m.DSO)),
		),
		obj(
			kv("available", ast.InternedTerm(sv.Available)),
			kv("stale", ast.InternedTerm(sv.Stale)),
			kv("as_of", optDate(sv.AsOf)),
			kv("company_status", str(string(sv.CompanyStatus))),
			kv("insolvency", obj(
				kv("open", ast.InternedTerm(sv.Insolvency.Open)),
				kv("kind", optStr(sv.Insolvency.Kind)),
				kv("judgment_date", optDate(sv.Insolvency.JudgmentDate)),
			)),
			kv("grade", optInt(sv.Grade)),
			kv("recommended_limit_cents", optCents(sv.RecommendedLimit)),
			kv("negative_equity", optBool(sv.NegativeEquity)),
		),
		obj(
			kv("status", str(string(in.Sanctions.Status))),
			kv("hits", sanctionsHits(in.Sanctions.Hits)),
		),
	}
}

func (in *Input) requestTerms() requestTerms {
	q, e := &in.Quote, &in.Exposure
	return requestTerms{
		str(in.Now.Format(time.RFC3339Nano)),
		str(in.Today.String()),
		obj(
			kv("quote_id", str(q.QuoteID)),
			kv("amount_cents", cents(q.Amount)),
			kv("currency", str(q.Currency)),
			kv("requested_terms_days", integer(q.RequestedTermsDays)),
			kv("end_of_month", ast.InternedTerm(q.EndOfMonth)),
			kv("open_orders_amount_cents", cents(q.OpenOrdersAmount)),
		),
		obj(
			kv("open_ar_cents", cents(e.OpenAR)),
			kv("overdue_cents", cents(e.Overdue)),
			kv("reserved_cents", cents(e.Reserved)),
			kv("open_orders_cents", cents(e.OpenOrders)),
			kv("total_cents", cents(e.Total)),
		),
	}
}

func scoreReasons(rs []ScoreReason) *ast.Term {
	terms := make([]*ast.Term, len(rs))
	for i, r := range rs {
		terms[i] = obj(
			kv("code", str(r.Code)),
			kv("text", str(r.Text)),
			kv("points_lost", float(r.PointsLost)),
		)
	}
	return ast.ArrayTerm(terms...)
}

func sanctionsHits(hs []SanctionsHit) *ast.Term {
	terms := make([]*ast.Term, len(hs))
	for i, h := range hs {
		terms[i] = obj(
			kv("entry_id", str(h.EntryID)),
			kv("list", str(h.List)),
			kv("matched_name", str(h.MatchedName)),
			kv("score", float(h.Score)),
		)
	}
	return ast.ArrayTerm(terms...)
}

// inputKeys are the input document's keys, made once: a fresh key term per field and per
// request would be a third of Value's allocations.
var inputKeys = func() map[string]*ast.Term {
	keys := map[string]*ast.Term{}
	for _, k := range strings.Fields(`now today quote quote_id amount_cents currency requested_terms_days
		end_of_month open_orders_amount_cents client client_id name registration_id country sector
		is_new score value risk_class pd model_version reasons code text points_lost metrics
		open_ar_cents overdue_cents overdue_rate max_days_overdue weighted_dbt_12m paid_count_12m dso
		solvency available stale as_of company_status insolvency open kind judgment_date grade
		recommended_limit_cents negative_equity sanctions status hits entry_id list matched_name
		exposure reserved_cents open_orders_cents total_cents`) {
		keys[k] = ast.StringTerm(k)
	}
	return keys
}()

func kv(key string, v *ast.Term) [2]*ast.Term {
	k, ok := inputKeys[key]
	if !ok {
		k = ast.StringTerm(key)
	}
	return [2]*ast.Term{k, v}
}

func obj(pairs ...[2]*ast.Term) *ast.Term { return ast.NewTerm(ast.NewObject(pairs...)) }

func str(s string) *ast.Term { return ast.StringTerm(s) }

func integer(i int) *ast.Term { return ast.InternedTerm(i) }

// cents writes an amount as the integer number of cents the policy reads.
// Small integers such as 0, the most common amount, are interned by OPA.
func cents(m ledger.Money) *ast.Term { return ast.InternedTerm(int64(m)) }

// float writes f as encoding/json does, so Value and the JSON document agree digit for digit.
func float(f float64) *ast.Term {
	if !isFinite(f) {
		// Validate refuses these before evaluation; null keeps Value total.
		return ast.InternedNullTerm
	}
	return ast.NumberTerm(json.Number(formatFloat(f)))
}

func optStr(s *string) *ast.Term {
	if s == nil {
		return ast.InternedNullTerm
	}
	return str(*s)
}

func optFloat(f *float64) *ast.Term {
	if f == nil {
		return ast.InternedNullTerm
	}
	return float(*f)
}

func optInt(i *int) *ast.Term {
	if i == nil {
		return ast.InternedNullTerm
	}
	return integer(*i)
}

func optBool(b *bool) *ast.Term {
	if b == nil {
		return ast.InternedNullTerm
	}
	return ast.InternedTerm(*b)
}

func optCents(m *ledger.Money) *ast.Term {
	if m == nil {
		return ast.InternedNullTerm
	}
	return cents(*m)
}

func optDate(d *ledger.Date) *ast.Term {
	if d == nil {
		return ast.InternedNullTerm
	}
	return str(d.String())
}

// formatFloat is encoding/json's float64 encoding: shortest representation, exponent only for
// very small or very large magnitudes, and "e-07" written as "e-7".
func formatFloat(f float64) string {
	abs := math.Abs(f)
	fmt := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmt = 'e'
	}
	b := strconv.AppendFloat(nil, f, fmt, -1, 64)
	if fmt == 'e' {
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return string(b)
}
