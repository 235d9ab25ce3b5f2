package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/demo"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/postgres/pgtest"
	"github.com/credorisk/credo/internal/receivables"
)

// benchD is D of the one-client benchmark: the last day of its history.
var benchD = ledger.DateOf(2026, 6, 30)

// MustSeedBigClient lands one client with n invoices issued over the two years before benchD
// through the ledger's imports: net 30, most settled in one payment (paid_date) between 10 days
// early and 60 days late, some paid in two instalments, some reduced by a credit note, a few
// written off, the recent ones open. (demo.Generate issues at most one invoice a day per client.)
func MustSeedBigClient(tb testing.TB, svc *ledger.Service, id string, n int) {
	tb.Helper()
	ctx := context.Background()
	if _, _, err := svc.PutClient(ctx, ledger.Client{ClientID: id, Name: "Big Client SA", Country: "FR", Sector: "wholesale"}, "bench"); err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 1))
	var invoices []demo.Invoice
	var payments []ledger.Payment
	var writeOffs []string
	for i := range n {
		issue := benchD.AddDays(-rng.IntN(730))
		inv := demo.Invoice{Invoice: ledger.Invoice{InvoiceID: fmt.Sprintf("%s-%05d", id, i), ClientID: id, Kind: ledger.KindInvoice,
			IssueDate: issue, DueDate: issue.AddDays(30), Amount: ledger.Money(1000 + rng.IntN(500_000)), Currency: "EUR",
			Disputed: rng.IntN(50) == 0}}
		settle := max(inv.DueDate.AddDays(rng.IntN(71)-10), issue.AddDays(1))
		var creditNote []demo.Invoice // listed after its invoice, as the import wants
		switch r := rng.IntN(100); {
		case settle > benchD: // still open
		case r < 75:
			inv.PaidDate = &settle
		case r < 88:
			half := inv.Amount / 2
			first := min(issue.AddDays(1+rng.IntN(30)), settle)
			payments = append(payments,
				ledger.Payment{PaymentID: "P1-" + inv.InvoiceID, ClientID: id, Date: first, Amount: half, Currency: "EUR",
					Allocations: []ledger.Allocation{{InvoiceID: inv.InvoiceID, Amount: half}}},
				ledger.Payment{PaymentID: "P2-" + inv.InvoiceID, ClientID: id, Date: settle, Amount: inv.Amount - half, Currency: "EUR",
					Allocations: []ledger.Allocation{{InvoiceID: inv.InvoiceID, Amount: inv.Amount - half}}})
		case r < 97:
			cn, credit := issue.AddDays(5), inv.Amount/10
			creditNote = append(creditNote, demo.Invoice{Invoice: ledger.Invoice{InvoiceID: inv.InvoiceID + "-CN", ClientID: id,
				Kind: ledger.KindCreditNote, IssueDate: cn, DueDate: cn, Amount: credit, Currency: "EUR", AppliesTo: inv.InvoiceID}})
			payments = append(payments, ledger.Payment{PaymentID: "P-" + inv.InvoiceID, ClientID: id, Date: max(settle, cn),
				Amount: inv.Amount - credit, Currency: "EUR", Allocations: []ledger.Allocation{{InvoiceID: inv.InvoiceID, Amount: inv.Amount - credit}}})
		default:
			if inv.DueDate.AddDays(90) <= benchD {
				writeOffs = append(writeOffs, inv.InvoiceID)
			}
		}
		invoices = append(append(invoices, inv), creditNote...)
	}
	land := func(kind string, write func(*bytes.Buffer) error) {
		var buf bytes.Buffer
		if err := write(&buf); err != nil {
			tb.Fatal(err)
		}
		opts, err := ledger.ParseImportOptions(ledger.ImportParams{Kind: kind, Format: "csv", Atomic: true})
		if err != nil {
			tb.Fatal(err)
		}
		if rep, err := svc.Import(ctx, &buf, opts, "bench", nil); err != nil || rep.Rejected > 0 {
			tb.Fatalf("import %s: %+v %v", kind, rep, err)
		}
	}
	land(ledger.ImportInvoices, func(b *bytes.Buffer) error { return demo.WriteInvoicesCSV(b, invoices) })
	land(ledger.ImportPayments, func(b *bytes.Buffer) error { return demo.WritePaymentsCSV(b, payments) })
	for _, inv := range writeOffs {
		if _, err := svc.WriteOff(ctx, inv, ledger.WriteOff{Date: benchD.AddDays(-30), Reason: "insolvent"}, "bench"); err != nil {
			tb.Fatal(err)
		}
	}
}

// benchLatencies times op b.N times and reports the median and the 99th percentile in ms.
func benchLatencies(b *testing.B, op func() error) {
	b.Helper()
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if err := op(); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	ms := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

// BenchmarkClientMetrics is one client with 5,000 invoices: its facts through the store, then
// Compute (the issue's target: p50 <= 20 ms).
func BenchmarkClientMetrics(b *testing.B) {
	db := pgtest.MustDB(b)
	svc := &ledger.Service{Store: postgres.NewLedger(db, "EUR"), Currency: "EUR"}
	MustSeedBigClient(b, svc, "BIG", 5000)
	if _, err := db.Pool.Exec(context.Background(), "VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	m := postgres.NewMetrics(db)
	ctx := context.Background()
	benchLatencies(b, func() error {
		f, err := m.ClientFacts(ctx, "BIG", benchD, false)
		if receivables.Compute(f).OpenInvoiceCount == 0 {
			return fmt.Errorf("no open invoice: the benchmark measures nothing")
		}
		return err
	})
}

// MustBenchDB opens the benchmark database (mustBenchDB) and returns it with the last issue date
// of its invoices, its statistics and visibility map fresh.
func MustBenchDB(b *testing.B) (*postgres.DB, ledger.Date) {
	b.Helper()
	ctx := context.Background()
	db := mustBenchDB(b)
	var last int32
	if err := db.Pool.QueryRow(ctx, `SELECT max(issue_date) - DATE '1970-01-01' FROM invoices`).Scan(&last); err != nil {
		b.Fatal(err)
	}
	// Right after a bulk import the visibility map is not set yet, and index-only scans would
	// read the heap; autovacuum gets there eventually, this gets there now (no data changes).
	if _, err := db.Pool.Exec(ctx, `VACUUM (ANALYZE) invoices, allocations`); err != nil {
		b.Fatal(err)
	}
	return db, ledger.Date(last)
}

// BenchmarkPortfolioMetrics is the whole portfolio's metrics as of the last day of the bench
// portfolio (the issue's target on 10,000 clients and 1,000,000 invoices: 2 s).
func BenchmarkPortfolioMetrics(b *testing.B) {
	db, d := MustBenchDB(b)
	m := postgres.NewMetrics(db)
	ctx := context.Background()
	benchLatencies(b, func() error {
		f, err := m.PortfolioFacts(ctx, d, "", "", false)
		receivables.Compute(f)
		return err
	})
}

// BenchmarkPortfolioForecast is the portfolio forecast: facts grouped per client.
func BenchmarkPortfolioForecast(b *testing.B) {
	db, d := MustBenchDB(b)
	m := postgres.NewMetrics(db)
	ctx := context.Background()
	benchLatencies(b, func() error {
		f, err := m.PortfolioFacts(ctx, d, "", "", true)
		if err != nil {
			return err
		}
		_, err = receivables.Forecast(f, receivables.DefaultHorizonDays)
		return err
	})
}

// BenchmarkFactsByClient is the scorer's batch: every client's facts as of one date.
func BenchmarkFactsByClient(b *testing.B) {
	db, d := MustBenchDB(b)
	m := postgres.NewMetrics(db)
	ctx := context.Background()
	benchLatencies(b, func() error {
		all, err := m.FactsByClient(ctx, d, nil)
		for _, f := range all {
			receivables.Compute(f)
		}
		return err
	})
}
