package receivables

import (
	"testing"

	"github.com/credorisk/credo/internal/ledger"
)

// scenarioA is one client's ledger with a partial payment, a credit note, a write-off, an invoice
// paid on D itself, an invoice paid after D and one issued after D. The hand computations for
// D = 2024-03-15 are in TestComputeScenarioA.
func scenarioA(t *testing.T) []Invoice {
	t.Helper()
	d := func(s string) ledger.Date { return MustDate(t, s) }
	a := func(s string) ledger.Money { return MustMoney(t, s) }
	inv := func(id, issue, due, amount string, mvs ...Movement) Invoice {
		return Invoice{ClientID: "C", InvoiceID: id, Kind: KindInvoice, IssueDate: d(issue), DueDate: d(due), Amount: a(amount), Movements: mvs}
	}
	mv := func(date, amount, kind string) Movement {
		return Movement{Date: d(date), Amount: a(amount), Kind: kind}
	}
	invoices := []Invoice{
		inv("I1", "2024-01-10", "2024-02-09", "1000.00", mv("2024-02-01", "400.00", KindPayment), mv("2024-03-01", "100.00", KindCreditNote)),
		inv("I2", "2024-03-01", "2024-03-31", "2000.00"),
		inv("I3", "2024-02-14", "2024-03-15", "300.00"),
		inv("I4", "2024-03-05", "2024-03-14", "50.00", mv("2024-03-15", "50.00", KindPayment)),
		inv("I5", "2023-10-01", "2023-10-31", "800.00", mv("2024-03-10", "800.00", KindWriteOff)),
		inv("I6", "2023-11-20", "2023-12-15", "700.00", mv("2024-01-05", "200.00", KindPayment)),
		inv("I7", "2024-01-20", "2024-02-19", "250.00"),
		inv("I8", "2023-12-01", "2024-01-10", "600.00"),
		inv("I9", "2024-03-20", "2024-04-19", "999.00"),
		inv("I10", "2024-03-10", "2024-04-09", "400.00", mv("2024-03-20", "400.00", KindPayment)),
		{ClientID: "C", InvoiceID: "CN1", Kind: KindCreditNote, IssueDate: d("2024-03-01"), Amount: a("100.00")},
	}
	invoices[2].Disputed = true // I3
	return invoices
}

func TestComputeScenarioA(t *testing.T) {
	m := Compute(BuildFacts(MustDate(t, "2024-03-15"), scenarioA(t), nil))
	// Open at D = 2024-03-15, balance and days past due (D - due):
	//   I1  1000 - 400 - 100 = 500, due 02-09: 20 (rest of Feb, leap) + 15 = 35 -> d31_60
	//   I2  2000, due 03-31 -> current;  I3 300, due 03-15 = D: 0 days -> current
	//   I6  700 - 200 = 500, due 2023-12-15: 16 + 31 + 29 + 15 = 91 -> d90_plus
	//   I7  250, due 02-19: 10 + 15 = 25 -> d1_30;  I8 600, due 01-10: 21 + 29 + 15 = 65 -> d61_90
	//   I10 400, paid 03-20 (after D) -> current
	//   not open: I4 (paid on D), I5 (written off), I9 (issued after D)
	// open_ar = 500+2000+300+500+250+600+400 = 4550; not_due = 2000+300+400 = 2700; overdue = 1850
	MustEqualMoney(t, "open_ar", m.OpenAR, "4550.00")
	MustEqualMoney(t, "not_due", m.NotDue, "2700.00")
	MustEqualMoney(t, "overdue", m.Overdue, "1850.00")
	MustEqualFloat(t, "overdue_rate", m.OverdueRate, 0.4066) // 1850/4550 = 0.40659...
	MustEqualMoney(t, "aging.current", m.Aging.Current, "2700.00")
	MustEqualMoney(t, "aging.d1_30", m.Aging.D1to30, "250.00")
	MustEqualMoney(t, "aging.d31_60", m.Aging.D31to60, "500.00")
	MustEqualMoney(t, "aging.d61_90", m.Aging.D61to90, "600.00")
	MustEqualMoney(t, "aging.d90_plus", m.Aging.D90Plus, "500.00")
	if m.OpenInvoiceCount != 7 || m.MaxDaysOverdue != 91 {
		t.Errorf("open_invoice_count, max_days_overdue = %d, %d, want 7, 91", m.OpenInvoiceCount, m.MaxDaysOverdue)
	}
	// W = 2024-01-01..2024-03-15: 31 + 29 + 15 = 75 days.
	// Sales: Jan I1 1000 + I7 250 = 1250; Feb I3 300; Mar I2 2000 + I4 50 + I10 400 - CN1 100 = 2350.
	if m.WindowStart != MustDate(t, "2024-01-01") || m.WindowDays != 75 {
		t.Errorf("window = %s, %d days, want 2024-01-01, 75", m.WindowStart, m.WindowDays)
	}
	MustEqualMoney(t, "sales_3m", m.Sales3m, "3900.00")
	MustEqualFloat(t, "dso", m.DSO, 87.5)                            // 4550/3900 x 75 = 87.5
	MustEqualFloat(t, "best_possible_dso", m.BestPossibleDSO, 51.92) // 2700/3900 x 75 = 51.923...
	MustEqualFloat(t, "add", m.ADD, 35.58)                           // 1850/3900 x 75 = 35.576...
	// Countback: 4550 - Mar 2350 (15 d) = 2200 - Feb 300 (29 d) = 1900 - Jan 1250 (31 d) = 650
	// - Dec 600 (31 d) = 50 < Nov 700: + 30 x 50/700 = 2.142857; 15+29+31+31 + 2.142857 = 108.142857
	MustEqualFloat(t, "dso_countback", m.DSOCountback, 108.14)
	// B = open at 2023-12-31: I5 800 (written off in March), I6 700 (paid in part in January), I8 600.
	// cei = (2100 + 3900 - 4550) / (2100 + 3900 - 2700) x 100 = 1450/3300 x 100 = 43.939...
	MustEqualFloat(t, "cei", m.CEI, 43.94)
	// Paid in (2023-03-15, 2024-03-15]: only I4, on D: dbt 03-15 - 03-14 = 1, 10 days to pay.
	if m.PaidCount12m != 1 {
		t.Errorf("paid_count_12m = %d, want 1", m.PaidCount12m)
	}
	MustEqualFloat(t, "avg_days_to_pay_12m", m.AvgDaysToPay12m, 10)
	MustEqualFloat(t, "weighted_dbt_12m", m.WeightedDBT12m, 1)
	MustEqualFloat(t, "late_share_12m", m.LateShare12m, 1)
	MustEqualFloat(t, "payment_index_12m", m.PaymentIndex12m, 79.33) // 80 - 10 x 1/15
	MustBeNull(t, "dbt_trend", m.DBTTrend)                           // nothing paid in the 9 months before
	// Issued in (2023-03-15, 2024-03-15]: I1..I8 and I10 = 1000+2000+300+50+800+700+250+600+400 = 6100.
	MustEqualFloat(t, "dispute_rate_12m", m.DisputeRate12m, 0.0492)  // I3 300/6100 = 0.04918...
	MustEqualFloat(t, "bad_debt_rate_12m", m.BadDebtRate12m, 0.1311) // I5 800/6100 = 0.13114...
	// First invoice 2023-10-01: 2024-03-01 is 5 months later, 2024-04-01 is after D.
	if m.RelationshipMonths == nil || *m.RelationshipMonths != 5 {
		t.Errorf("relationship_months = %v, want 5", m.RelationshipMonths)
	}
}

// TestComputeEmpty covers a client with no invoices and an as-of date before the first invoice:
// zeros and nulls, never an error.
func TestComputeEmpty(t *testing.T) {
	tests := []struct {
		name       string
		asOf       string
		invoices   []Invoice
		windowDays int
	}{
		// W = 2024-01-01..2024-03-15: 31 + 29 + 15.
		{"no invoices", "2024-03-15", nil, 75},
		// Scenario A's first invoice is 2023-10-01; W = 2023-07-01..2023-09-30: 31 + 31 + 30.
		{"before the first invoice", "2023-09-30", scenarioA(t), 92},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Compute(BuildFacts(MustDate(t, tt.asOf), tt.invoices, nil))
			if m.OpenAR != 0 || m.NotDue != 0 || m.Overdue != 0 || m.Sales3m != 0 || m.Aging != (Aging{}) {
				t.Errorf("amounts = %+v, want zeros", m)
			}
			if m.WindowDays != tt.windowDays || m.PaidCount12m != 0 || m.MaxDaysOverdue != 0 || m.OpenInvoiceCount != 0 {
				t.Errorf("window_days %d, paid %d, max overdue %d, open count %d; want %d, 0, 0, 0",
					m.WindowDays, m.PaidCount12m, m.MaxDaysOverdue, m.OpenInvoiceCount, tt.windowDays)
			}
			for name, v := range map[string]*float64{
				"overdue_rate": m.OverdueRate, "dso": m.DSO, "best_possible_dso": m.BestPossibleDSO,
				"add": m.ADD, "dso_countback": m.DSOCountback, "cei": m.CEI,
				"avg_days_to_pay_12m": m.AvgDaysToPay12m, "weighted_dbt_12m": m.WeightedDBT12m,
				"late_share_12m": m.LateShare12m, "payment_index_12m": m.PaymentIndex12m,
				"dbt_trend": m.DBTTrend, "dispute_rate_12m": m.DisputeRate12m, "bad_debt_rate_12m": m.BadDebtRate12m,
			} {
				MustBeNull(t, name, v)
			}
			MustBeNull(t, "relationship_months", m.RelationshipMonths)
		})
	}
}

// TestWindow covers the window W, the 12-month and 3-month periods at month ends and in a leap
// February.
func TestWindow(t *testing.T) {
	tests := []struct {
		asOf, start string
		days        int
		yearAgo     string
		recent      string
	}{
		{"2013-06-30", "2013-04-01", 91, "2012-06-30", "2013-03-30"}, // Apr 30 + May 31 + Jun 30
		{"2024-02-29", "2023-12-01", 91, "2023-02-28", "2023-11-29"}, // Dec 31 + Jan 31 + Feb 29 (leap)
		{"2023-02-28", "2022-12-01", 90, "2022-02-28", "2022-11-28"}, // Dec 31 + Jan 31 + Feb 28
		{"2024-05-31", "2024-03-01", 92, "2023-05-31", "2024-02-29"}, // Mar 31 + Apr 30 + May 31; May 31 - 3 months clamps to Feb 29
		{"2024-01-01", "2023-11-01", 62, "2023-01-01", "2023-10-01"}, // Nov 30 + Dec 31 + 1
	}
	for _, tt := range tests {
		t.Run(tt.asOf, func(t *testing.T) {
			d := MustDate(t, tt.asOf)
			m := Compute(Facts{AsOf: d})
			if m.WindowStart != MustDate(t, tt.start) || m.WindowDays != tt.days {
				t.Errorf("window = %s, %d days; want %s, %d", m.WindowStart, m.WindowDays, tt.start, tt.days)
			}
			if got := YearAgo(d); got != MustDate(t, tt.yearAgo) {
				t.Errorf("YearAgo = %s, want %s", got, tt.yearAgo)
			}
			if got := RecentStart(d); got != MustDate(t, tt.recent) {
				t.Errorf("RecentStart = %s, want %s", got, tt.recent)
			}
		})
	}
}

// TestComputeRatios covers the ratio definitions from hand-made facts, including zero and
// negative denominators.
func TestComputeRatios(t *testing.T) {
	d := MustDate(t, "2024-02-29") // W = 2023-12-01..2024-02-29, 91 days
	month := func(s string) ledger.Date { return MustDate(t, s) }
	tests := []struct {
		name                string
		facts               Facts
		dso, best, add, cei *float64
		overdueRate         *float64
	}{
		{
			// open 1000 (600 not due: due on D itself), sales 3000 over Dec..Feb, B 500.
			// dso 1000/3000 x 91 = 30.333; best 600/3000 x 91 = 18.2; add 400/3000 x 91 = 12.1333
			// cei (500 + 3000 - 1000) / (500 + 3000 - 600) x 100 = 2500/2900 x 100 = 86.2069
			name: "plain",
			facts: Facts{AsOf: d, OpenBeforeWindow: 50000,
				Open:   []OpenItem{{DueDate: d, Balance: 60000, Count: 1}, {DueDate: d - 1, Balance: 40000, Count: 1}},
				Months: []MonthSales{{month("2023-12-01"), 100000}, {month("2024-01-01"), 100000}, {month("2024-02-01"), 100000}, {month("2023-11-01"), 999900}}},
			dso: ptr(30.33), best: ptr(18.2), add: ptr(12.13), cei: ptr(86.21), overdueRate: ptr(0.4),
		},
		{
			// Half-way values round away from zero: 1/8 x 91 = 11.375 -> 11.38 (dso);
			// not due 0 -> best 0, add = dso; cei (0 + 800 - 100) / (0 + 800 - 0) = 87.5.
			name: "rounding half away from zero",
			facts: Facts{AsOf: d,
				Open:   []OpenItem{{DueDate: d - 10, Balance: 100, Count: 1}},
				Months: []MonthSales{{month("2024-02-01"), 800}}},
			dso: ptr(11.38), best: ptr(0.0), add: ptr(11.38), cei: ptr(87.5), overdueRate: ptr(1.0),
		},
		{
			// Credit notes exceed invoices in W: net sales -50 is no base for a DSO (null);
			// cei (0 - 50 - 100) / (0 - 50 - 0) has a negative denominator: null.
			name: "negative net sales",
			facts: Facts{AsOf: d,
				Open:   []OpenItem{{DueDate: d - 10, Balance: 100, Count: 1}},
				Months: []MonthSales{{month("2024-01-01"), 100}, {month("2024-02-01"), -150}}},
			overdueRate: ptr(1.0),
		},
		{
			// Nothing open, sales 1000: dso 0, best 0, add 0; cei (200 + 1000 - 0) / (200 + 1000 - 0) = 100.
			name: "nothing open",
			facts: Facts{AsOf: d, OpenBeforeWindow: 200,
				Months: []MonthSales{{month("2024-02-01"), 1000}}},
			dso: ptr(0.0), best: ptr(0.0), add: ptr(0.0), cei: ptr(100.0),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Compute(tt.facts)
			for _, c := range []struct {
				name      string
				got, want *float64
			}{{"dso", m.DSO, tt.dso}, {"best_possible_dso", m.BestPossibleDSO, tt.best}, {"add", m.ADD, tt.add},
				{"cei", m.CEI, tt.cei}, {"overdue_rate", m.OverdueRate, tt.overdueRate}} {
				if c.want == nil {
					MustBeNull(t, c.name, c.got)
				} else {
					MustEqualFloat(t, c.name, c.got, *c.want)
				}
			}
		})
	}
}

// TestRates covers dispute_rate_12m, bad_debt_rate_12m and relationship_months from facts.
func TestRates(t *testing.T) {
	d := MustDate(t, "2024-03-31")
	tests := []struct {
		name                  string
		issued, disp, written ledger.Money
		first                 *ledger.Date
		dispute, badDebt      *float64
		months                *int
	}{
		// 1/3 = 0.33333 -> 0.3333; 2/3 -> 0.6667; 2023-04-30 + 11 months = 2024-03-30 <= D, + 12 = 2024-04-30 > D.
		{"thirds", 300, 100, 200, ptr(MustDate(t, "2023-04-30")), ptr(0.3333), ptr(0.6667), ptr(11)},
		// Write-offs of older invoices can exceed this year's issues: 150%.
		{"old write-offs", 1000, 0, 1500, ptr(MustDate(t, "2020-01-31")), ptr(0.0), ptr(1.5), ptr(50)},
		// Nothing issued in the year: null rates; first invoice 2024-01-31, 2024-02-29 (clamped) and 2024-03-31: 2 months.
		{"nothing issued", 0, 0, 500, ptr(MustDate(t, "2024-01-31")), nil, nil, ptr(2)},
		// First invoice on D: 0 months.
		{"first invoice on D", 100, 0, 0, ptr(d), ptr(0.0), ptr(0.0), ptr(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Compute(Facts{AsOf: d, Issued12m: tt.issued, Disputed12m: tt.disp, WrittenOff12m: tt.written, FirstInvoice: tt.first})
			if tt.dispute == nil {
				MustBeNull(t, "dispute_rate_12m", m.DisputeRate12m)
				MustBeNull(t, "bad_debt_rate_12m", m.BadDebtRate12m)
			} else {
				MustEqualFloat(t, "dispute_rate_12m", m.DisputeRate12m, *tt.dispute)
				MustEqualFloat(t, "bad_debt_rate_12m", m.BadDebtRate12m, *tt.badDebt)
			}
			if m.RelationshipMonths == nil || *m.RelationshipMonths != *tt.months {
				t.Errorf("relationship_months = %v, want %d", m.RelationshipMonths, *tt.months)
			}
		})
	}
}

// TestAgingBoundaries puts one invoice on each side of every bucket edge; balances are powers of
// two so that each bucket's sum says exactly which invoices it holds.
func TestAgingBoundaries(t *testing.T) {
	d := MustDate(t, "2024-03-15")
	ages := []int{-5, 0, 1, 30, 31, 60, 61, 90, 91, 400}
	var f Facts
	f.AsOf = d
	for i, age := range ages {
		f.Open = append(f.Open, OpenItem{ClientID: "C", DueDate: d.AddDays(-age), Balance: 1 << i, Count: 1})
	}
	m := Compute(f)
	want := Aging{
		Current: 1 | 2,    // -5 (due after D), 0 (due on D)
		D1to30:  4 | 8,    // 1, 30
		D31to60: 16 | 32,  // 31, 60
		D61to90: 64 | 128, // 61, 90
		D90Plus: 256 | 512,
	}
	if m.Aging != want {
		t.Errorf("aging = %+v, want %+v", m.Aging, want)
	}
	if m.OpenAR != 1023 || m.NotDue != 3 || m.Overdue != 1020 || m.MaxDaysOverdue != 400 || m.OpenInvoiceCount != 10 {
		t.Errorf("open_ar %d, not_due %d, overdue %d, max_days_overdue %d, count %d; want 1023, 3, 1020, 400, 10",
			m.OpenAR, m.NotDue, m.Overdue, m.MaxDaysOverdue, m.OpenInvoiceCount)
	}
}
