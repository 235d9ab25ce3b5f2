package receivables

import (
	"math/big"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// Forecast horizon (the default and the largest accepted) and bucket width, in days.
const (
	DefaultHorizonDays = 90
	MaxHorizonDays     = 730
	bucketDays         = 7
	// minPaidForOwnDBT is the number of invoices paid in the last year a client needs for its own
	// weighted dbt to be trusted in the forecast; below it the portfolio's is used.
	minPaidForOwnDBT = 3
)

// ForecastResult is when the receivables open at D are expected to be collected.
type ForecastResult struct {
	// AsOf is D.
	AsOf ledger.Date `json:"as_of"`
	// HorizonDays is the number of days after D the buckets cover (D+1 through D+HorizonDays).
	HorizonDays int `json:"horizon_days"`
	// Total is every invoice open at D, within the horizon or beyond it.
	Total ForecastAmount `json:"total"`
	// Buckets are consecutive 7-day periods from D+1; the last one ends at D+HorizonDays and is
	// shorter when the horizon is not a multiple of 7.
	Buckets []ForecastBucket `json:"buckets"`
	// Beyond is what is expected after D+HorizonDays.
	Beyond ForecastAmount `json:"beyond"`
}

// ForecastAmount is an expected amount and the number of invoices it comes from.
type ForecastAmount struct {
	Amount       ledger.Money `json:"amount"`
	InvoiceCount int          `json:"invoice_count"`
}

// ForecastBucket is what is expected in the days From through To, both included.
type ForecastBucket struct {
	From ledger.Date `json:"from"`
	To   ledger.Date `json:"to"`
	ForecastAmount
}

// Forecast expects each invoice open at D on its due date plus its client's weighted_dbt_12m
// rounded to whole days (half away from zero), or plus Facts.FallbackDBT when the client has fewer
// than 3 invoices in Facts.Paid, and never before D+1. horizonDays must be 1 to 730.
func Forecast(f Facts, horizonDays int) (ForecastResult, error) {
	if horizonDays < 1 || horizonDays > MaxHorizonDays {
		return ForecastResult{}, fault.Validation("invalid forecast horizon",
			fault.Field("horizon_days", "must be a whole number of days from 1 to %d", MaxHorizonDays))
	}
	d := f.AsOf
	r := ForecastResult{AsOf: d, HorizonDays: horizonDays}
	first, last := d.AddDays(1), d.AddDays(horizonDays)
	for from := first; from <= last; from = from.AddDays(bucketDays) {
		r.Buckets = append(r.Buckets, ForecastBucket{From: from, To: min(from.AddDays(bucketDays-1), last)})
	}

	fallback := 0
	if f.FallbackDBT != nil {
		fallback = roundFloatDays(*f.FallbackDBT)
	}
	delays := clientDelays(f.Paid)
	for _, it := range f.Open {
		delay, ok := delays[it.ClientID]
		if !ok {
			delay = fallback
		}
		expected := max(it.DueDate.AddDays(delay), first)
		target := &r.Beyond
		if expected <= last {
			target = &r.Buckets[int(expected-first)/bucketDays].ForecastAmount
		}
		target.Amount += it.Balance
		target.InvoiceCount += it.Count
		r.Total.Amount += it.Balance
		r.Total.InvoiceCount += it.Count
	}
	return r, nil
}

// clientDelays is each client's weighted dbt in whole days, for the clients with enough paid
// invoices to use their own.
func clientDelays(paid []PaidGroup) map[string]int {
	totals := make(map[string]*paidTotals)
	for _, g := range paid {
		t := totals[g.ClientID]
		if t == nil {
			t = &paidTotals{}
			totals[g.ClientID] = t
		}
		t.add(g)
	}
	delays := make(map[string]int, len(totals))
	for id, t := range totals {
		if t.count >= minPaidForOwnDBT && !t.amount.isZero() {
			delays[id] = roundDays(t.amtDBT.big(), t.amount.big())
		}
	}
	return delays
}

// WeightedDBT is the amount-weighted mean dbt of the groups (weighted_dbt_12m of their scope),
// unrounded, for Facts.FallbackDBT; nil when they hold no amount.
func WeightedDBT(paid []PaidGroup) *float64 {
	var t paidTotals
	for _, g := range paid {
		t.add(g)
	}
	if t.amount.big().Sign() <= 0 {
		return nil
	}
	v, _ := new(big.Rat).SetFrac(t.amtDBT.big(), t.amount.big()).Float64()
	return &v
}
