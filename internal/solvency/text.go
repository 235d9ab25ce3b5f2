package solvency

import (
	"errors"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/credorisk/credo/internal/ledger"
)

// foldFrench lower-cases s, removes French accents, turns typographic apostrophes into ' and
// collapses spaces, so wording rules match "clôture", "cloture" and "CLÔTURE" alike. One pass:
// it runs on every judgment of every notice.
func foldFrench(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace := false
	for _, r := range s {
		r = unicode.ToLower(r)
		var two string
		switch r {
		case 'à', 'â', 'ä':
			r = 'a'
		case 'é', 'è', 'ê', 'ë':
			r = 'e'
		case 'î', 'ï':
			r = 'i'
		case 'ô', 'ö':
			r = 'o'
		case 'ù', 'û', 'ü':
			r = 'u'
		case 'ç':
			r = 'c'
		case 'ÿ':
			r = 'y'
		case 'œ':
			two = "oe"
		case 'æ':
			two = "ae"
		case '’', '‘':
			r = '\''
		}
		if unicode.IsSpace(r) {
			pendingSpace = b.Len() > 0
			continue
		}
		if pendingSpace {
			b.WriteByte(' ')
			pendingSpace = false
		}
		if two != "" {
			b.WriteString(two)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

var frenchMonths = map[string]time.Month{
	"janvier": time.January, "fevrier": time.February, "mars": time.March, "avril": time.April,
	"mai": time.May, "juin": time.June, "juillet": time.July, "aout": time.August,
	"septembre": time.September, "octobre": time.October, "novembre": time.November, "decembre": time.December,
}

var frenchDateRE = regexp.MustCompile(`^(\d{1,2})(?:er)? ([a-z]+) (\d{4})$`)

// errDate is returned for a date in none of the BODACC forms.
var errDate = errors.New("not a date as YYYY-MM-DD, DD/MM/YYYY or \"10 décembre 2009\"")

// parseRegisterDate reads the date forms found in BODACC and SIRENE records: "2024-01-15",
// "2024-01-15T00:00:00", "15/01/2024", "1er janvier 2020", "10 décembre 2009".
func parseRegisterDate(s string) (ledger.Date, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 10 && s[4] == '-' && s[7] == '-' {
		return ledger.ParseDate(s[:10])
	}
	if len(s) == 10 && s[2] == '/' && s[5] == '/' {
		return ledger.ParseDateLayout(s, "02/01/2006")
	}
	if m := frenchDateRE.FindStringSubmatch(foldFrench(s)); m != nil {
		month, ok := frenchMonths[m[2]]
		if !ok {
			return 0, errDate
		}
		day, _ := strconv.Atoi(m[1])
		year, _ := strconv.Atoi(m[3])
		d := ledger.DateOf(year, month, day)
		if y, mo, dd := d.Parts(); y != year || mo != month || dd != day || d < ledger.MinDate || d > ledger.MaxDate {
			return 0, errDate
		}
		return d, nil
	}
	return 0, errDate
}

// amountRE is a plain decimal with an optional short exponent: big.Rat alone would also take
// fractions, hex and exponents large enough to exhaust memory.
var amountRE = regexp.MustCompile(`^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,2})?$`)

// errAmount is returned for an amount that is not a decimal number within range.
var errAmount = errors.New("not a decimal amount within range")

// parseAmount reads a provider amount: a JSON number or a numeric string, possibly with an
// exponent or more than two decimals ("875000000.0", "1.2E7"), rounded half away from zero to
// the cent. ok is false for a non-numeric text ("Credit Limit not applicable", ""), which providers
// use for "none".
func parseAmount(s string) (m ledger.Money, ok bool, err error) {
	s = strings.TrimSpace(strings.Trim(strings.TrimSpace(s), `"`))
	if s == "" || s == "null" {
		return 0, false, nil
	}
	if !amountRE.MatchString(s) {
		return 0, false, nil
	}
	r, okr := new(big.Rat).SetString(s)
	if !okr {
		return 0, false, nil
	}
	cents := new(big.Rat).Mul(r, big.NewRat(100, 1))
	q, rem := new(big.Int).QuoRem(cents.Num(), cents.Denom(), new(big.Int))
	// Round half away from zero: |2*rem| >= denom.
	if new(big.Int).Abs(new(big.Int).Mul(rem, big.NewInt(2))).Cmp(cents.Denom()) >= 0 {
		if rem.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() || q.Int64() > int64(ledger.MaxAmount) || q.Int64() < -int64(ledger.MaxAmount) {
		return 0, false, errAmount
	}
	return ledger.Money(q.Int64()), true, nil
}
