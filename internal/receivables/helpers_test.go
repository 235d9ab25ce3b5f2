package receivables

import (
	"errors"
	"testing"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// MustDate parses YYYY-MM-DD or fails the test.
func MustDate(t testing.TB, s string) ledger.Date {
	t.Helper()
	d, err := ledger.ParseDate(s)
	if err != nil {
		t.Fatalf("date %q: %v", s, err)
	}
	return d
}

// MustMoney parses a decimal amount or fails the test.
func MustMoney(t testing.TB, s string) ledger.Money {
	t.Helper()
	m, err := ledger.ParseMoney(s, '.')
	if err != nil {
		t.Fatalf("amount %q: %v", s, err)
	}
	return m
}

// MustEqualMoney checks an amount against its decimal text.
func MustEqualMoney(t testing.TB, name string, got ledger.Money, want string) {
	t.Helper()
	if w := MustMoney(t, want); got != w {
		t.Errorf("%s = %s, want %s", name, got, w)
	}
}

// MustEqualFloat checks a nullable figure against a value (compared exactly: figures are rounded
// decimals, and the want literal is the nearest float64 to the same decimal).
func MustEqualFloat(t testing.TB, name string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s = null, want %v", name, want)
	} else if *got != want {
		t.Errorf("%s = %v, want %v", name, *got, want)
	}
}

// MustBeNull checks that a nullable figure is null.
func MustBeNull[T any](t testing.TB, name string, got *T) {
	t.Helper()
	if got != nil {
		t.Errorf("%s = %v, want null", name, *got)
	}
}

// ptr returns a pointer to v, for expected nullable figures.
func ptr[T any](v T) *T { return &v }

// asFault is errors.As for *fault.Error.
func asFault(err error, target **fault.Error) bool { return errors.As(err, target) }
