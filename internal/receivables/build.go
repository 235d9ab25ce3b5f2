package receivables

import (
	"cmp"
	"slices"

	"github.com/credorisk/credo/internal/ledger"
)

// Kinds of ledger rows and of movements, as the ledger names them.
const (
	KindInvoice    = "invoice"
	KindCreditNote = "credit_note"
	KindPayment    = "payment"
	KindWriteOff   = "write_off"
)

// Invoice is one ledger row with its allocations, the raw input of BuildFacts.
type Invoice struct {
	ClientID  string
	InvoiceID string
	// Kind is KindInvoice or KindCreditNote. A credit note's own row only counts in sales, as
	// minus its Amount on its IssueDate; what it settles appears as a movement on the invoices.
	Kind      string
	IssueDate ledger.Date
	DueDate   ledger.Date
	// Amount is positive for both kinds.
	Amount   ledger.Money
	Disputed bool
	// Movements are the allocations against this invoice, in any order.
	Movements []Movement
}

// Movement is one allocation against an invoice: part of a payment, of a credit note or a write-off.
type Movement struct {
	Date   ledger.Date
	Amount ledger.Money
	// Kind is KindPayment, KindCreditNote or KindWriteOff.
	Kind string
}

// BalanceAt is the invoice's amount minus its movements dated on or before d.
func BalanceAt(inv Invoice, d ledger.Date) ledger.Money {
	b := inv.Amount
	for _, mv := range inv.Movements {
		if mv.Date <= d {
			b -= mv.Amount
		}
	}
	return b
}

// PaidDate is the date on which the invoice's balance reached zero (or below) through a payment,
// nil when it is not settled or was settled otherwise. Movements of one date count together, as
// their order within a day is unknown: the invoice is paid on the first date its balance reaches
// zero if that date has a payment and no write-off (a payment and a credit note on the same final
// day: paid; a write-off on the final day: not paid). Zero-amount invoices are never paid.
func PaidDate(inv Invoice) *ledger.Date {
	if inv.Kind != KindInvoice || inv.Amount <= 0 || len(inv.Movements) == 0 {
		return nil
	}
	mvs := slices.Clone(inv.Movements)
	slices.SortStableFunc(mvs, func(a, b Movement) int { return cmp.Compare(a.Date, b.Date) })
	balance := inv.Amount
	for i := 0; i < len(mvs); {
		day := mvs[i].Date
		payment, writeOff := false, false
		for ; i < len(mvs) && mvs[i].Date == day; i++ {
			balance -= mvs[i].Amount
			payment = payment || mvs[i].Kind == KindPayment
			writeOff = writeOff || mvs[i].Kind == KindWriteOff
		}
		if balance <= 0 {
			if payment && !writeOff {
				return &day
			}
			return nil
		}
	}
	return nil
}

type openKey struct {
	client string
	due    ledger.Date
}

type paidKey struct {
	client string
	dbt    int
	recent bool
}

// BuildFacts reduces raw ledger rows to Facts as of asOf, by the definitions on Facts. It is the
// reference the SQL that builds facts in production is checked against. Rows issued after asOf
// count nowhere. Groups come sorted (Open by client then due date, Paid by client, dbt, recent;
// Months by month) so that results compare equal.
func BuildFacts(asOf ledger.Date, invoices []Invoice, fallbackDBT *float64) Facts {
	d := asOf
	f := Facts{AsOf: d, FallbackDBT: fallbackDBT}
	beforeWindow := WindowStart(d) - 1
	yearAgo, recentStart, firstMonth := YearAgo(d), RecentStart(d), FirstSalesMonth(d)
	open := make(map[openKey]*OpenItem)
	paid := make(map[paidKey]*PaidGroup)
	months := make(map[ledger.Date]ledger.Money)

	for _, inv := range invoices {
		if inv.IssueDate > d {
			continue
		}
		if inv.Kind == KindCreditNote {
			if inv.IssueDate >= firstMonth {
				months[inv.IssueDate.MonthStart()] -= absMoney(inv.Amount)
			}
			continue
		}
		if inv.Kind != KindInvoice {
			continue
		}
		if f.FirstInvoice == nil || inv.IssueDate < *f.FirstInvoice {
			first := inv.IssueDate
			f.FirstInvoice = &first
		}
		if inv.IssueDate >= firstMonth {
			months[inv.IssueDate.MonthStart()] += inv.Amount
		}
		if inv.IssueDate > yearAgo {
			f.Issued12m += inv.Amount
			if inv.Disputed {
				f.Disputed12m += inv.Amount
			}
		}
		if bal := BalanceAt(inv, d); bal > 0 {
			k := openKey{inv.ClientID, inv.DueDate}
			it := open[k]
			if it == nil {
				it = &OpenItem{ClientID: inv.ClientID, DueDate: inv.DueDate}
				open[k] = it
			}
			it.Balance += bal
			it.Count++
		}
		if inv.IssueDate <= beforeWindow {
			if bal := BalanceAt(inv, beforeWindow); bal > 0 {
				f.OpenBeforeWindow += bal
			}
		}
		for _, mv := range inv.Movements {
			if mv.Kind == KindWriteOff && mv.Date > yearAgo && mv.Date <= d {
				f.WrittenOff12m += mv.Amount
			}
		}
		if p := PaidDate(inv); p != nil && *p > yearAgo && *p <= d {
			k := paidKey{inv.ClientID, int(*p - inv.DueDate), *p > recentStart}
			g := paid[k]
			if g == nil {
				g = &PaidGroup{ClientID: k.client, DBT: k.dbt, Recent: k.recent}
				paid[k] = g
			}
			g.Count++
			g.Amount += inv.Amount
			g.SumDaysToPay += int64(*p - inv.IssueDate)
		}
	}

	for _, it := range open {
		f.Open = append(f.Open, *it)
	}
	slices.SortFunc(f.Open, func(a, b OpenItem) int {
		return cmp.Or(cmp.Compare(a.ClientID, b.ClientID), cmp.Compare(a.DueDate, b.DueDate))
	})
	for _, g := range paid {
		f.Paid = append(f.Paid, *g)
	}
	slices.SortFunc(f.Paid, func(a, b PaidGroup) int {
		return cmp.Or(cmp.Compare(a.ClientID, b.ClientID), cmp.Compare(a.DBT, b.DBT), compareBool(a.Recent, b.Recent))
	})
	for month, s := range months {
		f.Months = append(f.Months, MonthSales{Month: month, Sales: s})
	}
	slices.SortFunc(f.Months, func(a, b MonthSales) int { return cmp.Compare(a.Month, b.Month) })
	return f
}

func absMoney(m ledger.Money) ledger.Money {
	if m < 0 {
		return -m
	}
	return m
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	default:
		return 1
	}
}
