package receivables

import (
	"math"
	"slices"
	"testing"

	"github.com/credorisk/credo/internal/ledger"
)

// naive computes the metrics straight from the definitions, invoice by invoice, in float64 with
// no grouping and no facts: an independent second opinion on BuildFacts + Compute. It relies on
// the IBM sample's shape (one full payment per invoice, no credit notes or write-offs).
type naive struct {
	openAR, notDue, sales3m, before                   float64
	aging                                             [5]float64
	dso, best, add, cei, countback                    float64
	paid                                              int
	avgDays, wdbt, late, index, trend, dispute        float64
	maxOverdue, windowDays                            int
	hasPaid, hasTrend, hasSales, hasIssued, hasMonths bool
}

func naiveMetrics(d ledger.Date, invoices []Invoice) naive {
	var n naive
	w0 := d.MonthStart().AddMonths(-2)
	n.windowDays = int(d-w0) + 1
	yearAgo, recent := d.AddMonths(-12), d.AddMonths(-3)
	var paidAmt, paidDBT, paidPts, recAmt, recDBT, priAmt, priDBT, issued, disputed float64
	monthSales := map[ledger.Date]float64{}
	for _, inv := range invoices {
		amt := inv.Amount.Float()
		settled := inv.Movements[0].Date
		if inv.IssueDate <= d && settled > d {
			n.openAR += amt
			age := int(d - inv.DueDate)
			bucket := min(max((age+29)/30, 0), 4) // 0: <=0, 1: 1..30, 2: 31..60, 3: 61..90, 4: >90
			n.aging[bucket] += amt
			if age <= 0 {
				n.notDue += amt
			}
			n.maxOverdue = max(n.maxOverdue, age)
		}
		if inv.IssueDate <= w0-1 && settled > w0-1 {
			n.before += amt
		}
		if inv.IssueDate >= w0 && inv.IssueDate <= d {
			n.sales3m += amt
		}
		if inv.IssueDate <= d {
			monthSales[inv.IssueDate.MonthStart()] += amt
		}
		if inv.IssueDate > yearAgo && inv.IssueDate <= d {
			issued += amt
			n.hasIssued = true
			if inv.Disputed {
				disputed += amt
			}
		}
		if settled > yearAgo && settled <= d {
			dbt := float64(settled - inv.DueDate)
			n.paid++
			n.avgDays += float64(settled - inv.IssueDate)
			paidAmt += amt
			paidDBT += amt * dbt
			paidPts += amt * naivePoints(dbt)
			if dbt > 0 {
				n.late++
			}
			if settled > recent {
				recAmt, recDBT = recAmt+amt, recDBT+amt*dbt
			} else {
				priAmt, priDBT = priAmt+amt, priDBT+amt*dbt
			}
		}
	}
	days := float64(n.windowDays)
	if n.hasSales = n.sales3m > 0; n.hasSales {
		n.dso, n.best, n.add = n.openAR/n.sales3m*days, n.notDue/n.sales3m*days, (n.openAR-n.notDue)/n.sales3m*days
	}
	n.cei = (n.before + n.sales3m - n.openAR) / (n.before + n.sales3m - n.notDue) * 100
	if n.hasPaid = n.paid > 0; n.hasPaid {
		n.avgDays /= float64(n.paid)
		n.late /= float64(n.paid)
		n.wdbt, n.index = paidDBT/paidAmt, paidPts/paidAmt
	}
	if n.hasTrend = recAmt > 0 && priAmt > 0; n.hasTrend {
		n.trend = recDBT/recAmt - priDBT/priAmt
	}
	if n.hasIssued {
		n.dispute = disputed / issued
	}
	// Countback, straight from definition 6; null when nothing is open and nothing sold in 24 months.
	for month, s := range monthSales {
		n.hasMonths = n.hasMonths || (s != 0 && month >= d.MonthStart().AddMonths(-23))
	}
	remaining, month := n.openAR, d.MonthStart()
	for i := 0; i < 24 && remaining > 0; i++ {
		mdays := float64(month.MonthEnd()-month) + 1
		if i == 0 {
			mdays = float64(d-month) + 1
		}
		s := monthSales[month]
		if remaining < s {
			n.countback += mdays * remaining / s
			break
		}
		remaining -= s
		n.countback += mdays
		month = month.AddMonths(-1)
	}
	return n
}

// naivePoints interpolates the payment index anchors in float64.
func naivePoints(dbt float64) float64 {
	xs := []float64{-30, -20, 0, 15, 22, 30, 60, 90, 120}
	ys := []float64{100, 90, 80, 70, 60, 50, 40, 30, 20}
	if dbt <= xs[0] {
		return ys[0]
	}
	for i := 1; i < len(xs); i++ {
		if dbt <= xs[i] {
			return ys[i-1] + (ys[i]-ys[i-1])*(dbt-xs[i-1])/(xs[i]-xs[i-1])
		}
	}
	return ys[len(ys)-1]
}

// MustClose checks a rounded figure against an unrounded float, within half a rounding step
// (plus float noise); want is ignored when the figure must be null.
func MustClose(t *testing.T, name string, got *float64, defined bool, want float64, decimals int) {
	t.Helper()
	if !defined {
		MustBeNull(t, name, got)
		return
	}
	if got == nil {
		t.Errorf("%s = null, want %.6f", name, want)
		return
	}
	if tol := 0.5*math.Pow10(-decimals) + 1e-9; math.Abs(*got-want) > tol {
		t.Errorf("%s = %v, want %.6f", name, *got, want)
	}
}

// TestIBMCrossCheck compares Compute(BuildFacts) with the naive computation on the IBM sample,
// for the portfolio and single clients, at month ends, mid-month, a leap day, and before the first
// and after the last invoice; and checks that the clients' open_ar add up to the portfolio's.
func TestIBMCrossCheck(t *testing.T) {
	all := MustLoadIBM(t)
	byClient := map[string][]Invoice{}
	for _, inv := range all {
		byClient[inv.ClientID] = append(byClient[inv.ClientID], inv)
	}
	clients := slices.Sorted(func(yield func(string) bool) {
		for id := range byClient {
			if !yield(id) {
				return
			}
		}
	})
	scopes := map[string][]Invoice{"portfolio": all}
	for _, id := range clients[:5] {
		scopes[id] = byClient[id]
	}
	for _, asOf := range []string{"2011-12-31", "2012-01-15", "2012-02-29", "2012-07-31", "2013-01-10", "2013-06-30", "2013-12-31", "2014-04-30"} {
		d := MustDate(t, asOf)
		for scope, invoices := range scopes {
			t.Run(asOf+"/"+scope, func(t *testing.T) {
				m := Compute(BuildFacts(d, invoices, nil))
				n := naiveMetrics(d, invoices)
				for _, c := range []struct {
					name string
					got  ledger.Money
					want float64
				}{
					{"open_ar", m.OpenAR, n.openAR}, {"not_due", m.NotDue, n.notDue}, {"sales_3m", m.Sales3m, n.sales3m},
					{"current", m.Aging.Current, n.aging[0]}, {"d1_30", m.Aging.D1to30, n.aging[1]},
					{"d31_60", m.Aging.D31to60, n.aging[2]}, {"d61_90", m.Aging.D61to90, n.aging[3]},
					{"d90_plus", m.Aging.D90Plus, n.aging[4]},
				} {
					if math.Abs(c.got.Float()-c.want) > 0.001 {
						t.Errorf("%s = %s, want %.2f", c.name, c.got, c.want)
					}
				}
				if m.WindowDays != n.windowDays || m.PaidCount12m != n.paid || m.MaxDaysOverdue != max(n.maxOverdue, 0) {
					t.Errorf("window_days, paid_count_12m, max_days_overdue = %d, %d, %d; want %d, %d, %d",
						m.WindowDays, m.PaidCount12m, m.MaxDaysOverdue, n.windowDays, n.paid, max(n.maxOverdue, 0))
				}
				MustClose(t, "dso", m.DSO, n.hasSales, n.dso, 2)
				MustClose(t, "best_possible_dso", m.BestPossibleDSO, n.hasSales, n.best, 2)
				MustClose(t, "add", m.ADD, n.hasSales, n.add, 2)
				MustClose(t, "cei", m.CEI, n.before+n.sales3m-n.notDue > 0, n.cei, 2)
				MustClose(t, "dso_countback", m.DSOCountback, n.openAR > 0 || n.hasMonths, n.countback, 2)
				MustClose(t, "avg_days_to_pay_12m", m.AvgDaysToPay12m, n.hasPaid, n.avgDays, 2)
				MustClose(t, "weighted_dbt_12m", m.WeightedDBT12m, n.hasPaid, n.wdbt, 2)
				MustClose(t, "late_share_12m", m.LateShare12m, n.hasPaid, n.late, 4)
				MustClose(t, "payment_index_12m", m.PaymentIndex12m, n.hasPaid, n.index, 2)
				MustClose(t, "dbt_trend", m.DBTTrend, n.hasTrend, n.trend, 2)
				MustClose(t, "dispute_rate_12m", m.DisputeRate12m, n.hasIssued, n.dispute, 4)
			})
		}
		var sum ledger.Money
		for _, id := range clients {
			sum += Compute(BuildFacts(d, byClient[id], nil)).OpenAR
		}
		if total := Compute(BuildFacts(d, all, nil)).OpenAR; sum != total {
			t.Errorf("%s: clients' open_ar add up to %s, portfolio %s", asOf, sum, total)
		}
	}
}
