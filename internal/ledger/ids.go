package ledger

import (
	"strconv"
	"unicode/utf8"

	"github.com/credorisk/credo/internal/fault"
)

// MaxIDLen bounds a caller's reference (client, invoice, payment, quote ids).
const MaxIDLen = 64

// ValidID reports whether s is a caller reference: 1 to 64 of A-Za-z0-9._:-
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// CheckID returns a field error when s is not a valid reference.
func CheckID(field, s string) *fault.FieldError {
	if s == "" {
		return &fault.FieldError{Field: field, Message: "is required"}
	}
	if !ValidID(s) {
		return &fault.FieldError{Field: field, Message: "must be 1 to 64 characters of A-Z a-z 0-9 . _ : -"}
	}
	return nil
}

// checkText validates a free-text field: valid UTF-8, no control characters but tab, at most max
// characters. Text is otherwise stored verbatim.
func checkText(field, s string, max int, required bool) *fault.FieldError {
	if s == "" {
		if required {
			return &fault.FieldError{Field: field, Message: "is required"}
		}
		return nil
	}
	if !utf8.ValidString(s) {
		return &fault.FieldError{Field: field, Message: "must be valid UTF-8"}
	}
	if n := utf8.RuneCountInString(s); n > max {
		return &fault.FieldError{Field: field, Message: "must be at most " + strconv.Itoa(max) + " characters"}
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' || r == 0x7f {
			return &fault.FieldError{Field: field, Message: "must not contain control characters"}
		}
	}
	return nil
}

// fieldErrors collects field errors, skipping nils.
type fieldErrors []fault.FieldError

func (fe *fieldErrors) add(e *fault.FieldError) {
	if e != nil {
		*fe = append(*fe, *e)
	}
}

func (fe *fieldErrors) addf(field, format string, args ...any) {
	*fe = append(*fe, fault.Field(field, format, args...))
}

func (fe fieldErrors) err(msg string) error {
	if len(fe) == 0 {
		return nil
	}
	return fault.Validation(msg, fe...)
}
