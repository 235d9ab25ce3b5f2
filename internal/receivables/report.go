package receivables

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/credorisk/credo/internal/ledger"
)

// WriteReport writes metrics, and a forecast when fc is not nil, as a report for a person at a
// terminal (`credo metrics`): one figure per line, labels aligned, amounts with thousands
// separators, "n/a" for a figure that has no value. scope names what was measured, such as
// "client ACME" or "portfolio". The only error is the writer's.
func WriteReport(w io.Writer, scope string, m Metrics, fc *ForecastResult) error {
	var r report
	r.title(fmt.Sprintf("Receivables of %s as of %s", scope, m.AsOf))
	r.heading("Open receivables")
	r.row("Open receivables", money(m.OpenAR), plural(m.OpenInvoiceCount, "invoice"))
	r.row("Not due", money(m.NotDue), "")
	r.row("Overdue", money(m.Overdue), percentOf(m.OverdueRate))
	r.row("Aging: current", money(m.Aging.Current), "not yet due")
	r.row("Aging: 1-30 days", money(m.Aging.D1to30), "past due")
	r.row("Aging: 31-60 days", money(m.Aging.D31to60), "past due")
	r.row("Aging: 61-90 days", money(m.Aging.D61to90), "past due")
	r.row("Aging: over 90 days", money(m.Aging.D90Plus), "past due")
	r.row("Max days overdue", strconv.Itoa(m.MaxDaysOverdue), "days")

	r.heading(fmt.Sprintf("Sales and DSO (window %s to %s, %d days)", m.WindowStart, m.AsOf, m.WindowDays))
	r.row("Sales in window", money(m.Sales3m), "net of credit notes")
	r.row("DSO", number(m.DSO, dayDecimals), "days")
	r.row("Best possible DSO", number(m.BestPossibleDSO, dayDecimals), "days")
	r.row("Average days delinquent", number(m.ADD, dayDecimals), "days")
	r.row("DSO (countback)", number(m.DSOCountback, dayDecimals), "days")
	r.row("Collection effectiveness", number(m.CEI, indexDecimals), "%")

	r.heading("Payment behaviour, last 12 months")
	r.row("Invoices paid", strconv.Itoa(m.PaidCount12m), "")
	r.row("Average days to pay", number(m.AvgDaysToPay12m, dayDecimals), "days")
	r.row("Weighted days beyond terms", number(m.WeightedDBT12m, dayDecimals), "days")
	r.row("Paid late", percent(m.LateShare12m), "% of invoices paid")
	r.row("Payment index", number(m.PaymentIndex12m, indexDecimals), "20 (late) to 100 (early)")
	r.row("Days beyond terms trend", signed(m.DBTTrend), "last 3 months vs 9 before; + is slower")
	r.row("Disputed", percent(m.DisputeRate12m), "% of amount issued")
	r.row("Written off", percent(m.BadDebtRate12m), "% of amount issued")
	rel := "n/a"
	if m.RelationshipMonths != nil {
		rel = strconv.Itoa(*m.RelationshipMonths)
	}
	r.row("Relationship", rel, "months since the first invoice")

	if fc != nil {
		r.forecast(*fc)
	}
	_, err := io.WriteString(w, r.String())
	return err
}

// report collects lines first so that the value column can be aligned across all sections.
type report struct {
	lines []reportLine
	table strings.Builder
}

type reportLine struct {
	label, value, note string
	kind               int // 0 row, 1 heading, 2 title
}

func (r *report) title(s string)   { r.lines = append(r.lines, reportLine{label: s, kind: 2}) }
func (r *report) heading(s string) { r.lines = append(r.lines, reportLine{label: s, kind: 1}) }
func (r *report) row(label, value, note string) {
	r.lines = append(r.lines, reportLine{label: label, value: value, note: note})
}

// forecast renders the forecast as a table of its own under the figures.
func (r *report) forecast(fc ForecastResult) {
	rows := [][]string{{"From", "To", "Amount", "Invoices"}}
	for _, b := range fc.Buckets {
		rows = append(rows, []string{b.From.String(), b.To.String(), money(b.Amount), thousands(strconv.Itoa(b.InvoiceCount))})
	}
	rows = append(rows,
		[]string{"after", fc.AsOf.AddDays(fc.HorizonDays).String(), money(fc.Beyond.Amount), thousands(strconv.Itoa(fc.Beyond.InvoiceCount))},
		[]string{"total", "", money(fc.Total.Amount), thousands(strconv.Itoa(fc.Total.InvoiceCount))})
	widths := make([]int, 4)
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], len(cell))
		}
	}
	fmt.Fprintf(&r.table, "\nExpected collections, next %d days (by 7-day period)\n", fc.HorizonDays)
	for _, row := range rows {
		fmt.Fprintf(&r.table, "  %-*s  %-*s  %*s  %*s\n", widths[0], row[0], widths[1], row[1], widths[2], row[2], widths[3], row[3])
	}
}

func (r *report) String() string {
	lw, vw := 0, 0
	for _, l := range r.lines {
		if l.kind == 0 {
			lw, vw = max(lw, len(l.label)), max(vw, len(l.value))
		}
	}
	var b strings.Builder
	for _, l := range r.lines {
		switch l.kind {
		case 2:
			b.WriteString(l.label + "\n")
		case 1:
			b.WriteString("\n" + l.label + "\n")
		default:
			line := fmt.Sprintf("  %-*s  %*s  %s", lw, l.label, vw, l.value, l.note)
			b.WriteString(strings.TrimRight(line, " ") + "\n")
		}
	}
	b.WriteString(r.table.String())
	return b.String()
}

// money formats cents as 1,234,567.89.
func money(m ledger.Money) string { return thousands(m.String()) }

// number formats a nullable figure with thousands separators, "n/a" when null.
func number(v *float64, decimals int) string {
	if v == nil {
		return "n/a"
	}
	return thousands(strconv.FormatFloat(*v, 'f', decimals, 64))
}

// signed is number for days with an explicit + on positive values, for trends.
func signed(v *float64) string {
	s := number(v, dayDecimals)
	if v != nil && *v > 0 {
		return "+" + s
	}
	return s
}

// percent shows a rate (a fraction of 1 with 4 decimals) as a percentage with 2 decimals, the
// same digits shifted: the float error of x100 is far below the rounding step.
func percent(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return thousands(strconv.FormatFloat(*v*100, 'f', 2, 64))
}

func percentOf(v *float64) string {
	if v == nil {
		return ""
	}
	return percent(v) + " % of open receivables"
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return thousands(strconv.Itoa(n)) + " " + noun + "s"
}

// thousands inserts a comma every three digits of the integer part of a decimal numeral.
func thousands(s string) string {
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if hasFrac {
		b.WriteString("." + frac)
	}
	return b.String()
}
