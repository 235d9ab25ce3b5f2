package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/credorisk/credo/internal/demo"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/postgres"
)

func mustImport(t *testing.T, svc *ledger.Service, kind, body string, p ledger.ImportParams) ledger.ImportReport {
	t.Helper()
	p.Kind = kind
	opts, err := ledger.ParseImportOptions(p)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := svc.Import(context.Background(), strings.NewReader(body), opts, "test", nil)
	if err != nil {
		t.Fatalf("import %s: %v", kind, err)
	}
	return rep
}

const ibmMap = "client_id=customerID,invoice_id=invoiceNumber,issue_date=InvoiceDate,due_date=DueDate,amount=InvoiceAmount,disputed=Disputed,paid_date=SettledDate"

func TestImportIBMExport(t *testing.T) {
	svc, db := mustLedger(t)
	b, err := os.ReadFile("../../../shared/data/receivables/ibm_late_payment_histories.csv")
	if err != nil {
		t.Skipf("the shared IBM export is not here: %v", err)
	}
	p := ledger.ImportParams{Map: ibmMap, DateFormat: "us", CreateClients: true}
	rep := mustImport(t, svc, ledger.ImportInvoices, string(b), p)
	if rep.Received != 2466 || rep.Inserted != 2466 || rep.Rejected != 0 || rep.ClientsCreated != 100 {
		t.Fatalf("first import: %+v", rep)
	}
	var invoices, settled, clients, disputed int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*), count(paid_date), (SELECT count(*) FROM clients), count(*) FILTER (WHERE disputed) FROM invoices`).Scan(&invoices, &settled, &clients, &disputed); err != nil {
		t.Fatal(err)
	}
	if invoices != 2466 || settled != 2466 || clients != 100 || disputed == 0 {
		t.Errorf("%d invoices, %d settled by payment, %d clients, %d disputed", invoices, settled, clients, disputed)
	}
	// One known row: 0379-NEVHP,...,0000611365,1/2/2013,2/1/2013,55.94,No,1/15/2013
	v, err := svc.GetInvoice(context.Background(), "0000611365", d("2013-01-14"))
	if err != nil || v.ClientID != "0379-NEVHP" || v.Amount != 5594 || v.Balance != 5594 || v.DueDate != d("2013-02-01") {
		t.Errorf("invoice 0000611365 as of 2013-01-14: %+v %v", v, err)
	}
	if v, _ := svc.GetInvoice(context.Background(), "0000611365", d("2013-01-15")); v.Balance != 0 || v.PaidDate == nil || *v.PaidDate != d("2013-01-15") {
		t.Errorf("invoice 0000611365 as of its settlement: balance %s paid %v", v.Balance, v.PaidDate)
	}
	again := mustImport(t, svc, ledger.ImportInvoices, string(b), p)
	if again.Unchanged != 2466 || again.Inserted+again.Updated+again.Rejected != 0 {
		t.Errorf("the same file again changed something: %+v", again)
	}
}

func TestImportRejectsAndAtomic(t *testing.T) {
	svc, _ := mustLedger(t)
	mustClient(t, svc, "C1")
	file := "invoice_id,client_id,issue_date,due_date,amount\n" +
		"I1,C1,2026-01-01,2026-01-31,100.00\n" +
		"I2,C1,2026-01-01,2025-12-31,100.00\n" + // due before issue
		"I3,C1,2026-02-30,2026-03-31,100.00\n" + // impossible date
		"I4,C9,2026-01-01,2026-01-31,100.00\n" + // unknown client
		"I5,C1,2026-01-01,2026-01-31\n" + // ragged row
		"I1,C1,2026-01-01,2026-01-31,100.00\n" + // duplicate in the file
		"I6,C1,2026-01-01,2026-01-31,-5\n" // negative amount
	atomic := mustImport(t, svc, ledger.ImportInvoices, file, ledger.ImportParams{Atomic: true})
	if atomic.Applied || atomic.Inserted != 0 || atomic.Rejected != 6 {
		t.Errorf("atomic import with bad rows: %+v", atomic)
	}
	if _, err := svc.GetInvoice(context.Background(), "I1", d("2026-01-01")); err == nil {
		t.Error("an atomic import that failed landed a row")
	}
	rep := mustImport(t, svc, ledger.ImportInvoices, file, ledger.ImportParams{})
	if !rep.Applied || rep.Received != 7 || rep.Inserted != 1 || rep.Rejected != 6 {
		t.Fatalf("partial import: %+v", rep)
	}
	got := map[int]string{}
	for _, e := range rep.Errors {
		got[e.Line] = e.Field
	}
	want := map[int]string{3: "due_date", 4: "issue_date", 5: "client_id", 6: "row", 7: "invoice_id", 8: "amount"}
	for line, field := range want {
		if got[line] != field {
			t.Errorf("line %d: field %q, want %q (errors %+v)", line, got[line], field, rep.Errors)
		}
	}
}

func TestImportClientsAndPaymentsNDJSON(t *testing.T) {
	svc, _ := mustLedger(t)
	clients := `{"client_id":"A","name":"Alpha SAS","country":"FR","registration_id":"552100554","directors":["Jean Dupont","Marie Curie"]}
{"client_id":"B","name":"Beta GmbH","country":"DE"}
{"client_id":"C","name":"","country":"DE"}
`
	rep := mustImport(t, svc, ledger.ImportClients, clients, ledger.ImportParams{Format: "ndjson"})
	if rep.Inserted != 2 || rep.Rejected != 1 || rep.Errors[0].Line != 3 || rep.Errors[0].Field != "name" {
		t.Fatalf("clients: %+v", rep)
	}
	c, _ := svc.GetClient(context.Background(), "A")
	if len(c.Directors) != 2 {
		t.Errorf("directors: %v", c.Directors)
	}
	if again := mustImport(t, svc, ledger.ImportClients, clients, ledger.ImportParams{Format: "ndjson"}); again.Unchanged != 2 {
		t.Errorf("clients again: %+v", again)
	}
	mustInvoice(t, svc, "IA1", "A", "2026-01-01", "2026-01-31", 10000)
	mustInvoice(t, svc, "IA2", "A", "2026-01-15", "2026-02-14", 10000)
	payments := "payment_id;client_id;date;amount;invoice_id\n" +
		"P1;A;2026-02-01;150,00;\n" + // oldest first: IA1 in full, IA2 half
		"P2;A;2026-02-10;80,00;IA2\n" + // capped at IA2's balance: 50.00
		"P3;A;2026-02-10;1,00;IB1\n" + // unknown invoice
		"P4;Z;2026-02-10;1,00;\n" // unknown client
	rep = mustImport(t, svc, ledger.ImportPayments, payments, ledger.ImportParams{Delimiter: ";", Decimal: ","})
	if rep.Inserted != 2 || rep.Rejected != 2 {
		t.Fatalf("payments: %+v", rep)
	}
	p2, _ := svc.GetPayment(context.Background(), "P2")
	if p2.Allocated != 5000 || p2.Unapplied != 3000 {
		t.Errorf("P2: %+v", p2)
	}
	if again := mustImport(t, svc, ledger.ImportPayments, payments, ledger.ImportParams{Delimiter: ";", Decimal: ","}); again.Unchanged != 2 || again.Inserted+again.Updated != 0 {
		t.Errorf("payments again: %+v", again)
	}
}

// TestImportAllocatesLikeOneByOne lands the same demo portfolio twice, once through the bulk
// imports and once record by record through the single-write path, and compares every
// allocation and settlement date.
func TestImportAllocatesLikeOneByOne(t *testing.T) {
	p := demo.Generate(demo.Options{Clients: 25, Seed: 3, End: d("2026-06-30"), Months: 12})
	// Add oldest-first payments and credit notes without a target, which the demo does not make.
	for i, c := range p.Clients[:10] {
		p.Payments = append(p.Payments, ledger.Payment{PaymentID: fmt.Sprintf("FIFO-%d", i), ClientID: c.ClientID, Date: d("2026-05-15"), Amount: 250000, Currency: "EUR"})
		p.Invoices = append(p.Invoices, demo.Invoice{Invoice: ledger.Invoice{InvoiceID: fmt.Sprintf("CN-%d", i), ClientID: c.ClientID, Kind: ledger.KindCreditNote,
			IssueDate: d("2026-04-01"), DueDate: d("2026-04-01"), Amount: 30000, Currency: "EUR"}})
	}
	bulk, bulkDB := mustLedger(t)
	if _, err := demo.Seed(context.Background(), bulk, p, "test", nil); err != nil {
		t.Fatal(err)
	}
	single, singleDB := mustLedger(t)
	ctx := context.Background()
	for _, c := range p.Clients {
		if _, _, err := single.PutClient(ctx, c, "test"); err != nil {
			t.Fatal(err)
		}
	}
	// The order an invoices import applies things in: invoices with their paid_date settlements,
	// then credit notes in issue date order; then the payments file.
	var notes []demo.Invoice
	for _, inv := range p.Invoices {
		if inv.Kind == ledger.KindCreditNote {
			notes = append(notes, inv)
			continue
		}
		if _, _, err := single.PutInvoice(ctx, inv.Invoice, "test"); err != nil {
			t.Fatal(err)
		}
		if inv.PaidDate != nil {
			// settle: ids are reserved for imports; the store itself takes them.
			if _, _, err := single.Store.PutPayment(ctx, ledger.Payment{PaymentID: "settle:" + inv.InvoiceID, ClientID: inv.ClientID, Date: *inv.PaidDate,
				Amount: inv.Amount, Currency: "EUR", Allocations: []ledger.Allocation{{InvoiceID: inv.InvoiceID, Amount: inv.Amount}}}, "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	sort.SliceStable(notes, func(i, j int) bool { return notes[i].IssueDate < notes[j].IssueDate })
	for _, cn := range notes {
		if _, _, err := single.PutInvoice(ctx, cn.Invoice, "test"); err != nil {
			t.Fatal(err)
		}
	}
	for _, pay := range p.Payments {
		if len(pay.Allocations) == 1 {
			v, _ := single.GetInvoice(ctx, pay.Allocations[0].InvoiceID, ledger.MaxDate)
			pay.Allocations[0].Amount = min(pay.Amount, v.Balance)
			if pay.Allocations[0].Amount == 0 {
				pay.Allocations = nil
				// An explicit payment to a settled invoice stays unapplied: give it an impossible
				// date so oldest-first finds nothing either.
				pay.Date = d("1900-01-01")
			}
		}
		if _, _, err := single.PutPayment(ctx, pay, "test"); err != nil {
			t.Fatalf("payment %s: %v", pay.PaymentID, err)
		}
	}
	for _, w := range p.WriteOffs {
		if _, err := single.WriteOff(ctx, w.InvoiceID, w.WriteOff, "test"); err != nil && !strings.Contains(err.Error(), "no balance") {
			t.Fatal(err)
		}
	}
	dump := func(db *postgres.DB) string {
		rows, err := db.Pool.Query(ctx, `SELECT a.invoice_id || ' ' || a.kind || ' ' || a.source_id || ' ' || a.date || ' ' || a.amount
			FROM allocations a WHERE a.source_id NOT LIKE 'P-%' OR a.kind <> 'payment'
			UNION ALL SELECT i.invoice_id || ' ' || coalesce(i.settled_on::text, '-') || ' ' || coalesce(i.paid_date::text, '-') FROM invoices i
			ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		for rows.Next() {
			var s string
			_ = rows.Scan(&s)
			b.WriteString(s + "\n")
		}
		return b.String()
	}
	a, b := dump(bulkDB), dump(singleDB)
	if a != b {
		al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
		for i := range min(len(al), len(bl)) {
			if al[i] != bl[i] {
				t.Fatalf("bulk and one-by-one differ first at line %d:\n bulk:   %s\n single: %s", i, al[i], bl[i])
			}
		}
		t.Fatalf("bulk has %d lines, one-by-one %d", len(al), len(bl))
	}
}

// TestLedgerConsistency checks what the foreign keys the schema leaves out would: after a demo
// portfolio, imports, payments and write-offs, no invoice lacks its client and no allocation its
// invoice, and no balance is below zero.
func TestLedgerConsistency(t *testing.T) {
	svc, db := mustLedger(t)
	p := demo.Generate(demo.Options{Clients: 40, Seed: 11, End: d("2026-06-30"), Months: 12})
	if _, err := demo.Seed(context.Background(), svc, p, "test", nil); err != nil {
		t.Fatal(err)
	}
	var orphanInvoices, orphanAllocations, orphanPayments, negative int
	if err := db.Pool.QueryRow(context.Background(), `SELECT
		(SELECT count(*) FROM invoices i WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.client_id = i.client_id)),
		(SELECT count(*) FROM allocations a WHERE NOT EXISTS (SELECT 1 FROM invoices i WHERE i.invoice_id = a.invoice_id)),
		(SELECT count(*) FROM allocations a WHERE a.kind = 'payment' AND a.source_id NOT LIKE 'settle:%'
			AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.payment_id = a.source_id)),
		(SELECT count(*) FROM invoices i JOIN (SELECT invoice_id, sum(amount) s FROM allocations GROUP BY invoice_id) a USING (invoice_id) WHERE a.s > i.amount)`).
		Scan(&orphanInvoices, &orphanAllocations, &orphanPayments, &negative); err != nil {
		t.Fatal(err)
	}
	if orphanInvoices+orphanAllocations+orphanPayments+negative != 0 {
		t.Errorf("orphan invoices %d, orphan allocations %d, allocations of missing payments %d, balances below zero %d",
			orphanInvoices, orphanAllocations, orphanPayments, negative)
	}
}
