// Package decision decides quotes: an embedded OPA engine evaluates the active credit policy
// version on an input document built from the score, receivables, solvency, screening and
// exposure, and answers an outcome, a credit limit, payment terms and reasons.
//
// The engine (engine*.go) compiles a version once, with restricted builtins (builtins.go) and the
// input schema, into a prepared query; Evaluate then runs in microseconds under a deadline and
// never fails open: any error gives the fail-safe answer (review, POLICY_ERROR). Clients that
// come back are decided by a residual of the policy pre-evaluated for their state
// (engine_residual.go, engine_cache.go), with the same answers. The contract between Go and Rego
// is in contract*.go and policies/schema; RunTests (testtool.go) runs a version's *_test.rego.
package decision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
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
	// ResidualCacheSize bounds the client states the engine keeps with their pre-evaluated
	// residuals (engine_residual.go); 0 means DefaultResidualCacheSize, and a negative size turns
	// pre-evaluation off: every evaluation then runs the whole policy.
	ResidualCacheSize int
}

// Engine is one compiled policy version, safe for concurrent use. Compile it once per version
// and keep it; Evaluate is the per-quote call.
//
// The engine pre-evaluates the policy per client state: the third time it sees a client's known
// sections (every input section but now, today, quote and exposure) it builds, in the
// background, the residual of the policy for them, and from then on evaluates only that residual
// for that client. Results are the same as the whole policy's (engine_residual.go).
type Engine struct {
	hash    string
	timeout time.Duration

	compiler *ast.Compiler
	store    storage.Store
	tables   map[string]any
	full     *query

	cache       *stateCache // nil when pre-evaluation is off
	building    atomic.Bool // one residual is built at a time, off the request path
	syncBuild   bool        // tests: build in the evaluating goroutine
	partialOnce sync.Once
	partial     rego.PreparedPartialQuery
	partialErr  error
	// src is the version's source: partial evaluation gets its own compiler and store built from
	// it, because OPA's partial evaluation rewrites rule and data terms in place, and those of the
	// live compiler are read by concurrent evaluations.
	src engineSource
}

type engineSource struct {
	modules map[string]string
	data    []byte
	schema  []byte
}

// buildAfterSightings is when a client state gets its residual. A build costs some twenty to
// thirty full evaluations and saves about three quarters of each later one, so it pays from
// around thirty quotes of one client state. Building on the third sighting skips the states
// that never come back or come back once (a quote sent again; a client whose metrics change with
// its next invoice), while a client quoting all day gets its residual after its third quote.
const buildAfterSightings = 3

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
	full, err := newQuery(v.compiler, store, DecisionQuery)
	if err != nil {
		return nil, &CompileError{Diagnostics: diagnosticsOf(err, "")}
	}
	e := &Engine{hash: hash, timeout: opts.EvalTimeout, compiler: v.compiler, store: store, tables: v.data, full: full,
		src: engineSource{modules: maps.Clone(modules), data: bytes.Clone(data), schema: bytes.Clone(opts.DataSchema)}}
	if e.timeout <= 0 {
		e.timeout = DefaultEvalTimeout
	}
	switch size := opts.ResidualCacheSize; {
	case size == 0:
		e.cache = newStateCache(DefaultResidualCacheSize)
	case size > 0:
		e.cache = newStateCache(size)
	}
	return e, nil
}

// Hash is the version's ContentHash.
func (e *Engine) Hash() string { return e.hash }

// EvalTimeout is the deadline of one evaluation.
func (e *Engine) EvalTimeout() time.Duration { return e.timeout }

// ResidualStats counts how evaluations were served; zero when pre-evaluation is off.
func (e *Engine) ResidualStats() ResidualStats {
	if e.cache == nil {
		return ResidualStats{}
	}
	return e.cache.stats()
}

// Evaluate decides a quote. It never fails: an invalid input, an evaluation error, the deadline,
// or a result outside the output contract all give the fail-safe answer (review with reason
// POLICY_ERROR, limit 0, payment in advance) with the cause in Result.Err for the metric and the
// log line.
func (e *Engine) Evaluate(ctx context.Context, in *Input) Result {
	if err := in.Validate(); err != nil {
		return failSafe(fmt.Errorf("%w: %s: %w", ErrInput, fieldList(err), err))
	}
	req := in.requestTerms()
	if e.cache == nil {
		c := in.clientTerms()
		return e.eval(ctx, e.full, ast.NewTerm(inputObject(&c, &req)))
	}
	kb := keyBuffers.Get().(*[]byte)
	key := in.appendClientKey((*kb)[:0])
	st := e.cache.get(key, func() [][2]*ast.Term {
		c := in.clientTerms()
		known := make([][2]*ast.Term, len(c))
		for i, t := range c {
			known[i] = kv(clientSections[i], t)
		}
		return known
	})
	*kb = key
	keyBuffers.Put(kb)
	var request [len(requestSections)][2]*ast.Term
	for i, t := range req {
		request[i] = kv(requestSections[i], t)
	}
	return e.evalState(ctx, st, st.input(request[:]))
}

// keyBuffers recycles the buffers client keys are encoded in.
var keyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

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
// when it does not come from the log. Documents share pre-evaluated residuals by their known
// sections, as Evaluate's inputs do.
func (e *Engine) EvaluateJSON(ctx context.Context, doc []byte) Result {
	v, err := ast.ValueFromReader(bytes.NewReader(doc))
	if err != nil {
		return failSafe(fmt.Errorf("%w: not JSON: %w", ErrInput, err))
	}
	o, ok := v.(ast.Object)
	if !ok {
		return failSafe(fmt.Errorf("%w: the document must be a JSON object", ErrInput))
	}
	input := ast.NewTerm(o)
	if e.cache == nil {
		return e.eval(ctx, e.full, input)
	}
	// Every section but the request's is known, whatever the document holds.
	var known [][2]*ast.Term
	key := []byte{keyJSON}
	o.Foreach(func(k, t *ast.Term) {
		if !isRequestSection(k) {
			known = append(known, [2]*ast.Term{k, t})
			key = appendValueKey(appendValueKey(key, k.Value), t.Value)
		}
	})
	st := e.cache.get(key, func() [][2]*ast.Term { return known })
	return e.evalState(ctx, st, input)
}

func isRequestSection(k *ast.Term) bool {
	s, ok := k.Value.(ast.String)
	if !ok {
		return false
	}
	for _, r := range requestSections {
		if string(s) == r {
			return true
		}
	}
	return false
}

// evalState evaluates input, whose known sections are st's, with st's residual when there is
// one, else with the whole policy; a state's buildAfterSightings-th sighting starts building its
// residual.
func (e *Engine) evalState(ctx context.Context, st *clientState, input *ast.Term) Result {
	r := st.residual.Load()
	if r == nil && st.seen.Load() >= buildAfterSightings {
		r = e.startBuild(st)
	}
	if r != nil && r.q != nil {
		e.cache.residual.Add(1)
		return e.eval(ctx, r.q, input)
	}
	e.cache.full.Add(1)
	return e.eval(ctx, e.full, input)
}

// startBuild builds st's residual in the background unless another build is running (then a
// later sighting starts it). It returns the residual only when built synchronously (tests).
func (e *Engine) startBuild(st *clientState) *residualResult {
	if e.syncBuild {
		return e.build(st)
	}
	if !e.building.CompareAndSwap(false, true) {
		return nil
	}
	go func() {
		defer e.building.Store(false)
		e.build(st)
	}()
	return nil
}

func (e *Engine) build(st *clientState) *residualResult {
	q, err := e.buildResidual(context.Background(), st.knownObject())
	r := &residualResult{q: q, err: err}
	if err != nil {
		e.cache.fallbacks.Add(1)
	} else {
		e.cache.built.Add(1)
	}
	st.residual.Store(r)
	return r
}

// CheckResidual pre-evaluates the policy for in's client sections and says why the residual
// cannot be used, or nil when it can: a credit manager's draft that uses `else` on a rule
// depending on the quote, for instance, is decided correctly but by full evaluation, which is
// several times slower. The policy lifecycle can warn about it when a draft is created.
func (e *Engine) CheckResidual(ctx context.Context, in *Input) error {
	c := in.clientTerms()
	known := make([][2]*ast.Term, len(c))
	for i, t := range c {
		known[i] = kv(clientSections[i], t)
	}
	_, err := e.buildResidual(ctx, ast.NewObject(known...))
	return err
}

func (e *Engine) eval(ctx context.Context, q *query, input *ast.Term) Result {
	t, err := q.eval(ctx, input, e.timeout)
	if err != nil {
		return failSafe(evalFailure(ctx, err))
	}
	if t == nil {
		return failSafe(fmt.Errorf("%w: %s is undefined for this input", ErrContract, DecisionQuery))
	}
	r, err := decodeResult(t.Value)
	if err != nil {
		return failSafe(err)
	}
	return r
}

// evalFailure tells a deadline (the engine's or the caller's) from a cancellation by the caller
// from an error in the policy.
func evalFailure(ctx context.Context, err error) error {
	if errors.Is(err, errDeadline) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	if ctx.Err() != nil || topdown.IsCancel(err) {
		return fmt.Errorf("%w: %w", ErrCanceled, err)
	}
	return fmt.Errorf("%w: %w", ErrEvaluation, err)
}
