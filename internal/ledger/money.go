package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Money is an exact amount in minor units (cents) of the deployment's base currency.
type Money int64

// MaxAmount bounds any single amount (one thousand billion): beyond it an input is absurd, and
// sums of millions of such amounts still fit in an int64.
const MaxAmount Money = 1_000_000_000_000_00

// ErrAmountFormat is returned for an amount that is not a decimal number with at most two decimals.
var ErrAmountFormat = errors.New("must be a decimal number with at most two decimals")

// ParseMoney reads "1234.5", "-12", "1 234,50" (with decimal ','): a sign, digits, and at most two
// decimals after the decimal separator. Spaces and the other separator as thousands grouping are
// accepted only when decimal is ','.
func ParseMoney(s string, decimal byte) (Money, error) {
	s = strings.TrimSpace(s)
	if decimal == ',' {
		s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", ".", "").Replace(s)
		s = strings.Replace(s, ",", ".", 1)
	}
	if s == "" {
		return 0, ErrAmountFormat
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") || len(frac) > 2 || (hasDot && frac == "") {
		return 0, ErrAmountFormat
	}
	if whole == "" {
		whole = "0"
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, ErrAmountFormat
			}
		}
	}
	if len(whole) > 15 {
		return 0, fmt.Errorf("%w: too large", ErrAmountFormat)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, ErrAmountFormat
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	m := Money(w*100 + f)
	if neg {
		m = -m
	}
	return m, nil
}

// String formats the amount as "-1234.50".
func (m Money) String() string {
	neg := m < 0
	v := int64(m)
	if neg {
		v = -v
	}
	s := fmt.Sprintf("%d.%02d", v/100, v%100)
	if neg {
		return "-" + s
	}
	return s
}

// Float is the amount in major units, for ratios and display only (never for sums).
func (m Money) Float() float64 { return float64(m) / 100 }

// MarshalJSON writes the amount as a JSON number with two decimals.
func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalJSON accepts a JSON number with at most two decimals (no exponent, no string). A bad
// value is a *json.UnmarshalTypeError, so that encoding/json names the field at fault.
func (m *Money) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	v, err := ParseMoney(s, '.')
	if err != nil || strings.ContainsAny(s, "eE\"") {
		return &json.UnmarshalTypeError{Value: jsonValueKind(s), Type: reflect.TypeFor[Money]()}
	}
	*m = v
	return nil
}

// jsonValueKind describes a JSON value for an error message.
func jsonValueKind(s string) string {
	switch {
	case s == "":
		return "value"
	case s[0] == '"':
		return "string"
	case s == "true" || s == "false":
		return "boolean"
	case s[0] == '{':
		return "object"
	case s[0] == '[':
		return "array"
	}
	return "number " + s
}
