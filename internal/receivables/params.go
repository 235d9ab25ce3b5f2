package receivables

import (
	"strconv"
	"strings"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// ParseAsOf reads the as_of query parameter: empty means today, otherwise YYYY-MM-DD of a real
// day between 1900 and 2999. Errors are fault.BadRequest naming the field as_of (an HTTP 400).
func ParseAsOf(s string, today ledger.Date) (ledger.Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return today, nil
	}
	d, err := ledger.ParseDate(s)
	if err != nil {
		return 0, &fault.Error{Code: fault.BadRequest, Message: "invalid as_of date", Err: err,
			Fields: []fault.FieldError{fault.Field("as_of", "must be a real date as YYYY-MM-DD, got %q", s)}}
	}
	return d, nil
}

// ParseHorizon reads the horizon_days query parameter: empty means DefaultHorizonDays, otherwise
// a whole number from 1 to MaxHorizonDays. Errors are fault.BadRequest naming horizon_days (an
// HTTP 400); Forecast checks the range again for callers that skip this.
func ParseHorizon(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultHorizonDays, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxHorizonDays {
		return 0, &fault.Error{Code: fault.BadRequest, Message: "invalid horizon_days",
			Fields: []fault.FieldError{fault.Field("horizon_days", "must be a whole number of days from 1 to %d, got %q", MaxHorizonDays, s)}}
	}
	return n, nil
}
