package decision

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/credorisk/credo/internal/ledger"
)

// The input document's JSON (policies/schema/input.json) writes every amount as an integer number
// of cents under a name ending in _cents: that is what the policy reads, so the logged document
// replays exactly. The Go types keep ledger.Money, and Exposure keeps its decimal JSON for the
// API; only the input document uses the shapes below.

type quoteDoc struct {
	QuoteID            string `json:"quote_id"`
	AmountCents        int64  `json:"amount_cents"`
	Currency           string `json:"currency"`
	RequestedTermsDays int    `json:"requested_terms_days"`
	EndOfMonth         bool   `json:"end_of_month"`
	OpenOrdersCents    int64  `json:"open_orders_amount_cents"`
}

type metricsDoc struct {
	OpenARCents    int64    `json:"open_ar_cents"`
	OverdueCents   int64    `json:"overdue_cents"`
	OverdueRate    *float64 `json:"overdue_rate"`
	MaxDaysOverdue int      `json:"max_days_overdue"`
	WeightedDBT12m *float64 `json:"weighted_dbt_12m"`
	PaidCount12m   int      `json:"paid_count_12m"`
	DSO            *float64 `json:"dso"`
}

type solvencyDoc struct {
	Available             bool          `json:"available"`
	Stale                 bool          `json:"stale"`
	AsOf                  *ledger.Date  `json:"as_of"`
	CompanyStatus         CompanyStatus `json:"company_status"`
	Insolvency            Insolvency    `json:"insolvency"`
	Grade                 *int          `json:"grade"`
	RecommendedLimitCents *int64        `json:"recommended_limit_cents"`
	NegativeEquity        *bool         `json:"negative_equity"`
}

type exposureDoc struct {
	OpenARCents     int64 `json:"open_ar_cents"`
	OverdueCents    int64 `json:"overdue_cents"`
	ReservedCents   int64 `json:"reserved_cents"`
	OpenOrdersCents int64 `json:"open_orders_cents"`
	TotalCents      int64 `json:"total_cents"`
}

type inputDoc struct {
	Now       time.Time   `json:"now"`
	Today     ledger.Date `json:"today"`
	Quote     quoteDoc    `json:"quote"`
	Client    Client      `json:"client"`
	Score     Score       `json:"score"`
	Metrics   metricsDoc  `json:"metrics"`
	Solvency  solvencyDoc `json:"solvency"`
	Sanctions Sanctions   `json:"sanctions"`
	Exposure  exposureDoc `json:"exposure"`
}

// MarshalJSON writes the input document as the policy reads it: amounts in cents. The decision
// log stores this, and Engine.EvaluateJSON of it gives the decision Evaluate gave.
func (in Input) MarshalJSON() ([]byte, error) {
	q, m, s, e := in.Quote, in.Metrics, in.Solvency, in.Exposure
	doc := inputDoc{
		Now:   in.Now,
		Today: in.Today,
		Quote: quoteDoc{QuoteID: q.QuoteID, AmountCents: int64(q.Amount), Currency: q.Currency,
			RequestedTermsDays: q.RequestedTermsDays, EndOfMonth: q.EndOfMonth, OpenOrdersCents: int64(q.OpenOrdersAmount)},
		Client: in.Client,
		Score:  in.Score,
		Metrics: metricsDoc{OpenARCents: int64(m.OpenAR), OverdueCents: int64(m.Overdue), OverdueRate: m.OverdueRate,
			MaxDaysOverdue: m.MaxDaysOverdue, WeightedDBT12m: m.WeightedDBT12m, PaidCount12m: m.PaidCount12m, DSO: m.DSO},
		Solvency: solvencyDoc{Available: s.Available, Stale: s.Stale, AsOf: s.AsOf, CompanyStatus: s.CompanyStatus,
			Insolvency: s.Insolvency, Grade: s.Grade, NegativeEquity: s.NegativeEquity},
		Sanctions: in.Sanctions,
		Exposure: exposureDoc{OpenARCents: int64(e.OpenAR), OverdueCents: int64(e.Overdue), ReservedCents: int64(e.Reserved),
			OpenOrdersCents: int64(e.OpenOrders), TotalCents: int64(e.Total)},
	}
	if s.RecommendedLimit != nil {
		cents := int64(*s.RecommendedLimit)
		doc.Solvency.RecommendedLimitCents = &cents
	}
	return json.Marshal(doc)
}

// UnmarshalJSON reads an input document written by MarshalJSON (a logged input, a test file).
// It is strict: an unknown field is an error, so a document of another shape is not half read.
func (in *Input) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var doc inputDoc
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("policy input: %w", err)
	}
	q, m, s, e := doc.Quote, doc.Metrics, doc.Solvency, doc.Exposure
	*in = Input{
		Now:   doc.Now,
		Today: doc.Today,
		Quote: Quote{QuoteID: q.QuoteID, Amount: ledger.Money(q.AmountCents), Currency: q.Currency,
			RequestedTermsDays: q.RequestedTermsDays, EndOfMonth: q.EndOfMonth, OpenOrdersAmount: ledger.Money(q.OpenOrdersCents)},
		Client: doc.Client,
		Score:  doc.Score,
		Metrics: Metrics{OpenAR: ledger.Money(m.OpenARCents), Overdue: ledger.Money(m.OverdueCents), OverdueRate: m.OverdueRate,
			MaxDaysOverdue: m.MaxDaysOverdue, WeightedDBT12m: m.WeightedDBT12m, PaidCount12m: m.PaidCount12m, DSO: m.DSO},
		Solvency: Solvency{Available: s.Available, Stale: s.Stale, AsOf: s.AsOf, CompanyStatus: s.CompanyStatus,
			Insolvency: s.Insolvency, Grade: s.Grade, NegativeEquity: s.NegativeEquity},
		Sanctions: doc.Sanctions,
		Exposure: Exposure{OpenAR: ledger.Money(e.OpenARCents), Overdue: ledger.Money(e.OverdueCents), Reserved: ledger.Money(e.ReservedCents),
			OpenOrders: ledger.Money(e.OpenOrdersCents), Total: ledger.Money(e.TotalCents)},
	}
	if s.RecommendedLimitCents != nil {
		limit := ledger.Money(*s.RecommendedLimitCents)
		in.Solvency.RecommendedLimit = &limit
	}
	return nil
}
