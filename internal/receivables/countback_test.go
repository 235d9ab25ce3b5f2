package receivables

import (
	"testing"

	"github.com/credorisk/credo/internal/ledger"
)

func TestCountback(t *testing.T) {
	month := func(s string) ledger.Date { return MustDate(t, s) }
	tests := []struct {
		name   string
		asOf   string
		openAR ledger.Money
		months []MonthSales
		want   *float64
	}{
		{
			// 100 < March's 300: 15 x 100/300 = 5.
			name: "inside D's month", asOf: "2024-03-15", openAR: 100,
			months: []MonthSales{{month("2024-03-01"), 300}},
			want:   ptr(5.0),
		},
		{
			// 1000 - Mar 200 (15 d) = 800; Feb no sales (29 d); Jan no sales (31 d); 800 < Dec 1600:
			// + 31 x 800/1600 = 15.5; 15 + 29 + 31 + 15.5 = 90.5
			name: "months with no sales", asOf: "2024-03-15", openAR: 1000,
			months: []MonthSales{{month("2024-03-01"), 200}, {month("2023-12-01"), 1600}},
			want:   ptr(90.5),
		},
		{
			// Nothing sold in the 24 months Apr 2022..Mar 2024: 15 + the days of Apr 2022..Feb 2024
			// (365 + 335 = 700) = 715; the sale of Mar 2022 (the 25th month) is not reached.
			name: "24-month stop", asOf: "2024-03-15", openAR: 1000,
			months: []MonthSales{{month("2022-03-01"), 100}},
			want:   ptr(715.0),
		},
		{
			// 300 - Mar 300 (15 d) = 0: nothing remains, the empty months before add nothing.
			name: "exactly consumed", asOf: "2024-03-15", openAR: 300,
			months: []MonthSales{{month("2024-03-01"), 300}, {month("2023-01-01"), 500}},
			want:   ptr(15.0),
		},
		{
			// Apr -300 (a credit note on March's invoice): 700 + 300 = 1000 (30 d); - Mar 1000 = 0 (31 d): 61
			name: "negative month", asOf: "2024-04-30", openAR: 700,
			months: []MonthSales{{month("2024-04-01"), -300}, {month("2024-03-01"), 1000}},
			want:   ptr(61.0),
		},
		{
			// Month-end D in a leap February: 900 - Feb 290 (29 d) = 610 < Jan 3100: 31 x 610/3100 = 6.1; 35.1
			name: "leap February month end", asOf: "2024-02-29", openAR: 900,
			months: []MonthSales{{month("2024-02-01"), 290}, {month("2024-01-01"), 3100}},
			want:   ptr(35.1),
		},
		{
			// 1 < January's 6, D on the 31st: 31 x 1/6 = 5.1666... -> 5.17
			name: "repeating fraction", asOf: "2024-01-31", openAR: 1,
			months: []MonthSales{{month("2024-01-01"), 6}},
			want:   ptr(5.17),
		},
		{name: "nothing open, some sales", asOf: "2024-03-15", openAR: 0,
			months: []MonthSales{{month("2023-06-01"), 10}}, want: ptr(0.0)},
		{name: "nothing open, no sales", asOf: "2024-03-15", openAR: 0, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := MustDate(t, tt.asOf)
			f := Facts{AsOf: d, Months: tt.months}
			if tt.openAR != 0 {
				f.Open = []OpenItem{{DueDate: d, Balance: tt.openAR, Count: 1}}
			}
			got := Compute(f).DSOCountback
			if tt.want == nil {
				MustBeNull(t, "dso_countback", got)
				return
			}
			MustEqualFloat(t, "dso_countback", got, *tt.want)
		})
	}
}
