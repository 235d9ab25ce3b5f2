// Package fault is the error vocabulary of every Credo package: a code, a message safe to show,
// and the fields at fault. HTTPStatus maps codes to statuses for both HTTP layers (the API and the
// console).
package fault

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes shared by every domain package; the HTTP layer maps each to one status.
const (
	Invalid         = "invalid"         // the input breaks a rule (422)
	BadRequest      = "bad_request"     // the request itself is malformed: syntax, parameters (400)
	NotFound        = "not_found"       // the target does not exist (404)
	Conflict        = "conflict"        // the input contradicts the stored state (409)
	Unauthenticated = "unauthenticated" // no valid API key (401)
	Forbidden       = "forbidden"       // the caller may not do this (403)
	Unavailable     = "unavailable"     // a dependency cannot take the request now (503)
	TooLarge        = "too_large"       // the body is over the size limit (413)
	Internal        = "internal"        // a bug or an unexpected failure (500, never detailed to the caller)
)

var httpStatus = map[string]int{
	Invalid:         http.StatusUnprocessableEntity,
	BadRequest:      http.StatusBadRequest,
	NotFound:        http.StatusNotFound,
	Conflict:        http.StatusConflict,
	Unauthenticated: http.StatusUnauthorized,
	Forbidden:       http.StatusForbidden,
	Unavailable:     http.StatusServiceUnavailable,
	TooLarge:        http.StatusRequestEntityTooLarge,
	Internal:        http.StatusInternalServerError,
}

// HTTPStatus is the HTTP status of a code of the table above, 0 for any other string.
func HTTPStatus(code string) int { return httpStatus[code] }

// HTTPStatuses returns a copy of the table from codes to HTTP statuses.
func HTTPStatuses() map[string]int {
	m := make(map[string]int, len(httpStatus))
	for k, v := range httpStatus {
		m[k] = v
	}
	return m
}

// FieldError names one invalid field of an input, with its line for file imports.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Line    int    `json:"line,omitempty"`
}

// Error is a domain error with a code from the table above, a message safe to show to the caller,
// and the fields at fault for validation failures.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error with a code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Validation builds a validation error (code Invalid) from field errors.
func Validation(msg string, fields ...FieldError) *Error {
	return &Error{Code: Invalid, Message: msg, Fields: fields}
}

// Field is a shorthand for one FieldError.
func Field(field, format string, args ...any) FieldError {
	return FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Code returns the code of err, Internal when err is not a fault Error.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}
