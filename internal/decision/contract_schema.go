package decision

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/util"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/policies"
)

// The JSON schemas of the policy contract, embedded from policies/schema.
var (
	inputSchema  = sync.OnceValues(func() ([]byte, error) { return policies.FS.ReadFile("schema/input.json") })
	outputSchema = sync.OnceValues(func() ([]byte, error) { return policies.FS.ReadFile("schema/output.json") })
	dataSchema   = sync.OnceValues(func() ([]byte, error) { return policies.FS.ReadFile("schema/data.json") })
)

// schemaViolation is one place where a document breaks a JSON schema; Field is a dotted path
// ("quote.amount", "(root)" for the document itself).
type schemaViolation struct {
	Field   string
	Message string
}

// schemaChecker validates documents against one JSON Schema (draft 4 to 7) with the validator
// OPA embeds, so the schema means the same here as in the policies' type checker.
type schemaChecker struct {
	query rego.PreparedEvalQuery
}

func newSchemaChecker(ctx context.Context, schema []byte) (*schemaChecker, error) {
	var s any
	if err := util.UnmarshalJSON(schema, &s); err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	store := inmem.NewFromObjectWithOpts(map[string]any{"schema": s}, inmem.OptRoundTripOnWrite(false))
	pq, err := rego.New(
		rego.Query(`[valid, errors] := json.match_schema(input, data.schema)`),
		rego.Store(store),
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare schema check: %w", err)
	}
	return &schemaChecker{query: pq}, nil
}

func (c *schemaChecker) check(ctx context.Context, doc ast.Value) ([]schemaViolation, error) {
	rs, err := c.query.Eval(ctx, rego.EvalParsedInput(doc))
	if err != nil {
		return nil, fmt.Errorf("check schema: %w", err)
	}
	if len(rs) != 1 {
		return nil, errors.New("check schema: no result")
	}
	if valid, _ := rs[0].Bindings["valid"].(bool); valid {
		return nil, nil
	}
	raw, _ := rs[0].Bindings["errors"].([]any)
	out := make([]schemaViolation, 0, len(raw))
	for _, e := range raw {
		m, _ := e.(map[string]any)
		field, _ := m["field"].(string)
		desc, _ := m["desc"].(string)
		out = append(out, schemaViolation{Field: field, Message: desc})
	}
	return out, nil
}

var (
	inputChecker  = sync.OnceValues(func() (*schemaChecker, error) { return embeddedChecker(inputSchema) })
	outputChecker = sync.OnceValues(func() (*schemaChecker, error) { return embeddedChecker(outputSchema) })
)

func embeddedChecker(schema func() ([]byte, error)) (*schemaChecker, error) {
	b, err := schema()
	if err != nil {
		return nil, err
	}
	return newSchemaChecker(context.Background(), b)
}

// ValidateInputJSON checks a JSON input document against policies/schema/input.json; the error
// is a fault.Invalid with one field per violation. The integrator's tests and the replay tooling
// use it: live decisions take the typed Input, checked by Input.Validate.
func ValidateInputJSON(ctx context.Context, doc []byte) error {
	return validateJSON(ctx, inputChecker, "invalid policy input", doc)
}

// ValidateResultJSON checks a JSON decision against policies/schema/output.json.
func ValidateResultJSON(ctx context.Context, doc []byte) error {
	return validateJSON(ctx, outputChecker, "invalid policy result", doc)
}

func validateJSON(ctx context.Context, checker func() (*schemaChecker, error), msg string, doc []byte) error {
	c, err := checker()
	if err != nil {
		return fmt.Errorf("load schema: %w", err)
	}
	v, err := ast.ValueFromReader(bytes.NewReader(doc))
	if err != nil {
		return fault.Validation(msg, fault.Field("(root)", "not JSON: %v", err))
	}
	violations, err := c.check(ctx, v)
	if err != nil {
		return err
	}
	if len(violations) == 0 {
		return nil
	}
	fields := make([]fault.FieldError, len(violations))
	for i, x := range violations {
		fields[i] = fault.Field(x.Field, "%s", x.Message)
	}
	return fault.Validation(msg, fields...)
}

// checkData validates the data tables against their schema and places each violation on the
// line of data.json where the offending key is.
func checkData(ctx context.Context, schema, raw []byte, data any) ([]Diagnostic, error) {
	c, err := newSchemaChecker(ctx, schema)
	if err != nil {
		return nil, fmt.Errorf("data schema: %w", err)
	}
	v, err := ast.InterfaceToValue(data)
	if err != nil {
		return nil, err
	}
	violations, err := c.check(ctx, v)
	if err != nil {
		return nil, err
	}
	pos := jsonPositions(raw)
	out := make([]Diagnostic, 0, len(violations))
	for _, x := range violations {
		d := Diagnostic{File: DataFile, Code: CodeDataShape, Message: x.Field + ": " + x.Message}
		if p, ok := pos[x.Field]; ok {
			d.Line, d.Column = p.line, p.col
		}
		out = append(out, d)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out, nil
}

type position struct{ line, col int }

// jsonPositions maps the dotted path of every key and array item of a JSON document (the form
// the schema validator reports: "tables.limit_by_class.A", "hits.0") to where it starts.
func jsonPositions(doc []byte) map[string]position {
	pos := map[string]position{}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	at := func(off int64) position {
		// Skip the separators between the previous token and this one.
		for off < int64(len(doc)) && bytes.IndexByte([]byte(" \t\r\n,:"), doc[off]) >= 0 {
			off++
		}
		line := 1 + bytes.Count(doc[:off], []byte("\n"))
		col := int(off) - bytes.LastIndexByte(doc[:off], '\n')
		return position{line, col}
	}
	join := func(path, key string) string {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	var walk func(path string) error
	walk = func(path string) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			for dec.More() {
				p := at(dec.InputOffset())
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key := join(path, fmt.Sprint(k))
				pos[key] = p
				if err := walk(key); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				key := join(path, strconv.Itoa(i))
				pos[key] = at(dec.InputOffset())
				if err := walk(key); err != nil {
					return err
				}
			}
			_, err = dec.Token()
		}
		return err
	}
	// A broken document has been reported by the JSON parser already; positions are best effort.
	_ = walk("")
	return pos
}

// syntaxPosition places a JSON syntax error, or returns the zero position.
func syntaxPosition(doc []byte) (position, string) {
	var v any
	err := json.Unmarshal(doc, &v)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := se.Offset
		if off > int64(len(doc)) {
			off = int64(len(doc))
		}
		line := 1 + bytes.Count(doc[:off], []byte("\n"))
		col := int(off) - bytes.LastIndexByte(doc[:off], '\n')
		return position{line, col}, se.Error()
	}
	if err != nil {
		return position{}, err.Error()
	}
	return position{}, ""
}
