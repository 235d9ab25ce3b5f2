package receivables

import (
	"testing"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// forecastFacts has D = 2024-03-15 and four clients:
//   - A: 3 paid invoices, weighted dbt 4.5 -> 5 days (half away from zero)
//   - N: 3 paid invoices, weighted dbt -2.5 -> -3 days (half away from zero)
//   - B: 2 paid invoices only, weighted dbt 30: too few, the fallback applies
//   - Z: no paid invoice: the fallback applies
func forecastFacts(t *testing.T, fallback *float64) Facts {
	t.Helper()
	d := MustDate(t, "2024-03-15")
	due := func(s string) ledger.Date { return MustDate(t, s) }
	return Facts{AsOf: d, FallbackDBT: fallback,
		Paid: []PaidGroup{
			{ClientID: "A", DBT: 4, Recent: true, Count: 2, Amount: 100}, // (4 x 100 + 5 x 100) / 200 = 4.5
			{ClientID: "A", DBT: 5, Count: 1, Amount: 100},
			{ClientID: "N", DBT: -3, Count: 2, Amount: 100}, // (-3 x 100 - 2 x 100) / 200 = -2.5
			{ClientID: "N", DBT: -2, Recent: true, Count: 1, Amount: 100},
			{ClientID: "B", DBT: 30, Count: 2, Amount: 100},
		},
		Open: []OpenItem{
			{ClientID: "A", DueDate: due("2024-03-10"), Balance: 10000, Count: 1}, // 03-15 = D: moved to D+1 = 03-16
			{ClientID: "A", DueDate: due("2024-03-20"), Balance: 20000, Count: 2}, // 03-25
			{ClientID: "N", DueDate: due("2024-03-21"), Balance: 1000, Count: 1},  // 03-18
			{ClientID: "B", DueDate: due("2024-03-20"), Balance: 5000, Count: 1},  // + fallback
			{ClientID: "Z", DueDate: due("2024-03-26"), Balance: 7000, Count: 1},  // + fallback
			{ClientID: "Z", DueDate: due("2024-03-27"), Balance: 3000, Count: 4},  // + fallback
		},
	}
}

func TestForecast(t *testing.T) {
	type bucket struct {
		from, to string
		amount   ledger.Money
		count    int
	}
	tests := []struct {
		name     string
		fallback *float64
		horizon  int
		buckets  []bucket
		beyond   ForecastAmount
	}{
		{
			// Fallback 2.5 -> 3 days: B 03-20 -> 03-23; Z 03-26 -> 03-29 (last day in); Z 03-27 -> 03-30 (beyond).
			name: "fallback rounds half away", fallback: ptr(2.5), horizon: 14,
			buckets: []bucket{
				{"2024-03-16", "2024-03-22", 10000 + 1000, 2},        // A 03-16, N 03-18
				{"2024-03-23", "2024-03-29", 20000 + 5000 + 7000, 4}, // A 03-25, B 03-23, Z 03-29
			},
			beyond: ForecastAmount{Amount: 3000, InvoiceCount: 4},
		},
		{
			// No fallback: B and Z on their due dates, 03-20, 03-26 and 03-27; a 10-day horizon ends 03-25.
			name: "no fallback, short last bucket", horizon: 10,
			buckets: []bucket{
				{"2024-03-16", "2024-03-22", 10000 + 1000 + 5000, 3}, // A 03-16, N 03-18, B 03-20
				{"2024-03-23", "2024-03-25", 20000, 2},               // A 03-25
			},
			beyond: ForecastAmount{Amount: 10000, InvoiceCount: 5}, // Z 03-26 and 03-27
		},
		{
			// A negative fallback cannot bring an invoice before D+1: -40 puts every B and Z invoice on 03-16.
			name: "negative fallback", fallback: ptr(-40.0), horizon: 1,
			buckets: []bucket{{"2024-03-16", "2024-03-16", 10000 + 5000 + 7000 + 3000, 7}},
			beyond:  ForecastAmount{Amount: 20000 + 1000, InvoiceCount: 3}, // A 03-25, N 03-18
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Forecast(forecastFacts(t, tt.fallback), tt.horizon)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Buckets) != len(tt.buckets) {
				t.Fatalf("%d buckets, want %d: %+v", len(r.Buckets), len(tt.buckets), r.Buckets)
			}
			for i, w := range tt.buckets {
				want := ForecastBucket{From: MustDate(t, w.from), To: MustDate(t, w.to), ForecastAmount: ForecastAmount{w.amount, w.count}}
				if r.Buckets[i] != want {
					t.Errorf("bucket %d = %+v, want %+v", i, r.Buckets[i], want)
				}
			}
			if r.Beyond != tt.beyond {
				t.Errorf("beyond = %+v, want %+v", r.Beyond, tt.beyond)
			}
			if want := (ForecastAmount{Amount: 46000, InvoiceCount: 10}); r.Total != want {
				t.Errorf("total = %+v, want %+v", r.Total, want)
			}
			if r.AsOf != MustDate(t, "2024-03-15") || r.HorizonDays != tt.horizon {
				t.Errorf("as_of, horizon = %s, %d", r.AsOf, r.HorizonDays)
			}
		})
	}
}

func TestForecastHorizon(t *testing.T) {
	tests := []struct {
		horizon, buckets int
		ok               bool
	}{
		{0, 0, false}, {-7, 0, false}, {731, 0, false},
		{1, 1, true}, {7, 1, true}, {8, 2, true}, {90, 13, true}, {730, 105, true},
	}
	for _, tt := range tests {
		r, err := Forecast(Facts{AsOf: MustDate(t, "2024-03-15")}, tt.horizon)
		if !tt.ok {
			var fe *fault.Error
			if err == nil || fault.Code(err) != fault.Invalid || !asFault(err, &fe) || len(fe.Fields) != 1 || fe.Fields[0].Field != "horizon_days" {
				t.Errorf("Forecast(horizon %d) error = %v, want a validation error on horizon_days", tt.horizon, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Forecast(horizon %d): %v", tt.horizon, err)
			continue
		}
		if len(r.Buckets) != tt.buckets || r.Buckets[len(r.Buckets)-1].To != MustDate(t, "2024-03-15").AddDays(tt.horizon) {
			t.Errorf("horizon %d: %d buckets ending %s, want %d ending D+%d", tt.horizon, len(r.Buckets), r.Buckets[len(r.Buckets)-1].To, tt.buckets, tt.horizon)
		}
	}
}

// TestWeightedDBT checks the unrounded portfolio figure given to Facts.FallbackDBT.
func TestWeightedDBT(t *testing.T) {
	if got := WeightedDBT(nil); got != nil {
		t.Errorf("WeightedDBT(nil) = %v, want nil", *got)
	}
	// (4 x 100 + 5 x 200) / 300 = 4.6666...
	got := WeightedDBT([]PaidGroup{{ClientID: "A", DBT: 4, Count: 1, Amount: 100}, {ClientID: "B", DBT: 5, Count: 1, Amount: 200}})
	if got == nil || *got != 14.0/3 {
		t.Errorf("WeightedDBT = %v, want 14/3", got)
	}
}
