package postgres_test

import (
	"cmp"
	"context"
	"fmt"
	"math/big"
	"os"
	"reflect"
	"slices"
	"testing"

	"github.com/credorisk/credo/internal/demo"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/postgres/pgtest"
	"github.com/credorisk/credo/internal/receivables"
)

// factsLedger is a ledger read back invoice by invoice through the store's own read path, as
// receivables.BuildFacts takes it, with each client's country and sector.
type factsLedger struct {
	invoices []receivables.Invoice
	clients  []ledger.Client
}

func (l factsLedger) of(keep func(ledger.Client) bool) []receivables.Invoice {
	ids := map[string]bool{}
	for _, c := range l.clients {
		if keep(c) {
			ids[c.ClientID] = true
		}
	}
	var out []receivables.Invoice
	for _, inv := range l.invoices {
		if ids[inv.ClientID] {
			out = append(out, inv)
		}
	}
	return out
}

// MustReadLedger reads every client and every invoice with its movements back from the store.
func MustReadLedger(t testing.TB, store *postgres.Ledger) factsLedger {
	t.Helper()
	ctx := context.Background()
	var rows factsLedger
	for after := ""; ; {
		list, next, err := store.ListClients(ctx, ledger.ClientFilter{After: after, Limit: 1000})
		if err != nil {
			t.Fatalf("list clients: %v", err)
		}
		rows.clients = append(rows.clients, list...)
		if after = next; next == "" {
			break
		}
	}
	for _, c := range rows.clients {
		for after := ""; ; {
			list, next, err := store.ListClientInvoices(ctx, ledger.InvoiceFilter{ClientID: c.ClientID, Status: "all", AsOf: ledger.MaxDate, After: after, Limit: 1000})
			if err != nil {
				t.Fatalf("list invoices of %s: %v", c.ClientID, err)
			}
			for _, v := range list {
				inv := receivables.Invoice{ClientID: v.ClientID, InvoiceID: v.InvoiceID, Kind: v.Kind, IssueDate: v.IssueDate,
					DueDate: v.DueDate, Amount: v.Amount, Disputed: v.Disputed}
				for _, m := range v.Movements {
					inv.Movements = append(inv.Movements, receivables.Movement{Date: m.Date, Amount: m.Amount, Kind: m.Kind})
				}
				rows.invoices = append(rows.invoices, inv)
			}
			if after = next; next == "" {
				break
			}
		}
	}
	return rows
}

// merge regroups facts across clients (empty ClientID), as PortfolioFacts without forecast does.
func mergeFactsClients(f receivables.Facts) receivables.Facts {
	out := f
	out.Open, out.Paid, out.FallbackDBT = nil, nil, nil
	open := map[ledger.Date]*receivables.OpenItem{}
	for _, it := range f.Open {
		g := open[it.DueDate]
		if g == nil {
			g = &receivables.OpenItem{DueDate: it.DueDate}
			open[it.DueDate] = g
		}
		g.Balance += it.Balance
		g.Count += it.Count
	}
	for _, g := range open {
		out.Open = append(out.Open, *g)
	}
	slices.SortFunc(out.Open, func(a, b receivables.OpenItem) int { return cmp.Compare(a.DueDate, b.DueDate) })
	type pk struct {
		dbt    int
		recent bool
	}
	paid := map[pk]*receivables.PaidGroup{}
	for _, p := range f.Paid {
		g := paid[pk{p.DBT, p.Recent}]
		if g == nil {
			g = &receivables.PaidGroup{DBT: p.DBT, Recent: p.Recent}
			paid[pk{p.DBT, p.Recent}] = g
		}
		g.Count += p.Count
		g.Amount += p.Amount
		g.SumDaysToPay += p.SumDaysToPay
	}
	for _, g := range paid {
		out.Paid = append(out.Paid, *g)
	}
	slices.SortFunc(out.Paid, func(a, b receivables.PaidGroup) int {
		if c := cmp.Compare(a.DBT, b.DBT); c != 0 {
			return c
		}
		if a.Recent == b.Recent {
			return 0
		}
		if !a.Recent {
			return -1
		}
		return 1
	})
	return out
}

// MustEqualFacts fails with the first differing field (and element) when got is not want.
func MustEqualFacts(t testing.TB, what string, got, want receivables.Facts) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		g, w := gv.Field(i), wv.Field(i)
		if reflect.DeepEqual(g.Interface(), w.Interface()) {
			continue
		}
		name := gv.Type().Field(i).Name
		if g.Kind() == reflect.Slice {
			for j := 0; j < max(g.Len(), w.Len()); j++ {
				var ge, we any = "none", "none"
				if j < g.Len() {
					ge = g.Index(j).Interface()
				}
				if j < w.Len() {
					we = w.Index(j).Interface()
				}
				if !reflect.DeepEqual(ge, we) {
					t.Fatalf("%s: %s[%d] differs (%d vs %d elements)\n got: %+v\nwant: %+v", what, name, j, g.Len(), w.Len(), ge, we)
				}
			}
		}
		t.Fatalf("%s: %s differs\n got: %s\nwant: %s", what, name, showFact(g.Interface()), showFact(w.Interface()))
	}
}

// paidTotals is what receivables.Forecast reads of each client's paid groups.
func paidTotals(groups []receivables.PaidGroup) map[string][3]string {
	type acc struct {
		count         int
		amount, amDBT big.Int
	}
	accs := map[string]*acc{}
	for _, g := range groups {
		a := accs[g.ClientID]
		if a == nil {
			a = &acc{}
			accs[g.ClientID] = a
		}
		a.count += g.Count
		a.amount.Add(&a.amount, big.NewInt(int64(g.Amount)))
		a.amDBT.Add(&a.amDBT, new(big.Int).Mul(big.NewInt(int64(g.Amount)), big.NewInt(int64(g.DBT))))
	}
	out := map[string][3]string{}
	for id, a := range accs {
		out[id] = [3]string{fmt.Sprint(a.count), a.amount.String(), a.amDBT.String()}
	}
	return out
}

// MustEqualForecastFacts checks forecast facts against BuildFacts': Open and FallbackDBT equal,
// each client's paid count, amount and amount x dbt equal, nothing else filled, and the same
// forecast over several horizons.
func MustEqualForecastFacts(t testing.TB, what string, got, want receivables.Facts) {
	t.Helper()
	MustEqualFacts(t, what+" (forecast fields)",
		receivables.Facts{AsOf: got.AsOf, Open: got.Open, FallbackDBT: got.FallbackDBT, OpenBeforeWindow: got.OpenBeforeWindow,
			Months: got.Months, Issued12m: got.Issued12m, Disputed12m: got.Disputed12m, WrittenOff12m: got.WrittenOff12m, FirstInvoice: got.FirstInvoice},
		receivables.Facts{AsOf: want.AsOf, Open: want.Open, FallbackDBT: want.FallbackDBT})
	if g, w := paidTotals(got.Paid), paidTotals(want.Paid); !reflect.DeepEqual(g, w) {
		t.Fatalf("%s: paid totals per client differ\n got %v\nwant %v", what, g, w)
	}
	for _, h := range []int{1, 7, 45, 90, 365, 730} {
		g, err1 := receivables.Forecast(got, h)
		w, err2 := receivables.Forecast(want, h)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(g, w) {
			t.Fatalf("%s: forecast over %d days differs (%v, %v)\n got %+v\nwant %+v", what, h, err1, err2, g, w)
		}
	}
}

func showFact(v any) string {
	switch p := v.(type) {
	case *float64:
		if p != nil {
			return fmt.Sprint(*p)
		}
	case *ledger.Date:
		if p != nil {
			return p.String()
		}
	}
	s := fmt.Sprintf("%+v", v)
	if len(s) > 1500 {
		s = s[:1500] + "..."
	}
	return s
}

// crossCheckFacts cross-checks every form of facts against BuildFacts at each date.
func crossCheckFacts(t *testing.T, m *postgres.Metrics, rows factsLedger, dates []ledger.Date, clients []string, country, sector string) {
	t.Helper()
	ctx := context.Background()
	for _, d := range dates {
		t.Run(d.String(), func(t *testing.T) {
			want := receivables.BuildFacts(d, rows.invoices, nil)
			fallback := receivables.WeightedDBT(want.Paid)
			want.FallbackDBT = fallback

			got, err := m.PortfolioFacts(ctx, d, "", "", true)
			if err != nil {
				t.Fatal(err)
			}
			MustEqualForecastFacts(t, "portfolio", got, want)
			if dbt, err := m.PortfolioDBT(ctx, d); err != nil || !reflect.DeepEqual(dbt, fallback) {
				t.Errorf("PortfolioDBT = %s, %v; want %s", showFact(dbt), err, showFact(fallback))
			}
			summary, err := m.PortfolioFacts(ctx, d, "", "", false)
			if err != nil {
				t.Fatal(err)
			}
			MustEqualFacts(t, "portfolio summary", summary, mergeFactsClients(want))
			if a, b := receivables.Compute(summary), receivables.Compute(want); !reflect.DeepEqual(a, b) {
				t.Errorf("metrics from the summary differ:\n got %+v\nwant %+v", a, b)
			}

			if country != "" || sector != "" {
				keep := func(c ledger.Client) bool {
					return (country == "" || c.Country == country) && (sector == "" || c.Sector == sector)
				}
				wantF := receivables.BuildFacts(d, rows.of(keep), fallback)
				got, err := m.PortfolioFacts(ctx, d, country, sector, true)
				if err != nil {
					t.Fatal(err)
				}
				MustEqualForecastFacts(t, "filtered portfolio", got, wantF)
				got, err = m.PortfolioFacts(ctx, d, country, sector, false)
				if err != nil {
					t.Fatal(err)
				}
				MustEqualFacts(t, "filtered portfolio summary", got, mergeFactsClients(wantF))
			}

			byClient, err := m.FactsByClient(ctx, d, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(byClient) != len(rows.clients) {
				t.Errorf("FactsByClient: %d clients, want %d", len(byClient), len(rows.clients))
			}
			for _, c := range rows.clients {
				id := c.ClientID
				wantC := receivables.BuildFacts(d, rows.of(func(x ledger.Client) bool { return x.ClientID == id }), fallback)
				MustEqualFacts(t, "FactsByClient "+id, byClient[id], wantC)
			}
			listed, err := m.FactsByClient(ctx, d, append(slices.Clone(clients), "NO-SUCH-CLIENT"))
			if err != nil {
				t.Fatal(err)
			}
			if len(listed) != len(clients) {
				t.Errorf("FactsByClient(listed): %d clients, want %d (the unknown one absent)", len(listed), len(clients))
			}
			for _, id := range clients {
				wantC := receivables.BuildFacts(d, rows.of(func(x ledger.Client) bool { return x.ClientID == id }), fallback)
				MustEqualFacts(t, "FactsByClient(listed) "+id, listed[id], wantC)
				got, err := m.ClientFacts(ctx, id, d, true)
				if err != nil {
					t.Fatal(err)
				}
				MustEqualFacts(t, "client "+id, got, wantC)
				got, err = m.ClientFacts(ctx, id, d, false)
				if err != nil {
					t.Fatal(err)
				}
				wantC.FallbackDBT = nil
				MustEqualFacts(t, "client (metrics) "+id, got, wantC)
			}
		})
	}
}

func MustFactsDate(t testing.TB, s string) ledger.Date {
	t.Helper()
	d, err := ledger.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func MustFactsMoney(t testing.TB, s string) ledger.Money {
	t.Helper()
	m, err := ledger.ParseMoney(s, '.')
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// seedEdges adds ledger shapes the demo does not make: a payment and a write-off on an invoice's
// last day (not paid), an allocation dated before its invoice's issue date, an invoice paid on a
// checked date itself, an old invoice paid within the year, and a credit note applied FIFO.
func seedEdges(t *testing.T, svc *ledger.Service) {
	t.Helper()
	ctx := context.Background()
	must := func(_ any, _ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.PutClient(ctx, ledger.Client{ClientID: "EDGE", Name: "Edge Cases SA", Country: "FR", Sector: "retail"}, "test"))
	inv := func(id, issue, due, amount string) ledger.Invoice {
		return ledger.Invoice{InvoiceID: id, ClientID: "EDGE", Kind: ledger.KindInvoice, IssueDate: MustFactsDate(t, issue),
			DueDate: MustFactsDate(t, due), Amount: MustFactsMoney(t, amount), Currency: "EUR"}
	}
	pay := func(id, date, amount string, allocs ...ledger.Allocation) ledger.Payment {
		return ledger.Payment{PaymentID: id, ClientID: "EDGE", Date: MustFactsDate(t, date), Amount: MustFactsMoney(t, amount), Currency: "EUR", Allocations: allocs}
	}
	for _, i := range []ledger.Invoice{
		inv("E-1", "2025-03-03", "2025-04-02", "1000.00"), // part paid, rest written off the same day
		inv("E-2", "2025-05-20", "2025-06-19", "500.00"),  // paid in advance, before its issue date
		inv("E-3", "2025-04-10", "2025-05-10", "800.00"),  // paid on 2025-06-30, a checked date
		inv("E-4", "2022-01-15", "2022-02-14", "300.00"),  // issued long ago, paid within the year
		inv("E-5", "2025-06-01", "2025-07-01", "700.00"),  // reduced by a FIFO credit note, then open
	} {
		must(svc.PutInvoice(ctx, i, "test"))
	}
	must(svc.PutPayment(ctx, pay("EP-1", "2025-06-10", "400.00", ledger.Allocation{InvoiceID: "E-1", Amount: MustFactsMoney(t, "400.00")}), "test"))
	if _, err := svc.WriteOff(ctx, "E-1", ledger.WriteOff{Date: MustFactsDate(t, "2025-06-10"), Reason: "settlement agreed with the client"}, "test"); err != nil {
		t.Fatal(err)
	}
	must(svc.PutPayment(ctx, pay("EP-2", "2025-05-01", "500.00", ledger.Allocation{InvoiceID: "E-2", Amount: MustFactsMoney(t, "500.00")}), "test"))
	must(svc.PutPayment(ctx, pay("EP-3", "2025-06-30", "800.00", ledger.Allocation{InvoiceID: "E-3", Amount: MustFactsMoney(t, "800.00")}), "test"))
	must(svc.PutPayment(ctx, pay("EP-4", "2025-01-20", "300.00", ledger.Allocation{InvoiceID: "E-4", Amount: MustFactsMoney(t, "300.00")}), "test"))
	cn := inv("E-CN", "2025-06-15", "2025-06-15", "250.00")
	cn.Kind = ledger.KindCreditNote
	must(svc.PutInvoice(ctx, cn, "test"))
}

func TestFactsCrossCheckDemo(t *testing.T) {
	db := pgtest.MustDB(t)
	store := postgres.NewLedger(db, "EUR")
	svc := &ledger.Service{Store: store, Currency: "EUR"}
	ctx := context.Background()
	end := MustFactsDate(t, "2025-09-15")
	p := demo.Generate(demo.Options{Clients: 60, Seed: 11, End: end})
	if _, err := demo.Seed(ctx, svc, p, "test", nil); err != nil {
		t.Fatal(err)
	}
	seedEdges(t, svc)
	rows := MustReadLedger(t, store)

	first := rows.invoices[0].IssueDate
	for _, inv := range rows.invoices {
		first = min(first, inv.IssueDate)
	}
	dates := []ledger.Date{
		first - 10,                     // before the first invoice
		MustFactsDate(t, "2024-06-15"), // mid-history
		MustFactsDate(t, "2024-12-31"), // month-ends
		MustFactsDate(t, "2025-02-28"),
		MustFactsDate(t, "2025-06-10"), // EDGE: payment and write-off that day
		MustFactsDate(t, "2025-06-30"), // EDGE: paid that day
		end,                            // the last day of history
		ledger.Today(),                 // today
	}
	// Several clients: each demo profile, the edge cases, and one with no invoices.
	var clients []string
	seen := map[demo.Profile]bool{}
	for _, c := range p.Clients {
		if prof := p.Profiles[c.ClientID]; !seen[prof] {
			seen[prof] = true
			clients = append(clients, c.ClientID)
		}
	}
	clients = append(clients, "EDGE")
	crossCheckFacts(t, postgres.NewMetrics(db), rows, dates, clients, "FR", "retail")
}

const factsIBMCSV = "../../../shared/data/receivables/ibm_late_payment_histories.csv"

func TestFactsCrossCheckIBM(t *testing.T) {
	db := pgtest.MustDB(t)
	store := postgres.NewLedger(db, "USD")
	svc := &ledger.Service{Store: store, Currency: "USD"}
	MustImportIBMFacts(t, svc)
	rows := MustReadLedger(t, store)
	if len(rows.invoices) != 2466 {
		t.Fatalf("%d invoices read back, want 2466", len(rows.invoices))
	}
	dates := []ledger.Date{MustFactsDate(t, "2011-12-31"), MustFactsDate(t, "2012-07-14"), MustFactsDate(t, "2013-02-28"),
		MustFactsDate(t, "2013-06-30"), MustFactsDate(t, "2013-12-31"), ledger.Today()}
	clients := []string{"0379-NEVHP", "8976-AMJEO", rows.clients[len(rows.clients)/2].ClientID}
	crossCheckFacts(t, postgres.NewMetrics(db), rows, dates, clients, "", "")

	// The issue's figures, from the SQL facts.
	f, err := postgres.NewMetrics(db).PortfolioFacts(context.Background(), MustFactsDate(t, "2013-06-30"), "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	m := receivables.Compute(f)
	if m.OpenAR != MustFactsMoney(t, "5119.85") || m.NotDue != MustFactsMoney(t, "4284.29") || m.Sales3m != MustFactsMoney(t, "20098.87") || m.WindowDays != 91 {
		t.Errorf("open_ar %s, not_due %s, sales_3m %s, window_days %d; want 5119.85, 4284.29, 20098.87, 91", m.OpenAR, m.NotDue, m.Sales3m, m.WindowDays)
	}
	for _, c := range []struct {
		name string
		got  *float64
		want float64
	}{{"dso", m.DSO, 23.18}, {"best_possible_dso", m.BestPossibleDSO, 19.40}, {"add", m.ADD, 3.78}} {
		if c.got == nil || *c.got != c.want {
			t.Errorf("%s = %s, want %v", c.name, showFact(c.got), c.want)
		}
	}
}

// MustImportIBMFacts imports IBM's late payment histories through the ledger's import, mapped as the
// issue says, creating the clients.
func MustImportIBMFacts(t testing.TB, svc *ledger.Service) {
	t.Helper()
	file, err := os.Open(factsIBMCSV)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	opts, err := ledger.ParseImportOptions(ledger.ImportParams{Kind: ledger.ImportInvoices, Format: "csv", DateFormat: "us", CreateClients: true,
		Map: "client_id=customerID,invoice_id=invoiceNumber,issue_date=InvoiceDate,due_date=DueDate,amount=InvoiceAmount,disputed=Disputed,paid_date=SettledDate"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := svc.Import(context.Background(), file, opts, "test", nil)
	if err != nil || rep.Rejected > 0 || rep.Inserted != 2466 {
		t.Fatalf("IBM import: %+v, %v", rep, err)
	}
}

func TestClientFactsUnknownClient(t *testing.T) {
	m := postgres.NewMetrics(pgtest.MustDB(t))
	_, err := m.ClientFacts(context.Background(), "NOBODY", MustFactsDate(t, "2025-01-31"), false)
	if fault.Code(err) != fault.NotFound {
		t.Fatalf("err = %v, want not found", err)
	}
	f, err := m.PortfolioFacts(context.Background(), MustFactsDate(t, "2025-01-31"), "", "", true)
	if err != nil || !reflect.DeepEqual(f, receivables.Facts{AsOf: MustFactsDate(t, "2025-01-31")}) {
		t.Fatalf("empty portfolio: %+v, %v", f, err)
	}
	got, err := m.FactsByClient(context.Background(), MustFactsDate(t, "2025-01-31"), []string{})
	if err != nil || len(got) != 0 {
		t.Fatalf("FactsByClient(none) = %v, %v", got, err)
	}
}

// TestFactsOnBusyPool: with no connection free for helpers, every query runs on the snapshot's
// own connection, one after the other, with the same facts.
func TestFactsOnBusyPool(t *testing.T) {
	db := pgtest.MustDB(t)
	svc := &ledger.Service{Store: postgres.NewLedger(db, "EUR"), Currency: "EUR"}
	seedEdges(t, svc)
	m := postgres.NewMetrics(db)
	ctx := context.Background()
	d := MustFactsDate(t, "2025-06-30")
	want, err := m.PortfolioFacts(ctx, d, "", "", true)
	if err != nil {
		t.Fatal(err)
	}
	// Hold every connection but one.
	for range db.Pool.Config().MaxConns - 1 {
		c, err := db.Pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Release()
	}
	got, err := m.PortfolioFacts(ctx, d, "", "", true)
	if err != nil {
		t.Fatal(err)
	}
	MustEqualFacts(t, "busy pool", got, want)
	if len(got.Open) == 0 || len(got.Paid) == 0 || got.FallbackDBT == nil {
		t.Fatalf("the edge ledger gave empty facts: %+v", got)
	}
}
