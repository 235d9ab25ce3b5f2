package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// decodeJSON reads the body strictly into dst: JSON only, no unknown fields, no trailing data;
// a syntax or type error names the field and the position.
func decodeJSON(c echo.Context, dst any) error {
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if ct != "" && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return fault.Validation("the body must be JSON", fault.Field("Content-Type", "must be application/json, got %q", ct))
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return bodyReadError(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return &fault.Error{Code: fault.BadRequest, Message: "the request body is empty; a JSON object is required"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, body)
	}
	if dec.More() {
		return &fault.Error{Code: fault.BadRequest, Message: "the body holds more than one JSON value"}
	}
	return nil
}

func bodyReadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &fault.Error{Code: fault.TooLarge, Message: fmt.Sprintf("the body is over the limit of %d bytes", mbe.Limit)}
	}
	return &fault.Error{Code: fault.BadRequest, Message: "the request body could not be read", Err: err}
}

func jsonError(err error, body []byte) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	bad := func(field, msg string) error {
		return &fault.Error{Code: fault.BadRequest, Message: "the body is not valid", Fields: []fault.FieldError{{Field: field, Message: msg}}}
	}
	switch {
	case errors.As(err, &se):
		line, col := position(body, se.Offset)
		return bad("body", fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, se))
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return bad(field, fmt.Sprintf("must be %s, not a JSON %s", jsonKind(te.Type.String()), te.Value))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return bad("body", "the JSON ends too early")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return bad(name, "is not a known field")
	}
	var fe *fault.Error
	if errors.As(err, &fe) {
		return err
	}
	// Errors from a field's own UnmarshalJSON (amounts, dates) carry no field name in encoding/json;
	// the message says what is wrong.
	return bad("body", err.Error())
}

func jsonKind(goType string) string {
	switch {
	case strings.Contains(goType, "ledger.Money"):
		return "an amount (a number with at most two decimals)"
	case strings.Contains(goType, "ledger.Date"):
		return "a date (YYYY-MM-DD)"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "float"):
		return "a number"
	}
	return "an object"
}

func position(b []byte, off int64) (line, col int) {
	line, col = 1, 1
	for i := int64(0); i < off && i < int64(len(b)); i++ {
		if b[i] == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}

// queryDate reads an optional YYYY-MM-DD query parameter, defaulting to today.
func queryDate(c echo.Context, name string) (ledger.Date, error) {
	v := c.QueryParam(name)
	if v == "" {
		return ledger.Today(), nil
	}
	d, err := ledger.ParseDate(v)
	if err != nil {
		return 0, &fault.Error{Code: fault.BadRequest, Message: "bad query parameter", Fields: []fault.FieldError{{Field: name, Message: fmt.Sprintf("%q is not a date as YYYY-MM-DD", v)}}}
	}
	return d, nil
}

// queryInt reads an optional integer query parameter.
func queryInt(c echo.Context, name string, def int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, &fault.Error{Code: fault.BadRequest, Message: "bad query parameter", Fields: []fault.FieldError{{Field: name, Message: fmt.Sprintf("%q is not an integer", v)}}}
	}
	return n, nil
}

// queryBool reads an optional boolean query parameter.
func queryBool(c echo.Context, name string) (bool, error) {
	switch strings.ToLower(c.QueryParam(name)) {
	case "", "false", "0", "no":
		return false, nil
	case "true", "1", "yes":
		return true, nil
	}
	return false, &fault.Error{Code: fault.BadRequest, Message: "bad query parameter", Fields: []fault.FieldError{{Field: name, Message: "must be true or false"}}}
}

// pathID validates a caller reference taken from the path.
func pathID(c echo.Context, name string) (string, error) {
	v := c.Param(name)
	if fe := ledger.CheckID(name, v); fe != nil {
		return "", &fault.Error{Code: fault.BadRequest, Message: "bad path parameter", Fields: []fault.FieldError{*fe}}
	}
	return v, nil
}
