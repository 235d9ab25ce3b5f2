package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/postgres/pgtest"
	"github.com/credorisk/credo/internal/receivables"
	"github.com/credorisk/credo/internal/scoring"
	"github.com/credorisk/credo/internal/web"
)

var day0 = ledger.DateOf(2026, time.March, 1)

func boardDay(n int) ledger.Date { return day0.AddDays(n) }

// MustBoardLedger fills a fresh database through the ledger service: four clients, invoices partly
// paid, paid, credited and not yet issued at the as-of dates the tests use.
func MustBoardLedger(t *testing.T) (*postgres.DB, *ledger.Service) {
	t.Helper()
	db := pgtest.MustDB(t)
	svc := &ledger.Service{Store: postgres.NewLedger(db, "EUR"), Currency: "EUR"}
	ctx := context.Background()
	for _, id := range []string{"A-1", "B-1", "C-1", "N-1"} {
		if _, _, err := svc.PutClient(ctx, ledger.Client{ClientID: id, Name: "Client " + id, Country: "FR"}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	invoices := []ledger.Invoice{
		{InvoiceID: "I-A1", ClientID: "A-1", IssueDate: boardDay(0), DueDate: boardDay(30), Amount: 100000},
		{InvoiceID: "I-A2", ClientID: "A-1", IssueDate: boardDay(10), DueDate: boardDay(40), Amount: 55555},
		{InvoiceID: "I-B1", ClientID: "B-1", IssueDate: boardDay(5), DueDate: boardDay(35), Amount: 20000},
		{InvoiceID: "I-C1", ClientID: "C-1", IssueDate: boardDay(0), DueDate: boardDay(30), Amount: 70001},
		{InvoiceID: "I-C2", ClientID: "C-1", IssueDate: boardDay(50), DueDate: boardDay(80), Amount: 30000}, // issued after the first as-of
		{InvoiceID: "I-N1", ClientID: "N-1", IssueDate: boardDay(1), DueDate: boardDay(31), Amount: 12345},
		{InvoiceID: "CN-C1", ClientID: "C-1", Kind: "credit_note", IssueDate: boardDay(20), DueDate: boardDay(20), Amount: 1, AppliesTo: "I-C1"},
	}
	for _, inv := range invoices {
		inv.Currency = "EUR"
		if _, _, err := svc.PutInvoice(ctx, inv, "test"); err != nil {
			t.Fatalf("%s: %v", inv.InvoiceID, err)
		}
	}
	payments := []ledger.Payment{
		{PaymentID: "P-A1", ClientID: "A-1", Date: boardDay(25), Amount: 40000, Allocations: []ledger.Allocation{{InvoiceID: "I-A1", Amount: 40000}}},
		{PaymentID: "P-B1", ClientID: "B-1", Date: boardDay(30), Amount: 20000, Allocations: []ledger.Allocation{{InvoiceID: "I-B1", Amount: 20000}}},
	}
	for _, p := range payments {
		p.Currency = "EUR"
		if _, _, err := svc.PutPayment(ctx, p, "test"); err != nil {
			t.Fatalf("%s: %v", p.PaymentID, err)
		}
	}
	return db, svc
}

func boardEntry(client, model string, score int, class string, at time.Time) scoring.HistoryEntry {
	return scoring.HistoryEntry{ClientID: client, ModelVersion: model, Score: score, RiskClass: class, PD: 0.01, ComputedAt: at,
		Features: scoring.Features{}}
}

// MustRecordBoard records scores in the given order, each a separate call (a row per change).
func MustRecordBoard(t *testing.T, db *postgres.DB, es ...scoring.HistoryEntry) {
	t.Helper()
	st := postgres.NewScores(db)
	for _, e := range es {
		if _, err := st.Record(context.Background(), []scoring.HistoryEntry{e}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRiskClasses(t *testing.T) {
	db, _ := MustBoardLedger(t)
	at := time.Date(2026, time.April, 1, 0, 0, 0, 0, time.UTC)
	MustRecordBoard(t, db,
		boardEntry("A-1", "2026.1", 700, "A", at), boardEntry("B-1", "2026.1", 690, "A", at), boardEntry("C-1", "2026.1", 560, "D", at),
		boardEntry("N-1", "2025.9", 600, "C", at)) // another model: N-1 has no score under 2026.1
	board := postgres.NewConsoleBoard(db)
	metrics := postgres.NewMetrics(db)
	tests := []struct {
		asOf ledger.Date
		want []web.ClassExposure
	}{
		// boardDay(26): A-1 owes 60000 + 55555; B-1 20000 (paid at boardDay(30)); C-1 70000 after its credit note; N-1 12345.
		{boardDay(26), []web.ClassExposure{{Class: "A", Clients: 2, Exposure: 60000 + 55555 + 20000}, {Class: "B"}, {Class: "C"},
			{Class: "D", Clients: 1, Exposure: 70000}, {Class: "E"}, {Class: "", Clients: 1, Exposure: 12345}}},
		// boardDay(60): B-1 paid; C-1's second invoice issued.
		{boardDay(60), []web.ClassExposure{{Class: "A", Clients: 2, Exposure: 60000 + 55555}, {Class: "B"}, {Class: "C"},
			{Class: "D", Clients: 1, Exposure: 70000 + 30000}, {Class: "E"}, {Class: "", Clients: 1, Exposure: 12345}}},
		// Before any invoice: every client counted, nothing owed.
		{boardDay(-1), []web.ClassExposure{{Class: "A", Clients: 2}, {Class: "B"}, {Class: "C"}, {Class: "D", Clients: 1}, {Class: "E"}, {Class: "", Clients: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.asOf.String(), func(t *testing.T) {
			got, err := board.RiskClasses(context.Background(), "2026.1", tt.asOf)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got  %v\nwant %v", got, tt.want)
			}
			// The classes' exposures add up to the portfolio's open receivables.
			f, err := metrics.PortfolioFacts(context.Background(), tt.asOf, "", "", false)
			if err != nil {
				t.Fatal(err)
			}
			var sum ledger.Money
			for _, c := range got {
				sum += c.Exposure
			}
			if open := receivables.Compute(f).OpenAR; sum != open {
				t.Errorf("exposures add up to %v, the portfolio's open AR is %v", sum, open)
			}
		})
	}
}

func TestWorsened(t *testing.T) {
	db, _ := MustBoardLedger(t)
	from := time.Date(2026, time.November, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 30)
	before, in1, in2, after := from.Add(-48*time.Hour), from.Add(24*time.Hour), from.Add(10*24*time.Hour), to.Add(time.Hour)
	MustRecordBoard(t, db,
		boardEntry("A-1", "2026.1", 690, "B", before), boardEntry("A-1", "2026.1", 560, "D", in1), // B -> D: worsened by two classes
		boardEntry("B-1", "2026.1", 620, "C", in1), boardEntry("B-1", "2026.1", 450, "E", in2), // first scored in the period, C -> E
		boardEntry("C-1", "2026.1", 560, "D", before), boardEntry("C-1", "2026.1", 700, "A", in2), // improved
		boardEntry("N-1", "2026.1", 620, "C", before), boardEntry("N-1", "2026.1", 610, "C", in1), // same class
		boardEntry("N-1", "2026.1", 400, "E", after), // after the period: not counted
		boardEntry("C-1", "2025.9", 300, "E", in2),   // another model
	)
	got, err := postgres.NewConsoleBoard(db).Worsened(context.Background(), "2026.1", from, to, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []web.Worsening{
		{ClientID: "B-1", Name: "Client B-1", FromClass: "C", ToClass: "E", FromScore: 620, ToScore: 450, At: in2},
		{ClientID: "A-1", Name: "Client A-1", FromClass: "B", ToClass: "D", FromScore: 690, ToScore: 560, At: in1},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
	if one, _ := postgres.NewConsoleBoard(db).Worsened(context.Background(), "2026.1", from, to, 1); len(one) != 1 || one[0].ClientID != "B-1" {
		t.Errorf("limit 1: %v", one)
	}
	// The next period holds N-1's fall from C (its class before) to E.
	if next, _ := postgres.NewConsoleBoard(db).Worsened(context.Background(), "2026.1", to, to.AddDate(0, 0, 30), 10); len(next) != 1 || next[0].ClientID != "N-1" || next[0].FromClass != "C" {
		t.Errorf("the next period: %v", next)
	}
}

func TestReviewQueue(t *testing.T) {
	db, _ := MustBoardLedger(t)
	ctx := context.Background()
	at := time.Date(2026, time.November, 20, 9, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO sanctions_screenings (client_id, status, lists_serial, client_updated_at, digest, result, screened_at) VALUES
			('A-1', 'potential_match', 1, now(), 'x', '{}', $1),
			('B-1', 'potential_match', 1, now(), 'x', '{}', $1::timestamptz - interval '1 day'),
			('C-1', 'confirmed', 1, now(), 'x', '{}', $1),
			('N-1', 'clear', 1, now(), 'x', '{}', $1)`,
		`INSERT INTO sanctions_screening_hits (client_id, hit_id, entry_source, entry_source_id, status, subject, subject_name, matched_name, score, list_version, names_hash) VALUES
			('A-1', 'ofac-1', 'ofac', '1', 'open', 'client', 'n', 'm', 0.84, 'v', 'h'),
			('A-1', 'ofac-2', 'ofac', '2', 'open', 'director', 'n', 'm', 0.91, 'v', 'h'),
			('A-1', 'un-3', 'un', '3', 'cleared', 'client', 'n', 'm', 0.99, 'v', 'h'),
			('B-1', 'fr-4', 'fr', '4', 'open', 'client', 'n', 'm', 0.88, 'v', 'h'),
			('C-1', 'eu-5', 'eu', '5', 'confirmed', 'client', 'n', 'm', 0.97, 'v', 'h')`,
	} {
		var err error
		if bytes.Contains([]byte(q), []byte("$1")) {
			_, err = db.Pool.Exec(ctx, q, at)
		} else {
			_, err = db.Pool.Exec(ctx, q)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := postgres.NewConsoleBoard(db).ReviewQueue(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []web.ReviewItem{
		{ClientID: "B-1", Name: "Client B-1", OpenHits: 1, BestScore: 0.88, ScreenedAt: at.Add(-24 * time.Hour)},
		{ClientID: "A-1", Name: "Client A-1", OpenHits: 2, BestScore: 0.91, ScreenedAt: at},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

func TestSecretSharedByReplicas(t *testing.T) {
	db := pgtest.MustDB(t)
	board := postgres.NewConsoleBoard(db)
	ctx := context.Background()
	if _, err := board.Secret(ctx, []byte("short")); err == nil {
		t.Fatal("a short candidate was accepted")
	}
	// Replicas starting together each offer their own: all get the same one.
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	errs := make([]error, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = board.Secret(ctx, web.NewSecret())
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if len(got[i]) != web.MinSecretLen || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("replica %d got another secret", i)
		}
	}
	later, err := board.Secret(ctx, web.NewSecret())
	if err != nil || !bytes.Equal(later, got[0]) {
		t.Errorf("a replica started later got another secret (%v)", err)
	}
}
