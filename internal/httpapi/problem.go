package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/credorisk/credo/internal/fault"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string             `json:"type"`
	Title     string             `json:"title"`
	Status    int                `json:"status"`
	Detail    string             `json:"detail,omitempty"`
	Instance  string             `json:"instance,omitempty"`
	RequestID string             `json:"request_id,omitempty"`
	Errors    []fault.FieldError `json:"errors,omitempty"`
	// Extra members some problems carry (an import's report, for instance).
	Report any `json:"report,omitempty"`
}

// statusOf is fault's table from codes to HTTP statuses, with the API's own method_not_allowed.
var statusOf = fault.HTTPStatuses()

var titleOf = map[string]string{
	fault.Invalid:         "Validation failed",
	fault.BadRequest:      "Bad request",
	fault.NotFound:        "Not found",
	fault.Conflict:        "Conflict",
	fault.Unauthenticated: "Unauthenticated",
	fault.Forbidden:       "Forbidden",
	fault.Unavailable:     "Service unavailable",
	fault.TooLarge:        "Request body too large",
	fault.Internal:        "Internal error",
}

// ProblemContentType is the media type of error answers.
const ProblemContentType = "application/problem+json"

// errorHandler renders every error as problem+json. Only internal errors are logged in full;
// the caller sees "Internal error." and the request id to quote.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code := fault.Code(err)
	var fe *fault.Error
	p := Problem{Instance: c.Request().URL.Path, RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
	var he *echo.HTTPError
	switch {
	case errors.As(err, &fe):
		p.Detail, p.Errors = fe.Message, fe.Fields
		if code == fault.Internal {
			p.Detail = ""
		}
	case errors.As(err, &he):
		code = codeForStatus(he.Code)
		if m, ok := he.Message.(string); ok {
			p.Detail = m
		}
	case errors.Is(err, context.DeadlineExceeded):
		code = fault.Unavailable
		p.Detail = "the request took too long"
	case errors.Is(err, context.Canceled):
		code = fault.Unavailable
		p.Detail = "the request was cancelled"
	}
	p.Status = statusOf[code]
	if p.Status == 0 {
		p.Status = http.StatusInternalServerError
		code = fault.Internal
	}
	p.Type = "/problems/" + code
	p.Title = titleOf[code]
	if code == fault.Internal {
		s.log.ErrorContext(c.Request().Context(), "internal error", "err", err, "path", c.Request().URL.Path, "request_id", p.RequestID)
	} else if code == fault.Unavailable {
		s.log.WarnContext(c.Request().Context(), "unavailable", "err", err, "path", c.Request().URL.Path, "request_id", p.RequestID)
		c.Response().Header().Set("Retry-After", "1")
	}
	if r, ok := reportOf(err); ok {
		p.Report = r
	}
	writeProblem(c, p)
}

func writeProblem(c echo.Context, p Problem) {
	c.Response().Header().Set(echo.HeaderContentType, ProblemContentType)
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	_ = c.JSONBlob(p.Status, mustJSON(p))
}

func codeForStatus(status int) string {
	for code, st := range statusOf {
		if st == status && code != fault.Invalid {
			return code
		}
	}
	switch {
	case status == http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case status >= 500:
		return fault.Internal
	}
	return fault.BadRequest
}

func init() {
	statusOf["method_not_allowed"] = http.StatusMethodNotAllowed
	titleOf["method_not_allowed"] = "Method not allowed"
}

// withReport attaches a report (an import's counts) to an error's problem document.
type withReport struct {
	error
	report any
}

func (w withReport) Unwrap() error { return w.error }

func reportOf(err error) (any, bool) {
	var w withReport
	if errors.As(err, &w) {
		return w.report, true
	}
	return nil, false
}
