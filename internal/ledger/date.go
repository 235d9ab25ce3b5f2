package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Date is a business date (no time, no zone), stored as days since 1970-01-01 so that the
// difference of two dates is a number of days.
type Date int32

// ErrDateFormat is returned for a date that is not a real calendar day in the expected layout.
var ErrDateFormat = errors.New("must be a date as YYYY-MM-DD")

// MinDate and MaxDate bound the dates Credo accepts (years 1900 to 2999).
var (
	MinDate = DateOf(1900, 1, 1)
	MaxDate = DateOf(2999, 12, 31)
)

// DateOf builds a date from its parts; out-of-range parts normalise as time.Date does.
func DateOf(year int, month time.Month, day int) Date {
	return Date(time.Date(year, month, day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// DateFromTime takes the calendar day of t in UTC.
func DateFromTime(t time.Time) Date {
	y, m, d := t.UTC().Date()
	return DateOf(y, m, d)
}

// Today is the current date in UTC.
func Today() Date { return DateFromTime(time.Now()) }

// ParseDate reads YYYY-MM-DD and refuses impossible days such as 2023-02-30.
func ParseDate(s string) (Date, error) { return ParseDateLayout(s, time.DateOnly) }

// ParseDateLayout reads s with a Go time layout and refuses impossible days and years out of range.
func ParseDateLayout(s, layout string) (Date, error) {
	t, err := time.Parse(layout, strings.TrimSpace(s))
	if err != nil {
		return 0, ErrDateFormat
	}
	d := DateFromTime(t)
	if d < MinDate || d > MaxDate {
		return 0, fmt.Errorf("%w: year out of range", ErrDateFormat)
	}
	return d, nil
}

// Time is midnight UTC of the date.
func (d Date) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// Parts returns year, month and day.
func (d Date) Parts() (int, time.Month, int) { return d.Time().Date() }

// AddDays moves the date by n days.
func (d Date) AddDays(n int) Date { return d + Date(n) }

// AddMonths moves the date by n calendar months, clamping the day to the target month's length
// (2024-03-31 minus one month is 2024-02-29).
func (d Date) AddMonths(n int) Date {
	y, m, day := d.Parts()
	first := DateOf(y, m+time.Month(n), 1)
	if last := first.MonthEnd(); DateOf(y, m+time.Month(n), day) > last {
		return last
	}
	return DateOf(y, m+time.Month(n), day)
}

// MonthStart is the first day of the date's month.
func (d Date) MonthStart() Date {
	y, m, _ := d.Parts()
	return DateOf(y, m, 1)
}

// MonthEnd is the last day of the date's month.
func (d Date) MonthEnd() Date {
	y, m, _ := d.Parts()
	return DateOf(y, m+1, 1) - 1
}

// String formats the date as YYYY-MM-DD.
func (d Date) String() string { return d.Time().Format(time.DateOnly) }

// MarshalJSON writes "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// UnmarshalJSON reads "YYYY-MM-DD". A bad value is a *json.UnmarshalTypeError, so that
// encoding/json names the field at fault.
func (d *Date) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	bad := &json.UnmarshalTypeError{Value: jsonValueKind(s), Type: reflect.TypeFor[Date]()}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return bad
	}
	v, err := ParseDate(s[1 : len(s)-1])
	if err != nil {
		bad.Value = "string " + s
		return bad
	}
	*d = v
	return nil
}
