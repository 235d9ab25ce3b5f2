// Package receivables turns a ledger, reduced to a few aggregated facts, into the receivables KPIs
// finance reads (DSO, aging, collection effectiveness, payment behaviour) and a collection
// forecast, exactly and as of any date. It does no I/O: the facts come from SQL in production
// (internal/postgres) and from BuildFacts in tests, which is the reference the SQL is checked against.
package receivables

import (
	"github.com/credorisk/credo/internal/ledger"
)

// Facts is everything Compute and Forecast need about one scope (one client, or a set of clients)
// as of one date D. Every amount is in cents of the base currency. "Invoice" always means a ledger
// row of kind invoice; credit notes enter only through MonthSales and as movements on invoices.
//
// The balance of an invoice at a date X is its amount minus the allocations against it (payments,
// credit notes, write-offs) dated on or before X. An invoice is open at X when it is issued on or
// before X and its balance at X is above zero. Its paid date is defined by PaidDate.
type Facts struct {
	// AsOf is D.
	AsOf ledger.Date
	// Open holds the invoices open at D, grouped by (ClientID, DueDate); groups may come in any order.
	Open []OpenItem
	// OpenBeforeWindow is B: the sum of balances at WindowStart(D)-1 of the invoices open at that
	// date (issued on or before it, balance at it above zero).
	OpenBeforeWindow ledger.Money
	// Months holds net sales per calendar month, for D's month (issue dates from the 1st through D
	// only) and the 23 months before it. A missing month has no sales; months outside that range
	// are ignored.
	Months []MonthSales
	// Paid holds the invoices whose paid date P satisfies D.AddMonths(-12) < P <= D ("paid in the
	// last year"), grouped by (ClientID, DBT, Recent).
	Paid []PaidGroup
	// Issued12m is the sum of the amounts of invoices issued in (D.AddMonths(-12), D].
	Issued12m ledger.Money
	// Disputed12m is the part of Issued12m whose invoices are flagged disputed (as they are now).
	Disputed12m ledger.Money
	// WrittenOff12m is the sum of write-off allocations dated in (D.AddMonths(-12), D] against
	// invoices issued on or before D (also those issued before the year).
	WrittenOff12m ledger.Money
	// FirstInvoice is the earliest issue date of an invoice issued on or before D; nil when none.
	FirstInvoice *ledger.Date
	// FallbackDBT is the whole portfolio's weighted_dbt_12m as of D (see Metrics.WeightedDBT12m):
	// the forecast uses it for clients with fewer than 3 paid invoices in Paid. Nil means 0 days
	// (such invoices are expected on their due date).
	FallbackDBT *float64
}

// OpenItem is one group of invoices open at D with the same client and due date.
type OpenItem struct {
	ClientID string
	DueDate  ledger.Date
	// Balance is the sum of the balances at D of the group's invoices (each above zero).
	Balance ledger.Money
	// Count is the number of invoices in the group.
	Count int
}

// MonthSales is the net sales of one calendar month.
type MonthSales struct {
	// Month is the first day of the month.
	Month ledger.Date
	// Sales is the amounts of invoices issued in the month minus the amounts of credit notes issued
	// in it (by issue date; for D's month only those issued on or before D). It may be negative.
	Sales ledger.Money
}

// PaidGroup is one group of invoices paid in the last year (paid date in (D.AddMonths(-12), D]).
type PaidGroup struct {
	ClientID string
	// DBT is the days beyond terms, paid date minus due date (negative when paid early).
	DBT int
	// Recent is true when the paid date is in (D.AddMonths(-3), D], false when it is in
	// (D.AddMonths(-12), D.AddMonths(-3)].
	Recent bool
	// Count is the number of invoices in the group.
	Count int
	// Amount is the sum of the invoices' amounts as issued (not what was paid): the weight of
	// each invoice in the weighted figures.
	Amount ledger.Money
	// SumDaysToPay is the sum over the group's invoices of paid date minus issue date.
	SumDaysToPay int64
}

// WindowStart is the first day of the window W of D: the 1st of the calendar month two months
// before D's month. W runs from it through D.
func WindowStart(d ledger.Date) ledger.Date { return d.MonthStart().AddMonths(-2) }

// YearAgo is D.AddMonths(-12), the exclusive start of every "12 months" period.
func YearAgo(d ledger.Date) ledger.Date { return d.AddMonths(-12) }

// RecentStart is D.AddMonths(-3), the exclusive start of the recent period of dbt_trend.
func RecentStart(d ledger.Date) ledger.Date { return d.AddMonths(-3) }

// FirstSalesMonth is the first day of the earliest of the 24 months Facts.Months covers.
func FirstSalesMonth(d ledger.Date) ledger.Date { return d.MonthStart().AddMonths(-23) }

// countbackMonths bounds the countback DSO walk (definition 6: stop after 24 months).
const countbackMonths = 24
