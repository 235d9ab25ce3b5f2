package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/postgres/pgtest"
)

func d(s string) ledger.Date {
	v, err := ledger.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

func mustLedger(t *testing.T) (*ledger.Service, *postgres.DB) {
	t.Helper()
	db := pgtest.MustDB(t)
	return &ledger.Service{Store: postgres.NewLedger(db, "EUR"), Currency: "EUR"}, db
}

func mustClient(t *testing.T, svc *ledger.Service, id string) {
	t.Helper()
	if _, _, err := svc.PutClient(context.Background(), ledger.Client{ClientID: id, Name: "Client " + id, Country: "FR"}, "test"); err != nil {
		t.Fatal(err)
	}
}

func mustInvoice(t *testing.T, svc *ledger.Service, id, client, issue, due string, amount ledger.Money) {
	t.Helper()
	inv := ledger.Invoice{InvoiceID: id, ClientID: client, IssueDate: d(issue), DueDate: d(due), Amount: amount, Currency: "EUR"}
	if _, _, err := svc.PutInvoice(context.Background(), inv, "test"); err != nil {
		t.Fatalf("put invoice %s: %v", id, err)
	}
}

func balance(t *testing.T, svc *ledger.Service, id, asOf string) (ledger.Money, ledger.InvoiceView) {
	t.Helper()
	v, err := svc.GetInvoice(context.Background(), id, d(asOf))
	if err != nil {
		t.Fatal(err)
	}
	return v.Balance, v
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if fault.Code(err) != code {
		t.Fatalf("error %v has code %q, want %q", err, fault.Code(err), code)
	}
}

func TestClientIdempotentAndVerbatim(t *testing.T) {
	svc, _ := mustLedger(t)
	ctx := context.Background()
	c := ledger.Client{ClientID: "c.1", Name: `L'Atelier "Sud"; DROP TABLE clients;-- 🚀`, Country: "FR", RegistrationID: "552 100 554", Directors: []string{"Jean Dupont"}}
	res, out, err := svc.PutClient(ctx, c, "test")
	if err != nil || res != ledger.Created {
		t.Fatalf("create: %v %v", res, err)
	}
	if out.Name != c.Name || out.RegistrationID != "552100554" {
		t.Errorf("stored %+v", out)
	}
	if res, _, _ := svc.PutClient(ctx, c, "test"); res != ledger.Unchanged {
		t.Errorf("same client again: %s, want unchanged", res)
	}
	c.Sector = "retail"
	if res, _, _ := svc.PutClient(ctx, c, "test"); res != ledger.Updated {
		t.Errorf("changed client: %s, want updated", res)
	}
	got, err := svc.GetClient(ctx, "c.1")
	if err != nil || got.Name != c.Name || got.Sector != "retail" {
		t.Errorf("read back %+v, %v", got, err)
	}
	_, err = svc.GetClient(ctx, "nope")
	wantCode(t, err, fault.NotFound)
}

func TestListClientsPaging(t *testing.T) {
	svc, _ := mustLedger(t)
	ctx := context.Background()
	for _, id := range []string{"a1", "a2", "a3", "b1", "b2"} {
		c := ledger.Client{ClientID: id, Name: strings.ToUpper(id[:1]) + "-corp " + id, Country: "FR"}
		if id == "b2" {
			c.Country = "DE"
		}
		if _, _, err := svc.PutClient(ctx, c, "test"); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	cursor := ""
	for {
		page, next, err := svc.ListClients(ctx, ledger.ClientFilter{Limit: 2, After: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page {
			seen = append(seen, c.ClientID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if strings.Join(seen, ",") != "a1,a2,a3,b1,b2" {
		t.Errorf("paged = %v", seen)
	}
	page, _, _ := svc.ListClients(ctx, ledger.ClientFilter{NamePrefix: "b-c"})
	if len(page) != 2 {
		t.Errorf("name prefix b-c: %d clients", len(page))
	}
	page, _, _ = svc.ListClients(ctx, ledger.ClientFilter{Country: "de"})
	if len(page) != 1 || page[0].ClientID != "b2" {
		t.Errorf("country DE: %v", page)
	}
	_, _, err := svc.ListClients(ctx, ledger.ClientFilter{After: "not-a-cursor!"})
	wantCode(t, err, fault.Invalid)
}

func TestPaymentsOldestFirstAndUnapplied(t *testing.T) {
	svc, _ := mustLedger(t)
	ctx := context.Background()
	mustClient(t, svc, "C1")
	mustClient(t, svc, "C2")
	mustInvoice(t, svc, "I1", "C1", "2026-01-05", "2026-02-04", 30000)
	mustInvoice(t, svc, "I2", "C1", "2026-01-10", "2026-02-09", 50000)
	mustInvoice(t, svc, "I3", "C1", "2026-03-01", "2026-03-31", 20000) // issued after the payment: not paid by it
	mustInvoice(t, svc, "X1", "C2", "2026-01-01", "2026-01-31", 10000)
	_, p, err := svc.PutPayment(ctx, ledger.Payment{PaymentID: "P1", ClientID: "C1", Date: d("2026-02-15"), Amount: 90000}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if p.Allocated != 80000 || p.Unapplied != 10000 || len(p.Allocations) != 2 {
		t.Fatalf("payment applied %+v", p)
	}
	if b, v := balance(t, svc, "I1", "2026-02-15"); b != 0 || v.PaidDate == nil || *v.PaidDate != d("2026-02-15") || v.Status != ledger.StatusPaid {
		t.Errorf("I1 balance %s paid %v status %s", b, v.PaidDate, v.Status)
	}
	if b, _ := balance(t, svc, "I1", "2026-02-14"); b != 30000 {
		t.Errorf("I1 the day before the payment: %s, want 300.00 (dated history)", b)
	}
	if b, _ := balance(t, svc, "I3", "2026-03-01"); b != 20000 {
		t.Errorf("I3 was issued after the payment and must stay open: %s", b)
	}
	if b, _ := balance(t, svc, "X1", "2026-03-01"); b != 10000 {
		t.Errorf("another client's invoice was touched: %s", b)
	}
	// The same payment again changes nothing.
	if res, _, err := svc.PutPayment(ctx, ledger.Payment{PaymentID: "P1", ClientID: "C1", Date: d("2026-02-15"), Amount: 90000}, "test"); err != nil || res != ledger.Unchanged {
		t.Errorf("same payment again: %s %v", res, err)
	}
	// An explicit allocation above the balance is a conflict, and changes nothing.
	_, _, err = svc.PutPayment(ctx, ledger.Payment{PaymentID: "P2", ClientID: "C1", Date: d("2026-03-05"), Amount: 25000,
		Allocations: []ledger.Allocation{{InvoiceID: "I3", Amount: 25000}}}, "test")
	wantCode(t, err, fault.Conflict)
	if _, err := svc.GetPayment(ctx, "P2"); fault.Code(err) != fault.NotFound {
		t.Errorf("a refused payment was stored: %v", err)
	}
	// Allocating to another client's invoice is refused.
	_, _, err = svc.PutPayment(ctx, ledger.Payment{PaymentID: "P3", ClientID: "C1", Date: d("2026-03-05"), Amount: 100,
		Allocations: []ledger.Allocation{{InvoiceID: "X1", Amount: 100}}}, "test")
	wantCode(t, err, fault.Invalid)
	// Replacing a payment releases its old allocations first.
	if res, p, err := svc.PutPayment(ctx, ledger.Payment{PaymentID: "P1", ClientID: "C1", Date: d("2026-02-15"), Amount: 30000}, "test"); err != nil || res != ledger.Updated || p.Allocated != 30000 {
		t.Fatalf("replace: %s %+v %v", res, p, err)
	}
	if b, v := balance(t, svc, "I2", "2026-12-31"); b != 50000 || v.PaidDate != nil {
		t.Errorf("I2 after the payment shrank: balance %s paid %v", b, v.PaidDate)
	}
}

func TestInvoiceConflictsAndCreditNotes(t *testing.T) {
	svc, _ := mustLedger(t)
	ctx := context.Background()
	mustClient(t, svc, "C1")
	mustClient(t, svc, "C2")
	mustInvoice(t, svc, "I1", "C1", "2026-01-05", "2026-02-04", 100000)
	if _, _, err := svc.PutPayment(ctx, ledger.Payment{PaymentID: "P1", ClientID: "C1", Date: d("2026-01-20"), Amount: 60000}, "test"); err != nil {
		t.Fatal(err)
	}
	inv := ledger.Invoice{InvoiceID: "I1", ClientID: "C1", IssueDate: d("2026-01-05"), DueDate: d("2026-02-04"), Amount: 50000, Currency: "EUR"}
	_, _, err := svc.PutInvoice(ctx, inv, "test")
	wantCode(t, err, fault.Conflict) // below the 600.00 already paid
	inv.Amount, inv.ClientID = 100000, "C2"
	_, _, err = svc.PutInvoice(ctx, inv, "test")
	wantCode(t, err, fault.Conflict) // another client
	inv.ClientID = "nobody"
	_, _, err = svc.PutInvoice(ctx, inv, "test")
	wantCode(t, err, fault.Invalid) // unknown client
	cn := ledger.Invoice{InvoiceID: "CN1", ClientID: "C1", Kind: ledger.KindCreditNote, IssueDate: d("2026-02-01"), DueDate: d("2026-02-01"),
		Amount: 50000, Currency: "EUR", AppliesTo: "I1"}
	if _, _, err := svc.PutInvoice(ctx, cn, "test"); err != nil {
		t.Fatal(err)
	}
	b, v := balance(t, svc, "I1", "2026-02-01")
	if b != 0 || v.SettledOn == nil || v.PaidDate != nil || v.Status != ledger.StatusCredited {
		t.Errorf("credit note capped at the balance: balance %s settled %v paid %v status %s", b, v.SettledOn, v.PaidDate, v.Status)
	}
	if b, _ := balance(t, svc, "I1", "2026-01-31"); b != 40000 {
		t.Errorf("before the credit note: %s, want 400.00", b)
	}
	// Write-off of a settled invoice is a conflict; of an open one, it closes it as bad debt.
	_, err = svc.WriteOff(ctx, "I1", ledger.WriteOff{Date: d("2026-06-01"), Reason: "insolvent"}, "test")
	wantCode(t, err, fault.Conflict)
	mustInvoice(t, svc, "I2", "C1", "2026-03-01", "2026-03-31", 70000)
	v, err = svc.WriteOff(ctx, "I2", ledger.WriteOff{Date: d("2026-09-30"), Reason: "liquidation closed, no recovery"}, "test")
	if err != nil || v.Status != ledger.StatusWrittenOff || v.Balance != 0 || v.PaidDate != nil {
		t.Fatalf("write-off: %+v %v", v, err)
	}
	if b, _ := balance(t, svc, "I2", "2026-09-29"); b != 70000 {
		t.Errorf("the day before the write-off: %s", b)
	}
	_, err = svc.WriteOff(ctx, "I2", ledger.WriteOff{Date: d("2026-10-01"), Reason: "x"}, "test")
	wantCode(t, err, fault.Conflict) // already written off
	_, err = svc.WriteOff(ctx, "I2", ledger.WriteOff{Date: d("2026-02-01"), Reason: "x"}, "test")
	wantCode(t, err, fault.Invalid) // before the issue date
	_, err = svc.WriteOff(ctx, "missing", ledger.WriteOff{Date: d("2026-02-01"), Reason: "x"}, "test")
	wantCode(t, err, fault.NotFound)
}

func TestListClientInvoicesByStatus(t *testing.T) {
	svc, _ := mustLedger(t)
	ctx := context.Background()
	mustClient(t, svc, "C1")
	mustInvoice(t, svc, "I1", "C1", "2026-01-01", "2026-01-31", 1000)
	mustInvoice(t, svc, "I2", "C1", "2026-02-01", "2026-03-03", 2000)
	mustInvoice(t, svc, "I3", "C1", "2026-03-01", "2026-03-31", 3000)
	if _, _, err := svc.PutPayment(ctx, ledger.Payment{PaymentID: "P1", ClientID: "C1", Date: d("2026-02-15"), Amount: 1000}, "test"); err != nil {
		t.Fatal(err)
	}
	ids := func(status, asOf string) string {
		list, _, err := svc.ListClientInvoices(ctx, ledger.InvoiceFilter{ClientID: "C1", Status: status, AsOf: d(asOf)})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range list {
			out = append(out, v.InvoiceID)
		}
		return strings.Join(out, ",")
	}
	for _, tt := range []struct{ status, asOf, want string }{
		{"open", "2026-02-14", "I1,I2"},
		{"open", "2026-02-15", "I2"}, // paid on D itself: not open at D
		{"paid", "2026-02-15", "I1"},
		{"paid", "2026-02-14", ""},
		{"all", "2026-02-14", "I1,I2,I3"},
	} {
		if got := ids(tt.status, tt.asOf); got != tt.want {
			t.Errorf("status %s as of %s = %q, want %q", tt.status, tt.asOf, got, tt.want)
		}
	}
	_, _, err := svc.ListClientInvoices(ctx, ledger.InvoiceFilter{ClientID: "C1", Status: "late"})
	wantCode(t, err, fault.Invalid)
	_, _, err = svc.ListClientInvoices(ctx, ledger.InvoiceFilter{ClientID: "ghost", Status: "all"})
	wantCode(t, err, fault.NotFound)
}

// TestConcurrentPaymentsNeverOverAllocate sends many payments for one client at once: the
// client's lock serialises them, so no invoice goes below zero.
func TestConcurrentPaymentsNeverOverAllocate(t *testing.T) {
	svc, db := mustLedger(t)
	ctx := context.Background()
	mustClient(t, svc, "C1")
	for i := 0; i < 5; i++ {
		mustInvoice(t, svc, "I"+string(rune('0'+i)), "C1", "2026-01-01", "2026-01-31", 10000)
	}
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		go func(i int) {
			_, _, err := svc.PutPayment(ctx, ledger.Payment{PaymentID: "P" + string(rune('a'+i)), ClientID: "C1", Date: d("2026-02-01"), Amount: 4000}, "test")
			errs <- err
		}(i)
	}
	for i := 0; i < 20; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	var negative, total int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE i.amount < s), coalesce(sum(s) * 100, 0)::bigint FROM invoices i
		JOIN (SELECT invoice_id, sum(amount) AS s FROM allocations GROUP BY invoice_id) a USING (invoice_id)`).Scan(&negative, &total); err != nil {
		t.Fatal(err)
	}
	if negative != 0 || total != 50000 {
		t.Errorf("%d invoices below zero, %d allocated (want 0 and 500.00: 800.00 paid for 500.00 owed)", negative, total)
	}
}
