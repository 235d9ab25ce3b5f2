package receivables

import (
	"math/big"

	"github.com/credorisk/credo/internal/ledger"
)

// Metrics are the receivables KPIs of one scope as of one date. A ratio whose denominator is zero
// (or, for the net-sales and cei denominators, negative) is null (a nil pointer), never an error. Amounts are exact cents; days are rounded to 2
// decimals, rates (fractions of 1) to 4, cei (a percentage) and the payment index to 2, each from
// its exact value, half away from zero.
type Metrics struct {
	// AsOf is D.
	AsOf ledger.Date `json:"as_of"`
	// OpenAR is the sum of the balances at D of the invoices open at D.
	OpenAR ledger.Money `json:"open_ar"`
	// NotDue is the part of OpenAR whose due date is on or after D.
	NotDue ledger.Money `json:"not_due"`
	// Overdue is OpenAR - NotDue.
	Overdue ledger.Money `json:"overdue"`
	// OverdueRate is Overdue / OpenAR.
	OverdueRate *float64 `json:"overdue_rate"`
	// Aging splits OpenAR by days past due; its buckets add up to OpenAR.
	Aging Aging `json:"aging"`
	// OpenInvoiceCount is the number of invoices open at D.
	OpenInvoiceCount int `json:"open_invoice_count"`
	// WindowStart is the first day of the window W (see WindowStart); W runs through D.
	WindowStart ledger.Date `json:"window_start"`
	// WindowDays is the number of days in W, both ends included.
	WindowDays int `json:"window_days"`
	// Sales3m is the net sales of W: invoices issued in W minus credit notes issued in W.
	Sales3m ledger.Money `json:"sales_3m"`
	// DSO is OpenAR / Sales3m x WindowDays; null when Sales3m <= 0.
	DSO *float64 `json:"dso"`
	// BestPossibleDSO is NotDue / Sales3m x WindowDays; null when Sales3m <= 0.
	BestPossibleDSO *float64 `json:"best_possible_dso"`
	// ADD (average days delinquent) is DSO - BestPossibleDSO, i.e. Overdue / Sales3m x WindowDays,
	// rounded from its exact value (so it may differ by 0.01 from the difference of the rounded
	// figures); null when Sales3m <= 0.
	ADD *float64 `json:"add"`
	// DSOCountback is the countback DSO: remaining = OpenAR; walking back from D's month (its
	// days counted from the 1st through D), a month whose net sales remaining covers (remaining
	// >= sales) has them subtracted and adds its days; otherwise days x remaining / sales is added
	// and the walk stops. A month with no sales adds its days; one with negative net sales adds
	// its days and increases remaining. The walk stops once nothing remains (0 when OpenAR is 0)
	// and after 24 months. Null only when OpenAR is 0 and none of the 24 months has sales
	// (nothing owed, nothing sold: nothing to measure).
	DSOCountback *float64 `json:"dso_countback"`
	// CEI is the collection effectiveness index in percent: (B + Sales3m - OpenAR) /
	// (B + Sales3m - NotDue) x 100, with B = Facts.OpenBeforeWindow; null when the denominator <= 0.
	CEI *float64 `json:"cei"`
	// PaidCount12m is the number of invoices whose paid date is in (D.AddMonths(-12), D].
	PaidCount12m int `json:"paid_count_12m"`
	// AvgDaysToPay12m is the mean over those invoices of paid date - issue date; null with none.
	AvgDaysToPay12m *float64 `json:"avg_days_to_pay_12m"`
	// WeightedDBT12m is the mean over those invoices of paid date - due date (signed), weighted by
	// invoice amount; null with none.
	WeightedDBT12m *float64 `json:"weighted_dbt_12m"`
	// LateShare12m is the share, by count, of those invoices paid after their due date; null with none.
	LateShare12m *float64 `json:"late_share_12m"`
	// PaymentIndex12m is the amount-weighted mean of PaymentPoints(dbt) over those invoices, a
	// Paydex-like index from 20 (very late) to 100 (early); null with none.
	PaymentIndex12m *float64 `json:"payment_index_12m"`
	// DBTTrend is the weighted dbt of invoices paid in (D.AddMonths(-3), D] minus that of invoices
	// paid in (D.AddMonths(-12), D.AddMonths(-3)]; positive means paying slower. Null when either
	// period has no paid invoice.
	DBTTrend *float64 `json:"dbt_trend"`
	// MaxDaysOverdue is the largest D - due date over the open invoices; 0 when none is overdue.
	MaxDaysOverdue int `json:"max_days_overdue"`
	// DisputeRate12m is the amount of disputed invoices issued in (D.AddMonths(-12), D] divided by
	// the amount of all invoices issued then; null when none was issued.
	DisputeRate12m *float64 `json:"dispute_rate_12m"`
	// BadDebtRate12m is the write-offs dated in (D.AddMonths(-12), D] divided by the amount of
	// invoices issued then; null when none was issued.
	BadDebtRate12m *float64 `json:"bad_debt_rate_12m"`
	// RelationshipMonths is the number of whole months from the first invoice to D (the largest n
	// with first.AddMonths(n) <= D); null when no invoice was issued on or before D.
	RelationshipMonths *int `json:"relationship_months"`
}

// Aging splits the open receivables by days past due at D (D - due date).
type Aging struct {
	// Current is not yet due: due date on or after D. It equals Metrics.NotDue.
	Current ledger.Money `json:"current"`
	// D1to30 is 1 to 30 days past due.
	D1to30 ledger.Money `json:"d1_30"`
	// D31to60 is 31 to 60 days past due.
	D31to60 ledger.Money `json:"d31_60"`
	// D61to90 is 61 to 90 days past due.
	D61to90 ledger.Money `json:"d61_90"`
	// D90Plus is over 90 days past due.
	D90Plus ledger.Money `json:"d90_plus"`
}

// Compute turns facts into metrics. It cannot fail: a scope with no invoices gives zeros and nulls.
func Compute(f Facts) Metrics {
	d := f.AsOf
	m := Metrics{AsOf: d, WindowStart: WindowStart(d)}
	m.WindowDays = int(d-m.WindowStart) + 1

	for _, it := range f.Open {
		m.OpenAR += it.Balance
		m.OpenInvoiceCount += it.Count
		age := int(d - it.DueDate)
		switch {
		case age <= 0:
			m.Aging.Current += it.Balance
		case age <= 30:
			m.Aging.D1to30 += it.Balance
		case age <= 60:
			m.Aging.D31to60 += it.Balance
		case age <= 90:
			m.Aging.D61to90 += it.Balance
		default:
			m.Aging.D90Plus += it.Balance
		}
		if age > m.MaxDaysOverdue {
			m.MaxDaysOverdue = age
		}
	}
	m.NotDue = m.Aging.Current
	m.Overdue = m.OpenAR - m.NotDue
	m.OverdueRate = ratio(bi(int64(m.Overdue)), bi(int64(m.OpenAR)), rateDecimals)

	sales := monthlySales(f)
	for month := m.WindowStart; month <= d; month = month.AddMonths(1) {
		m.Sales3m += sales[month]
	}
	days := bi(int64(m.WindowDays))
	s3 := bi(int64(m.Sales3m))
	m.DSO = ratio(mul(bi(int64(m.OpenAR)), days), s3, dayDecimals)
	m.BestPossibleDSO = ratio(mul(bi(int64(m.NotDue)), days), s3, dayDecimals)
	m.ADD = ratio(mul(bi(int64(m.Overdue)), days), s3, dayDecimals)
	m.DSOCountback = countback(d, m.OpenAR, sales)

	base := bi(int64(f.OpenBeforeWindow) + int64(m.Sales3m))
	m.CEI = ratio(mul(sub(base, bi(int64(m.OpenAR))), bi(100)), sub(base, bi(int64(m.NotDue))), indexDecimals)

	b := summarisePaid(f.Paid)
	m.PaidCount12m = int(b.all.count)
	m.AvgDaysToPay12m = ratio(bi(b.sumDaysToPay), bi(b.all.count), dayDecimals)
	m.WeightedDBT12m = b.all.weightedDBT()
	m.LateShare12m = ratio(bi(b.late), bi(b.all.count), rateDecimals)
	m.PaymentIndex12m = ratio(b.points84.big(), mul(b.all.amount.big(), bi(pointsScale)), indexDecimals)
	m.DBTTrend = dbtTrend(b.recent, b.prior)

	issued := bi(int64(f.Issued12m))
	m.DisputeRate12m = ratio(bi(int64(f.Disputed12m)), issued, rateDecimals)
	m.BadDebtRate12m = ratio(bi(int64(f.WrittenOff12m)), issued, rateDecimals)
	if f.FirstInvoice != nil {
		n := wholeMonths(*f.FirstInvoice, d)
		m.RelationshipMonths = &n
	}
	return m
}

// monthlySales indexes the net sales of the 24 months ending with D's month by their first day,
// summing duplicates and dropping months out of range.
func monthlySales(f Facts) map[ledger.Date]ledger.Money {
	first, last := FirstSalesMonth(f.AsOf), f.AsOf.MonthStart()
	sales := make(map[ledger.Date]ledger.Money, countbackMonths)
	for _, ms := range f.Months {
		if month := ms.Month.MonthStart(); month >= first && month <= last {
			sales[month] += ms.Sales
		}
	}
	return sales
}

// countback is the countback DSO (definition 6). remaining starts at open_ar; walking back from
// D's month (its days counted from the 1st through D), a month whose net sales are covered by
// remaining (remaining >= sales) is consumed whole: its sales are subtracted and its days added;
// otherwise days x remaining / sales is added and the walk stops. A month with no sales adds its
// days and goes on; a month with negative net sales (credit notes for earlier invoices) increases
// remaining, since those credit notes already lowered open_ar. The walk also stops once nothing
// remains (so open_ar 0 gives 0, and empty months after the last consumed one add nothing) and
// after 24 months.
func countback(d ledger.Date, openAR ledger.Money, sales map[ledger.Date]ledger.Money) *float64 {
	if openAR == 0 {
		for _, s := range sales {
			if s != 0 {
				zero := 0.0
				return &zero
			}
		}
		return nil
	}
	remaining := openAR
	whole := int64(0)
	month := d.MonthStart()
	for i := 0; i < countbackMonths && remaining != 0; i++ {
		days := int64(month.MonthEnd()-month) + 1
		if i == 0 {
			days = int64(d-month) + 1
		}
		s := sales[month]
		if remaining < s {
			// Partial month: whole + days x remaining / s, exactly.
			num := new(big.Int).Add(mul(bi(whole), bi(int64(s))), mul(bi(days), bi(int64(remaining))))
			return ratio(num, bi(int64(s)), dayDecimals)
		}
		remaining -= s
		whole += days
		month = month.AddMonths(-1)
	}
	v := float64(whole)
	return &v
}

// wholeMonths is the largest n >= 0 with from.AddMonths(n) <= to.
func wholeMonths(from, to ledger.Date) int {
	fy, fm, _ := from.Parts()
	ty, tm, _ := to.Parts()
	n := (ty-fy)*12 + int(tm-fm)
	for n > 0 && from.AddMonths(n) > to {
		n--
	}
	if n < 0 {
		return 0
	}
	return n
}
