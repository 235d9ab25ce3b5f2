package decision

import (
	"errors"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/credorisk/credo/internal/fault"
)

// Diagnostic codes Credo adds to OPA's own (rego_parse_error, rego_type_error,
// rego_compile_error, rego_unsafe_var_error, rego_recursion_error).
const (
	CodeForbiddenBuiltin = "forbidden_builtin" // a call to a builtin Credo removed
	CodeDataShape        = "data_shape"        // data.json does not match the tables' schema
	CodeMissingDecision  = "missing_decision"  // no module defines the decision rule
	CodeBadFile          = "bad_file"          // a file name or encoding Credo cannot take
)

// Diagnostic is one problem in a policy version, where it is: File is the module's name (or
// data.json), Line and Column start at 1 and are 0 when the problem is the whole file.
type Diagnostic struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Line > 0 {
		fmt.Fprintf(&b, ":%d", d.Line)
		if d.Column > 0 {
			fmt.Fprintf(&b, ":%d", d.Column)
		}
	}
	fmt.Fprintf(&b, ": %s: %s", d.Code, d.Message)
	return b.String()
}

// CompileError is a policy version that cannot be used, with every problem found. It unwraps to
// a fault.Invalid error whose fields are the diagnostics, so the HTTP layer answers 422 with them;
// errors.As gives the full list with columns and codes.
type CompileError struct {
	Diagnostics []Diagnostic
}

func (e *CompileError) Error() string {
	parts := make([]string, len(e.Diagnostics))
	for i, d := range e.Diagnostics {
		parts[i] = d.String()
	}
	return "policy does not compile: " + strings.Join(parts, "; ")
}

// Unwrap presents the diagnostics in the shared error vocabulary.
func (e *CompileError) Unwrap() error {
	fields := make([]fault.FieldError, len(e.Diagnostics))
	for i, d := range e.Diagnostics {
		msg := d.Message
		if d.Column > 0 {
			msg = fmt.Sprintf("column %d: %s", d.Column, msg)
		}
		fields[i] = fault.FieldError{Field: d.File, Message: msg, Line: d.Line}
	}
	return fault.Validation("policy does not compile", fields...)
}

// diagnosticsOf converts OPA's errors, naming forbidden builtins; anything that is not an
// ast.Errors becomes one whole-file diagnostic on file.
func diagnosticsOf(err error, file string) []Diagnostic {
	var errs ast.Errors
	if !errors.As(err, &errs) {
		var one *ast.Error
		if !errors.As(err, &one) {
			return []Diagnostic{{File: file, Code: ast.CompileErr, Message: err.Error()}}
		}
		errs = ast.Errors{one}
	}
	out := make([]Diagnostic, 0, len(errs))
	for _, e := range errs {
		d := Diagnostic{File: file, Code: e.Code, Message: e.Message + hint(e)}
		var text string
		if e.Location != nil {
			if e.Location.File != "" {
				d.File = e.Location.File
			}
			d.Line, d.Column = e.Location.Row, e.Location.Col
			text = string(e.Location.Text)
		}
		out = append(out, forbiddenDiagnostic(d, text))
	}
	return out
}

// hint adds what the type checker knows to a bad reference: the fields the schema offers or the
// type it wants, which the one-line message leaves out.
func hint(e *ast.Error) string {
	d, ok := e.Details.(*ast.RefErrInvalidDetail)
	if !ok {
		return ""
	}
	if len(d.OneOf) > 0 {
		names := make([]string, len(d.OneOf))
		for i, v := range d.OneOf {
			names[i] = strings.Trim(v.String(), `"`)
		}
		return " (expected one of: " + strings.Join(names, ", ") + ")"
	}
	if d.Want != nil {
		return fmt.Sprintf(" (expected %v)", d.Want)
	}
	return ""
}
