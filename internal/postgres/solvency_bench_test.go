package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/postgres/pgtest"
	"github.com/credorisk/credo/internal/solvency"
)

// MustSolvencyBench makes n clients (B-00000...) on a fresh database, each with a BODACC, a
// SIRENE and a bureau snapshot, and returns the service reading them.
func MustSolvencyBench(b *testing.B, n int) (*solvency.Service, *postgres.DB, []string) {
	b.Helper()
	db := pgtest.MustDB(b)
	led := &ledger.Service{Store: postgres.NewLedger(db, "EUR"), Currency: "EUR"}
	var csv strings.Builder
	csv.WriteString("client_id,name,country\n")
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("B-%05d", i)
		fmt.Fprintf(&csv, "%s,Client %d,FR\n", ids[i], i)
	}
	opts, err := ledger.ParseImportOptions(ledger.ImportParams{Kind: ledger.ImportClients, Format: "csv"})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := led.Import(context.Background(), strings.NewReader(csv.String()), opts, "bench", nil); err != nil {
		b.Fatal(err)
	}
	st := postgres.NewSolvency(db)
	now := time.Now().UTC()
	var snaps []solvency.Snapshot
	for _, id := range ids {
		bodacc := fullSnapshot(id, "bodacc", now.Add(-time.Hour))
		sirene := solvency.Snapshot{Provider: "sirene", ClientID: id, FetchedAt: now.Add(-2 * time.Hour), CompanyStatus: solvency.StatusActive,
			CreationDate: bodacc.CreationDate, NAF: "46.90Z", LegalCategory: "5710"}
		bureau := fullSnapshot(id, "bureau", now.Add(-3*time.Hour))
		bureau.Insolvency = solvency.Insolvency{}
		snaps = append(snaps, bodacc, sirene, bureau)
	}
	if _, err := st.SaveSnapshots(context.Background(), snaps, solvency.SaveInfo{Actor: "bench", Source: solvency.SourceFetch}); err != nil {
		b.Fatal(err)
	}
	svc, err := solvency.NewService(solvency.ServiceConfig{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	return svc, db, ids
}

// BenchmarkSolvencyDecisionRead is what a quote pays for solvency: one Postgres read of the
// client's latest snapshot per provider, and the merge.
func BenchmarkSolvencyDecisionRead(b *testing.B) {
	svc, _, ids := MustSolvencyBench(b, 1000)
	today := ledger.DateFromTime(time.Now())
	i := 0
	for b.Loop() {
		d, err := svc.DecisionSolvency(context.Background(), ids[i%len(ids)], today)
		if err != nil || !d.Insolvency.Open {
			b.Fatalf("%+v %v", d, err)
		}
		i++
	}
}

// BenchmarkSolvencyViews1000 is the batch read a rescore of 1,000 clients makes.
func BenchmarkSolvencyViews1000(b *testing.B) {
	svc, _, ids := MustSolvencyBench(b, 1000)
	for b.Loop() {
		views, err := svc.Views(context.Background(), ids)
		if err != nil || len(views) != len(ids) {
			b.Fatalf("%d views, %v", len(views), err)
		}
	}
}

// BenchmarkSolvencyImport10k imports a bureau export of 10,000 rows (one per client, a new date
// each run so every row lands) and reports rows per second.
func BenchmarkSolvencyImport10k(b *testing.B) {
	svc, _, ids := MustSolvencyBench(b, 10_000)
	run := 0
	for b.Loop() {
		b.StopTimer()
		var csv strings.Builder
		csv.WriteString("client_id;grade;limit;status;date\n")
		date := time.Now().UTC().AddDate(0, 0, -1-run).Format(time.DateOnly)
		for i, id := range ids {
			fmt.Fprintf(&csv, "%s;%d;%d,50;Active;%s\n", id, 1+i%10, 1000+i, date)
		}
		run++
		b.StartTimer()
		rep, err := svc.Import(context.Background(), strings.NewReader(csv.String()), solvency.ImportOptions{
			CSV: solvency.CSVParams{Decimal: ","}, Actor: "bench"})
		if err != nil || rep.Imported != len(ids) {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	b.ReportMetric(float64(len(ids)*b.N)/b.Elapsed().Seconds(), "rows/s")
}
