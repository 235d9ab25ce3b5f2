package web

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/credorisk/credo/internal/ledger"
)

// Typography of the two locales. French groups thousands with a narrow no-break space and puts
// a no-break space before the currency sign and the percent sign (CLDR), so a figure never
// breaks across lines.
const (
	nnbsp = "\u202f" // narrow no-break space
	nbsp  = "\u00a0"
	dash  = "—" // a value that does not exist (a ratio over zero)
)

// locale formats numbers, amounts and dates for one language.
type locale struct {
	lang     string // "en" or "fr"
	currency string // ISO 4217
}

// symbols of the currencies people read as a sign; others are written as their code.
var currencySymbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}

// group writes the digits of a non-negative integer with the locale's thousands separator.
func (l locale) group(digits string) string {
	sep := ","
	if l.lang == "fr" {
		sep = nnbsp
	}
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

func (l locale) decimalMark() string {
	if l.lang == "fr" {
		return ","
	}
	return "."
}

// amount writes cents as a grouped number with two decimals, without a currency.
func (l locale) amount(m ledger.Money) string {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = uint64(-m) // the most negative int64 is no amount the ledger holds
	}
	s := l.group(strconv.FormatUint(u/100, 10)) + l.decimalMark() + twoDigits(u%100)
	if neg {
		return "-" + s
	}
	return s
}

func twoDigits(n uint64) string {
	if n < 10 {
		return "0" + strconv.FormatUint(n, 10)
	}
	return strconv.FormatUint(n, 10)
}

// money writes an amount with its currency: €1,234.56 in English, 1 234,56 € in French.
func (l locale) money(m ledger.Money) string {
	num := l.amount(m)
	sign := ""
	if strings.HasPrefix(num, "-") {
		sign, num = "-", num[1:]
	}
	sym, ok := currencySymbols[l.currency]
	switch {
	case l.lang == "fr" && ok:
		return sign + num + nbsp + sym
	case l.lang == "fr":
		return sign + num + nbsp + l.currency
	case ok:
		return sign + sym + num
	default:
		return sign + l.currency + nbsp + num
	}
}

// number writes x rounded to decimals places, grouped.
func (l locale) number(x float64, decimals int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return dash
	}
	s := strconv.FormatFloat(math.Abs(x), 'f', decimals, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	out := l.group(intPart)
	if frac != "" {
		out += l.decimalMark() + frac
	}
	if x < 0 && strings.Trim(s, "0.") != "" {
		out = "-" + out
	}
	return out
}

// percent writes a fraction of 1 as a percentage: 0.1234 is 12.3% (12,3 % in French).
func (l locale) percent(f float64, decimals int) string {
	s := l.number(f*100, decimals)
	if l.lang == "fr" {
		return s + nnbsp + "%"
	}
	return s + "%"
}

var monthsEN = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// date writes a business date: 23 Nov 2026, or 23/11/2026 in French.
func (l locale) date(d ledger.Date) string {
	y, m, day := d.Parts()
	if l.lang == "fr" {
		return twoDigits(uint64(day)) + "/" + twoDigits(uint64(m)) + "/" + strconv.Itoa(y)
	}
	return strconv.Itoa(day) + " " + monthsEN[m-1] + " " + strconv.Itoa(y)
}

// timestamp writes an instant in UTC, to the minute, saying so.
func (l locale) timestamp(t time.Time) string {
	t = t.UTC()
	return l.date(ledger.DateFromTime(t)) + " " + t.Format("15:04") + " UTC"
}

// shortDate writes a date without its year, for chart labels: 24 Nov, or 24/11 in French.
func (l locale) shortDate(d ledger.Date) string {
	_, m, day := d.Parts()
	if l.lang == "fr" {
		return twoDigits(uint64(day)) + "/" + twoDigits(uint64(m))
	}
	return strconv.Itoa(day) + " " + monthsEN[m-1]
}

// shortest writes x with as many decimals as it has (at most 4), grouped: 23.5, 1,200, 0.0125.
func (l locale) shortest(x float64) string {
	s := strconv.FormatFloat(x, 'f', -1, 64)
	_, frac, _ := strings.Cut(s, ".")
	return l.number(x, min(len(frac), 4))
}
