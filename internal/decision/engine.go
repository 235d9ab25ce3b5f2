// Package decision decides quotes: an embedded OPA engine evaluates the active credit policy
// version on an input document built from the score, receivables, solvency, screening and
// exposure, and answers an outcome, a credit limit, payment terms and reasons.
//
// The engine (engine*.go) compiles a version once, with restricted builtins (builtins.go) and the
// input schema, into a prepared query; Evaluate then runs in microseconds under a deadline and
// never fails open: any error gives the fail-safe answer (review, POLICY_ERROR). The contract
// between Go and Rego is in contract*.go and policies/schema; RunTests (testtool.go) runs a
// version's *_test.rego.
package decision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/credorisk/credo/internal/fault"
)

// DefaultEvalTimeout bounds one evaluation when Options.EvalTimeout is 0
// (CREDO_POLICY_EVAL_TIMEOUT).
const DefaultEvalTimeout = 50 * time.Millisecond

// Options tune Compile.
type Options struct {
	// EvalTimeout bounds each evaluation; DefaultEvalTimeout when 0.
	EvalTimeout time.Duration
	// DataSchema is the JSON Schema the data tables must match; nil means the default policy's
	// policies/schema/data.json, `{}` accepts any object.
	DataSchema []byte
}

// Engine is one compiled policy version, safe for concurrent use. Compile it once per version
// and keep it; Evaluate is the per-quote call.
type Engine struct {
	hash    string
	timeout time.Duration
	query   rego.PreparedEvalQuery
}

// Compile checks a policy version (Rego modules by file name, tests included, and the data
// tables as JSON) and prepares its decision query. A version that cannot be used gives a
// *CompileError listing every problem with its file, line and column: syntax, a forbidden builtin
// (named, with the reason), a reference to an input field the schema does not have, data that
// does not match its schema, a missing decision rule.
func Compile(ctx context.Context, modules map[string]string, data []byte, opts Options) (*Engine, error) {
	v, err := check(ctx, modules, data, opts.DataSchema, false)
	if err != nil {
		return nil, err
	}
	hash, err := ContentHash(modules, data)
	if err != nil {
		return nil, err
	}
	store := inmem.NewFromObjectWithOpts(v.data, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	pq, err := rego.New(
		rego.Query(DecisionQuery),
		rego.Compiler(v.compiler),
		rego.Store(store),
		// A builtin error (a bad sprintf, a division by zero) must fail the evaluation: left
		// undefined, it could silently drop a deny rule and let the quote through.
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, &CompileError{Diagnostics: diagnosticsOf(err, "")}
	}
	timeout := opts.EvalTimeout
	if timeout <= 0 {
		timeout = DefaultEvalTimeout
	}
	return &Engine{hash: hash, timeout: timeout, query: pq}, nil
}

// Hash is the version's ContentHash.
func (e *Engine) Hash() string { return e.hash }

// EvalTimeout is the deadline of one evaluation.
func (e *Engine) EvalTimeout() time.Duration { return e.timeout }

// Evaluate decides a quote. It never fails: an invalid input, an evaluation error, the deadline,
// or a result outside the output contract all give the fail-safe answer (review with reason
// POLICY_ERROR, limit 0, payment in advance) with the cause in Result.Err for the metric and the
// log line.
func (e *Engine) Evaluate(ctx context.Context, in *Input) Result {
	if err := in.Validate(); err != nil {
		return failSafe(fmt.Errorf("%w: %s: %w", ErrInput, fieldList(err), err))
	}
	return e.eval(ctx, in.Value())
}

// fieldList spells out a validation error's fields for the log line (fault.Error's text is only
// its message).
func fieldList(err error) string {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		return ""
	}
	parts := make([]string, len(fe.Fields))
	for i, f := range fe.Fields {
		parts[i] = f.Field + " " + f.Message
	}
	return strings.Join(parts, "; ")
}

// EvaluateJSON decides on a logged input document as it was logged, for replay and for trying a
// draft version on past decisions: the same document and version give the same Result. The
// document is taken as is (old documents stay replayable after the schema grows); only JSON that
// is not an object is refused, with the fail-safe answer. Check a document with ValidateInputJSON
// when it does not come from the log.
func (e *Engine) EvaluateJSON(ctx context.Context, doc []byte) Result {
	v, err := ast.ValueFromReader(bytes.NewReader(doc))
	if err != nil {
		return failSafe(fmt.Errorf("%w: not JSON: %w", ErrInput, err))
	}
	if _, ok := v.(ast.Object); !ok {
		return failSafe(fmt.Errorf("%w: the document must be a JSON object", ErrInput))
	}
	return e.eval(ctx, v)
}

// keepTerm hands the result back as an OPA term, sparing a conversion to Go maps.
func keepTerm(t *ast.Term, _ *rego.EvalContext) (any, error) { return t, nil }

func (e *Engine) eval(ctx context.Context, input ast.Value) Result {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	rs, err := e.query.Eval(ctx, rego.EvalParsedInput(input), rego.EvalGenerateJSON(keepTerm))
	if err != nil {
		return failSafe(evalFailure(ctx, err))
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return failSafe(fmt.Errorf("%w: %s is undefined for this input", ErrContract, DecisionQuery))
	}
	t, ok := rs[0].Expressions[0].Value.(*ast.Term)
	if !ok {
		return failSafe(fmt.Errorf("%w: unexpected result %T", ErrEvaluation, rs[0].Expressions[0].Value))
	}
	r, err := decodeResult(t.Value)
	if err != nil {
		return failSafe(err)
	}
	return r
}

// evalFailure tells a deadline from a cancellation from an error in the policy.
func evalFailure(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil || topdown.IsCancel(err) {
		if errors.Is(ctxErr, context.Canceled) {
			return fmt.Errorf("%w: %w", ErrCanceled, err)
		}
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return fmt.Errorf("%w: %w", ErrEvaluation, err)
}
