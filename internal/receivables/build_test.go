package receivables

import (
	"reflect"
	"testing"

	"github.com/credorisk/credo/internal/ledger"
)

// TestBuildFactsScenarioA checks the facts themselves, field by field, for the ledger whose
// metrics TestComputeScenarioA checks.
func TestBuildFactsScenarioA(t *testing.T) {
	d := func(s string) ledger.Date { return MustDate(t, s) }
	f := BuildFacts(d("2024-03-15"), scenarioA(t), ptr(1.5))
	want := Facts{
		AsOf: d("2024-03-15"),
		Open: []OpenItem{ // sorted by due date within the client
			{"C", d("2023-12-15"), 50000, 1},  // I6 700 - 200
			{"C", d("2024-01-10"), 60000, 1},  // I8
			{"C", d("2024-02-09"), 50000, 1},  // I1 1000 - 400 - 100
			{"C", d("2024-02-19"), 25000, 1},  // I7
			{"C", d("2024-03-15"), 30000, 1},  // I3
			{"C", d("2024-03-31"), 200000, 1}, // I2
			{"C", d("2024-04-09"), 40000, 1},  // I10, paid after D
		},
		OpenBeforeWindow: 210000, // at 2023-12-31: I5 800 + I6 700 + I8 600
		Months: []MonthSales{ // from 2022-04 on; I9 (issued after D) nowhere
			{d("2023-10-01"), 80000}, {d("2023-11-01"), 70000}, {d("2023-12-01"), 60000},
			{d("2024-01-01"), 125000}, {d("2024-02-01"), 30000}, {d("2024-03-01"), 235000},
		},
		Paid:          []PaidGroup{{ClientID: "C", DBT: 1, Recent: true, Count: 1, Amount: 5000, SumDaysToPay: 10}}, // I4
		Issued12m:     610000,
		Disputed12m:   30000, // I3
		WrittenOff12m: 80000, // I5
		FirstInvoice:  ptr(d("2023-10-01")),
		FallbackDBT:   ptr(1.5),
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("BuildFacts =\n%+v\nwant\n%+v", f, want)
	}
}

// TestBuildFactsPeriods checks the boundaries of each period: what is dated exactly on a
// period's excluded start stays out, what is dated on its end is in.
func TestBuildFactsPeriods(t *testing.T) {
	d := func(s string) ledger.Date { return MustDate(t, s) }
	asOf := d("2024-03-31") // year (2023-03-31, 2024-03-31]; W 2024-01-01..03-31; 24 months from 2022-04-01
	inv := func(client, issue, due string, cents ledger.Money, mvs ...Movement) Invoice {
		return Invoice{ClientID: client, Kind: KindInvoice, IssueDate: d(issue), DueDate: d(due), Amount: cents, Movements: mvs}
	}
	invoices := []Invoice{
		inv("X", "2022-03-31", "2022-04-30", 1, Movement{d("2023-03-31"), 1, KindWriteOff}),     // before the 24 months; write-off on the excluded start
		inv("X", "2022-04-01", "2022-05-01", 2, Movement{d("2024-03-31"), 2, KindWriteOff}),     // first of the 24 months; written off on D
		inv("X", "2023-03-31", "2023-04-30", 4, Movement{d("2023-12-31"), 1, KindPayment}),      // issued on the excluded start; open at B's date and at D
		inv("Y", "2023-04-01", "2023-05-01", 8, Movement{d("2024-01-01"), 8, KindPayment}),      // issued in the year; open at B's date only
		inv("Y", "2024-01-01", "2024-01-31", 16, Movement{d("2024-03-31"), 16, KindPayment}),    // first day of W; paid on D
		inv("Y", "2024-03-31", "2024-04-30", 32),                                                // issued on D
		{ClientID: "Y", Kind: KindCreditNote, IssueDate: d("2024-01-01"), Amount: 64},           // first day of W
		{ClientID: "Y", Kind: KindCreditNote, IssueDate: d("2022-03-31"), Amount: 128},          // before the 24 months
		{ClientID: "Y", Kind: KindCreditNote, IssueDate: d("2024-04-01"), Amount: 256},          // after D
		inv("Y", "2024-04-01", "2024-04-30", 512, Movement{d("2024-03-31"), 512, KindWriteOff}), // issued after D: nowhere
	}
	f := BuildFacts(asOf, invoices, nil)
	want := Facts{
		AsOf: asOf,
		Open: []OpenItem{
			{"X", d("2023-04-30"), 3, 1},
			{"Y", d("2024-04-30"), 32, 1},
		},
		OpenBeforeWindow: 2 + 3 + 8, // at 2023-12-31
		Months: []MonthSales{
			{d("2022-04-01"), 2}, {d("2023-03-01"), 4}, {d("2023-04-01"), 8},
			{d("2024-01-01"), 16 - 64}, {d("2024-03-01"), 32},
		},
		Paid: []PaidGroup{
			{ClientID: "Y", DBT: 60, Recent: true, Count: 1, Amount: 16, SumDaysToPay: 90},  // 2024-01-31 + 60 = D
			{ClientID: "Y", DBT: 245, Recent: true, Count: 1, Amount: 8, SumDaysToPay: 275}, // paid 2024-01-01, after 2023-12-31
		},
		Issued12m:     8 + 16 + 32,
		WrittenOff12m: 2,
		FirstInvoice:  ptr(d("2022-03-31")),
	}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("BuildFacts =\n%+v\nwant\n%+v", f, want)
	}
}

// TestBuildFactsGroups checks that invoices of one client and due date share a group, and that
// clients stay apart.
func TestBuildFactsGroups(t *testing.T) {
	d := func(s string) ledger.Date { return MustDate(t, s) }
	paid := func(date string, cents ledger.Money) []Movement { return []Movement{{d(date), cents, KindPayment}} }
	invoices := []Invoice{
		{ClientID: "B", Kind: KindInvoice, IssueDate: d("2024-01-01"), DueDate: d("2024-02-01"), Amount: 100},
		{ClientID: "A", Kind: KindInvoice, IssueDate: d("2024-01-02"), DueDate: d("2024-02-01"), Amount: 200},
		{ClientID: "A", Kind: KindInvoice, IssueDate: d("2024-01-03"), DueDate: d("2024-02-01"), Amount: 300, Movements: paid("2024-01-10", 50)},
		{ClientID: "A", Kind: KindInvoice, IssueDate: d("2024-01-01"), DueDate: d("2024-01-11"), Amount: 10, Movements: paid("2024-01-21", 10)},
		{ClientID: "A", Kind: KindInvoice, IssueDate: d("2024-01-05"), DueDate: d("2024-01-15"), Amount: 20, Movements: paid("2024-01-25", 20)},
		{ClientID: "B", Kind: KindInvoice, IssueDate: d("2024-01-05"), DueDate: d("2024-01-15"), Amount: 40, Movements: paid("2024-01-25", 40)},
	}
	f := BuildFacts(d("2024-01-31"), invoices, nil)
	wantOpen := []OpenItem{{"A", d("2024-02-01"), 450, 2}, {"B", d("2024-02-01"), 100, 1}}
	if !reflect.DeepEqual(f.Open, wantOpen) {
		t.Errorf("Open = %+v, want %+v", f.Open, wantOpen)
	}
	wantPaid := []PaidGroup{
		{ClientID: "A", DBT: 10, Recent: true, Count: 2, Amount: 30, SumDaysToPay: 20 + 20},
		{ClientID: "B", DBT: 10, Recent: true, Count: 1, Amount: 40, SumDaysToPay: 20},
	}
	if !reflect.DeepEqual(f.Paid, wantPaid) {
		t.Errorf("Paid = %+v, want %+v", f.Paid, wantPaid)
	}
}
