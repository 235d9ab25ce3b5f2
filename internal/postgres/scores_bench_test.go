package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/cache"
	"github.com/credorisk/credo/internal/demo"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/postgres/pgtest"
	"github.com/credorisk/credo/internal/scoring"
	"github.com/credorisk/credo/internal/solvency"
	"github.com/credorisk/credo/models"
)

// MustScoreService wires the scoring service as credo does (solvency views included), over db
// and an in-process cache.
func MustScoreService(tb testing.TB, db *postgres.DB) *scoring.Service {
	tb.Helper()
	all, err := scoring.LoadModels(models.FS)
	if err != nil {
		tb.Fatal(err)
	}
	active, err := scoring.Select(all, "")
	if err != nil {
		tb.Fatal(err)
	}
	c, err := cache.Open("", "bench:", cache.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	// The solvency snapshots as serve reads them (none stored here: the read is what counts).
	sol, err := solvency.NewService(solvency.ServiceConfig{Store: postgres.NewSolvency(db)})
	if err != nil {
		tb.Fatal(err)
	}
	svc, err := scoring.NewService(scoring.Config{Models: all, Model: active, Facts: postgres.NewMetrics(db),
		Store: postgres.NewScores(db), Cache: c.Namespace("score", 24*time.Hour), Solvency: sol})
	if err != nil {
		tb.Fatal(err)
	}
	return svc
}

// MustSeedScoredClient lands one client with n invoices issued over the two years before today
// through an invoices import: net 30, 85% settled (paid_date) between 10 days early and 60 days
// late when that date has passed, 2% disputed, the rest open.
func MustSeedScoredClient(tb testing.TB, svc *ledger.Service, id string, n int) {
	tb.Helper()
	ctx := context.Background()
	if _, _, err := svc.PutClient(ctx, ledger.Client{ClientID: id, Name: "Scored Client SA", Country: "FR"}, "bench"); err != nil {
		tb.Fatal(err)
	}
	today := ledger.Today()
	rng := rand.New(rand.NewPCG(11, 3))
	invoices := make([]demo.Invoice, n)
	for i := range invoices {
		issue := today.AddDays(-1 - rng.IntN(730))
		inv := demo.Invoice{Invoice: ledger.Invoice{InvoiceID: fmt.Sprintf("%s-%05d", id, i), ClientID: id, Kind: ledger.KindInvoice,
			IssueDate: issue, DueDate: issue.AddDays(30), Amount: ledger.Money(1000 + rng.IntN(500_000)), Currency: "EUR",
			Disputed: rng.IntN(50) == 0}}
		if paid := max(inv.DueDate.AddDays(rng.IntN(71)-10), issue.AddDays(1)); paid <= today && rng.IntN(100) < 85 {
			inv.PaidDate = &paid
		}
		invoices[i] = inv
	}
	var buf bytes.Buffer
	if err := demo.WriteInvoicesCSV(&buf, invoices); err != nil {
		tb.Fatal(err)
	}
	opts, err := ledger.ParseImportOptions(ledger.ImportParams{Kind: ledger.ImportInvoices, Format: "csv", Atomic: true})
	if err != nil {
		tb.Fatal(err)
	}
	if rep, err := svc.Import(ctx, &buf, opts, "bench", nil); err != nil || rep.Rejected > 0 {
		tb.Fatalf("import: %+v %v", rep, err)
	}
}

// reportLatencies records the median and 99th percentile of took, in ms.
func reportLatencies(b *testing.B, took []time.Duration) {
	b.Helper()
	slices.Sort(took)
	ms := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) / 1000 }
	b.ReportMetric(ms(0.5), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

// BenchmarkScoreUncached is one client with 2,000 invoices scored from Postgres: facts, metrics,
// features, score, the four documents encoded, the history upsert and the cache write (the
// issue's target: 10 ms).
func BenchmarkScoreUncached(b *testing.B) {
	db := pgtest.MustDB(b)
	ledgerSvc := &ledger.Service{Store: postgres.NewLedger(db, "EUR"), Currency: "EUR"}
	MustSeedScoredClient(b, ledgerSvc, "BIG", 2000)
	if _, err := db.Pool.Exec(context.Background(), "VACUUM ANALYZE"); err != nil {
		b.Fatal(err)
	}
	svc := MustScoreService(b, db)
	ctx := context.Background()
	if c, err := svc.Score(ctx, "BIG", true); err != nil || !c.HasInvoices() {
		b.Fatalf("warm-up: %v", err)
	}
	var took []time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if _, err := svc.Score(ctx, "BIG", true); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	reportLatencies(b, took)
}

// BenchmarkRescoreAll is `credo score --all` on the benchmark portfolio, in process with an
// in-process cache (the issue's target on 10,000 clients and 1,000,000 invoices: 60 s).
func BenchmarkRescoreAll(b *testing.B) {
	db := mustBenchDB(b)
	svc := MustScoreService(b, db)
	ctx := context.Background()
	var took []time.Duration
	clients := 0
	b.ResetTimer()
	for b.Loop() {
		sum, err := svc.RescoreAll(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		took, clients = append(took, sum.Duration), sum.Clients
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(took[len(took)/2].Seconds(), "p50-s")
	b.ReportMetric(float64(clients)/took[len(took)/2].Seconds(), "clients/s")
}
