package receivables

import (
	"slices"
	"testing"

	"github.com/credorisk/credo/internal/ledger"
)

func TestPaymentPoints(t *testing.T) {
	tests := []struct {
		dbt  int
		want float64
	}{
		{-1000, 100}, {-31, 100}, {-30, 100}, // clamp below -30
		{-25, 95}, {-20, 90}, {-10, 85}, {0, 80},
		{1, 80 - 10.0/15}, {15, 70}, {16, 70 - 10.0/7}, {22, 60}, {26, 55}, {30, 50},
		{45, 45}, {60, 40}, {75, 35}, {90, 30}, {100, 30 - 10.0/3}, {120, 20},
		{121, 20}, {5000, 20}, // clamp above 120
	}
	for _, tt := range tests {
		// Both sides are the float64 nearest the same rational, so they compare exactly.
		if got := PaymentPoints(tt.dbt); got != tt.want {
			t.Errorf("PaymentPoints(%d) = %v, want %v", tt.dbt, got, tt.want)
		}
	}
}

// behaviourLedger is one client's payments around D = 2024-06-30: the last year is
// (2023-06-30, 2024-06-30], the recent 3 months (2024-03-30, 2024-06-30].
func behaviourLedger(t *testing.T) []Invoice {
	t.Helper()
	d := func(s string) ledger.Date { return MustDate(t, s) }
	inv := func(id, issue, due string, cents ledger.Money, mvs ...Movement) Invoice {
		return Invoice{ClientID: "C", InvoiceID: id, Kind: KindInvoice, IssueDate: d(issue), DueDate: d(due), Amount: cents, Movements: mvs}
	}
	mv := func(date string, cents ledger.Money, kind string) Movement {
		return Movement{Date: d(date), Amount: cents, Kind: kind}
	}
	return []Invoice{
		// dbt -5, 25 days to pay, recent.
		inv("P1", "2024-04-01", "2024-05-01", 60000, mv("2024-04-26", 60000, KindPayment)),
		// Paid in two steps, the last one with a credit note on the same day: paid 04-27, dbt -5, 25 days, recent.
		inv("P2", "2024-04-02", "2024-05-02", 40000, mv("2024-04-20", 30000, KindPayment), mv("2024-04-27", 5000, KindCreditNote), mv("2024-04-27", 5000, KindPayment)),
		// dbt 10, 40 days, recent.
		inv("P3", "2024-04-06", "2024-05-06", 50000, mv("2024-05-16", 50000, KindPayment)),
		// dbt 40, 70 days, prior period.
		inv("P4", "2023-09-01", "2023-10-01", 200000, mv("2023-11-10", 200000, KindPayment)),
		// Paid on 2024-03-30, the last day of the prior period: dbt 0, 30 days.
		inv("P9", "2024-02-29", "2024-03-30", 10000, mv("2024-03-30", 10000, KindPayment)),
		// Paid on 2023-06-30, the excluded start of the year.
		inv("P5", "2023-05-01", "2023-05-31", 70000, mv("2023-06-30", 70000, KindPayment)),
		// Settled by a write-off, and by a payment and a write-off on the same day: not paid.
		inv("P6", "2024-01-01", "2024-01-31", 30000, mv("2024-02-01", 10000, KindPayment), mv("2024-03-01", 20000, KindWriteOff)),
		inv("P7", "2024-01-01", "2024-01-31", 30000, mv("2024-02-01", 10000, KindWriteOff), mv("2024-02-01", 20000, KindPayment)),
		// Paid after D.
		inv("P8", "2024-06-01", "2024-07-01", 90000, mv("2024-07-01", 90000, KindPayment)),
	}
}

func TestPaidGroups(t *testing.T) {
	f := BuildFacts(MustDate(t, "2024-06-30"), behaviourLedger(t), nil)
	want := []PaidGroup{
		{ClientID: "C", DBT: -5, Recent: true, Count: 2, Amount: 100000, SumDaysToPay: 50},
		{ClientID: "C", DBT: 0, Recent: false, Count: 1, Amount: 10000, SumDaysToPay: 30},
		{ClientID: "C", DBT: 10, Recent: true, Count: 1, Amount: 50000, SumDaysToPay: 40},
		{ClientID: "C", DBT: 40, Recent: false, Count: 1, Amount: 200000, SumDaysToPay: 70},
	}
	if !slices.Equal(f.Paid, want) {
		t.Errorf("Paid = %+v\nwant %+v", f.Paid, want)
	}
}

func TestPaymentBehaviour(t *testing.T) {
	m := Compute(BuildFacts(MustDate(t, "2024-06-30"), behaviourLedger(t), nil))
	// Paid in the year: P1, P2 (dbt -5, 1000.00 together), P3 (10, 500.00), P4 (40, 2000.00), P9 (0, 100.00).
	if m.PaidCount12m != 5 {
		t.Errorf("paid_count_12m = %d, want 5", m.PaidCount12m)
	}
	MustEqualFloat(t, "avg_days_to_pay_12m", m.AvgDaysToPay12m, 38) // (25+25+40+70+30)/5
	// (1000 x -5 + 100 x 0 + 500 x 10 + 2000 x 40) / 3600 = 80000/3600 = 22.222
	MustEqualFloat(t, "weighted_dbt_12m", m.WeightedDBT12m, 22.22)
	MustEqualFloat(t, "late_share_12m", m.LateShare12m, 0.4) // P3 and P4 of 5, by count
	// points: -5 -> 82.5, 0 -> 80, 10 -> 73.333, 40 -> 46.667;
	// (1000 x 82.5 + 100 x 80 + 500 x 73.333 + 2000 x 46.667) / 3600 = 220500/3600 = 61.25
	MustEqualFloat(t, "payment_index_12m", m.PaymentIndex12m, 61.25)
	// recent (-5000 + 5000)/1500 = 0; prior (0 + 80000)/2100 = 38.0952; trend -38.0952
	MustEqualFloat(t, "dbt_trend", m.DBTTrend, -38.1)
}

func TestDBTTrend(t *testing.T) {
	tests := []struct {
		name string
		paid []PaidGroup
		want *float64
	}{
		{"slowing down", []PaidGroup{{DBT: 12, Recent: true, Count: 1, Amount: 100}, {DBT: 2, Count: 3, Amount: 300}}, ptr(10.0)},
		// recent (1 x 1 + 3 x 2)/3 = 2.3333; prior (4 x 2 + 5 x 1)/3 = 4.3333; -2 exactly
		{"speeding up", []PaidGroup{{DBT: 1, Recent: true, Count: 1, Amount: 1}, {DBT: 3, Recent: true, Count: 1, Amount: 2}, {DBT: 4, Count: 1, Amount: 2}, {DBT: 5, Count: 1, Amount: 1}}, ptr(-2.0)},
		// 1/3 - 0 = 0.3333 -> 0.33
		{"thirds", []PaidGroup{{DBT: 1, Recent: true, Count: 1, Amount: 1}, {DBT: 0, Recent: true, Count: 2, Amount: 2}, {DBT: 0, Count: 1, Amount: 5}}, ptr(0.33)},
		{"nothing recent", []PaidGroup{{DBT: 3, Count: 2, Amount: 100}}, nil},
		{"nothing before", []PaidGroup{{DBT: 3, Recent: true, Count: 2, Amount: 100}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Compute(Facts{AsOf: MustDate(t, "2024-06-30"), Paid: tt.paid}).DBTTrend
			if tt.want == nil {
				MustBeNull(t, "dbt_trend", got)
			} else {
				MustEqualFloat(t, "dbt_trend", got, *tt.want)
			}
		})
	}
}

// TestPaymentIndexClamps checks the amount weighting and both clamps through Compute:
// 100 (dbt -45) x 3 + 20 (dbt 200) x 1 = 320 / 4 = 80.
func TestPaymentIndexClamps(t *testing.T) {
	m := Compute(Facts{AsOf: MustDate(t, "2024-06-30"), Paid: []PaidGroup{
		{DBT: -45, Recent: true, Count: 1, Amount: 300},
		{DBT: 200, Count: 1, Amount: 100},
	}})
	MustEqualFloat(t, "payment_index_12m", m.PaymentIndex12m, 80)
	MustEqualFloat(t, "weighted_dbt_12m", m.WeightedDBT12m, 16.25) // (-45 x 300 + 200 x 100)/400
}

func TestPaidDate(t *testing.T) {
	d := func(s string) ledger.Date { return MustDate(t, s) }
	mv := func(date string, cents ledger.Money, kind string) Movement {
		return Movement{Date: d(date), Amount: cents, Kind: kind}
	}
	tests := []struct {
		name string
		inv  Invoice
		want string // "" for nil
	}{
		{"no movements", Invoice{Kind: KindInvoice, Amount: 100}, ""},
		{"one payment", Invoice{Kind: KindInvoice, Amount: 100, Movements: []Movement{mv("2024-01-05", 100, KindPayment)}}, "2024-01-05"},
		{"partial only", Invoice{Kind: KindInvoice, Amount: 100, Movements: []Movement{mv("2024-01-05", 99, KindPayment)}}, ""},
		{"partials out of order", Invoice{Kind: KindInvoice, Amount: 100, Movements: []Movement{
			mv("2024-02-10", 60, KindPayment), mv("2024-01-05", 40, KindPayment), mv("2024-03-01", 5, KindPayment)}}, "2024-02-10"},
		{"credit note then payment", Invoice{Kind: KindInvoice, Amount: 100, Movements: []Movement{
			mv("2024-01-05", 30, KindCreditNote), mv("2024-01-09", 70, KindPayment)}}, "2024-01-09"},
		{"payment then credit note", Invoice{Kind: KindInvoice, Amount: 100, Movements: []Movement{
			mv("2024-01-05", 70, KindPayment), mv("2024-01-09", 30, KindCreditNote)}}, ""},
		{"payment and credit note on the final day", Invoice{Kind: KindInvoice, Amount: 100, Movements: []Movement{
			mv("2024-01-09", 30, KindCreditNote), mv("2024-01-09", 70, KindPayment)}}, "2024-01-09"},
		{"payment and write-off on the final day", Invoice{Kind: KindInvoice, Amount: 100, Movements: []Movement{
			mv("2024-01-09", 70, KindPayment), mv("2024-01-09", 30, KindWriteOff)}}, ""},
		{"written off", Invoice{Kind: KindInvoice, Amount: 100, Movements: []Movement{mv("2024-01-09", 100, KindWriteOff)}}, ""},
		{"overpaid", Invoice{Kind: KindInvoice, Amount: 100, Movements: []Movement{mv("2024-01-09", 150, KindPayment)}}, "2024-01-09"},
		{"credit note row", Invoice{Kind: KindCreditNote, Amount: 100, Movements: []Movement{mv("2024-01-09", 100, KindPayment)}}, ""},
		{"zero amount", Invoice{Kind: KindInvoice, Amount: 0, Movements: []Movement{mv("2024-01-09", 0, KindPayment)}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PaidDate(tt.inv)
			switch {
			case tt.want == "" && got != nil:
				t.Errorf("PaidDate = %s, want nil", *got)
			case tt.want != "" && (got == nil || *got != d(tt.want)):
				t.Errorf("PaidDate = %v, want %s", got, tt.want)
			}
		})
	}
}
