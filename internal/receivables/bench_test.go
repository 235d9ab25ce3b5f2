package receivables

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/credorisk/credo/internal/ledger"
)

// benchAsOf is D for every benchmark. b.Loop starts the timer afresh, so setup is not timed.
var benchAsOf = ledger.DateOf(2025, 6, 30)

// synthClient makes n invoices of one client issued over the two years before benchAsOf, net 30,
// most paid in full between 10 days early and 60 days late, some in two parts, some with a credit
// note, a few written off, and the recent ones still open. The seed makes it repeatable.
func synthClient(id string, n int, seed uint64) []Invoice {
	rng := rand.New(rand.NewPCG(seed, 42))
	invoices := make([]Invoice, 0, n)
	for i := range n {
		issue := benchAsOf.AddDays(-rng.IntN(730))
		due := issue.AddDays(30)
		amount := ledger.Money(1000 + rng.IntN(5_000_00))
		inv := Invoice{ClientID: id, InvoiceID: fmt.Sprintf("%s-%d", id, i), Kind: KindInvoice,
			IssueDate: issue, DueDate: due, Amount: amount, Disputed: rng.IntN(50) == 0}
		settle := due.AddDays(rng.IntN(71) - 10)
		switch r := rng.IntN(100); {
		case r < 70:
			inv.Movements = []Movement{{settle, amount, KindPayment}}
		case r < 85:
			half := amount / 2
			inv.Movements = []Movement{{issue.AddDays(rng.IntN(30)), half, KindPayment}, {settle, amount - half, KindPayment}}
		case r < 95:
			credit := amount / 10
			inv.Movements = []Movement{{issue.AddDays(5), credit, KindCreditNote}, {settle, amount - credit, KindPayment}}
			invoices = append(invoices, Invoice{ClientID: id, Kind: KindCreditNote, IssueDate: issue.AddDays(5), Amount: credit})
		default:
			inv.Movements = []Movement{{settle.AddDays(90), amount, KindWriteOff}}
		}
		invoices = append(invoices, inv)
	}
	return invoices
}

// mergeFacts adds b's facts to a, as the portfolio SQL would return them in one piece.
func mergeFacts(a *Facts, b Facts) {
	a.Open = append(a.Open, b.Open...)
	a.Paid = append(a.Paid, b.Paid...)
	a.Months = append(a.Months, b.Months...)
	a.OpenBeforeWindow += b.OpenBeforeWindow
	a.Issued12m += b.Issued12m
	a.Disputed12m += b.Disputed12m
	a.WrittenOff12m += b.WrittenOff12m
	if b.FirstInvoice != nil && (a.FirstInvoice == nil || *b.FirstInvoice < *a.FirstInvoice) {
		a.FirstInvoice = b.FirstInvoice
	}
}

// portfolioFacts is the facts of 10,000 clients with 100 invoices each (1,000,000 invoices),
// grouped per client as the SQL groups them.
func portfolioFacts(b *testing.B) Facts {
	b.Helper()
	f := Facts{AsOf: benchAsOf}
	for c := range 10_000 {
		mergeFacts(&f, BuildFacts(benchAsOf, synthClient(fmt.Sprintf("C%05d", c), 100, uint64(c)), nil))
	}
	f.FallbackDBT = WeightedDBT(f.Paid)
	return f
}

func BenchmarkBuildFacts5000(b *testing.B) {
	invoices := synthClient("C", 5000, 1)
	for b.Loop() {
		BuildFacts(benchAsOf, invoices, nil)
	}
}

func BenchmarkComputeClient5000(b *testing.B) {
	f := BuildFacts(benchAsOf, synthClient("C", 5000, 1), nil)
	for b.Loop() {
		Compute(f)
	}
	b.ReportMetric(float64(len(f.Open)+len(f.Paid)), "groups")
}

func BenchmarkForecastClient5000(b *testing.B) {
	f := BuildFacts(benchAsOf, synthClient("C", 5000, 1), nil)
	for b.Loop() {
		if _, err := Forecast(f, DefaultHorizonDays); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkComputePortfolio(b *testing.B) {
	f := portfolioFacts(b)
	for b.Loop() {
		Compute(f)
	}
	b.ReportMetric(float64(len(f.Open)+len(f.Paid)), "groups")
}

func BenchmarkForecastPortfolio(b *testing.B) {
	f := portfolioFacts(b)
	for b.Loop() {
		if _, err := Forecast(f, DefaultHorizonDays); err != nil {
			b.Fatal(err)
		}
	}
}
