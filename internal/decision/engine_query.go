package decision

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// query is a compiled query run with topdown directly. rego.PreparedEvalQuery does the same with
// per-call setup (a metrics registry, a goroutine watching the context, result conversion) that
// costs about a tenth of a pre-evaluated decision.
type query struct {
	compiler *ast.Compiler
	store    storage.Store
	body     ast.Body
}

// resultVar holds the decision in the queries the engine runs.
var resultVar = ast.Var("decision")

// newQuery compiles `decision = <ref>` against compiler; store holds the data tables.
func newQuery(compiler *ast.Compiler, store storage.Store, ref string) (*query, error) {
	parsed, err := ast.ParseBody(string(resultVar) + " = " + ref)
	if err != nil {
		return nil, err
	}
	body, err := compiler.QueryCompiler().Compile(parsed)
	if err != nil {
		return nil, err
	}
	return &query{compiler: compiler, store: store, body: body}, nil
}

// errManyResults is a policy whose decision has several values at once.
var errManyResults = errors.New("the decision has more than one value")

// eval runs the query on input until ctx is done or timeout has passed, whichever comes first.
// It returns nil when the decision is undefined. Builtin errors are strict: a failing builtin
// fails the evaluation rather than silently leaving a rule (a deny rule, say) undefined.
func (q *query) eval(ctx context.Context, input *ast.Term, timeout time.Duration) (*ast.Term, error) {
	txn, err := q.store.NewTransaction(ctx)
	if err != nil {
		return nil, fmt.Errorf("open the data tables: %w", err)
	}
	defer q.store.Abort(ctx, txn)
	cancel := &deadline{ctx: ctx, at: time.Now().Add(timeout)}
	tq := topdown.NewQuery(q.body).
		WithCompiler(q.compiler).
		WithStore(q.store).
		WithTransaction(txn).
		WithInput(input).
		WithStrictBuiltinErrors(true).
		WithCancel(cancel).
		WithIndexing(true).
		WithEarlyExit(true)
	var out *ast.Term
	err = tq.Iter(ctx, func(qr topdown.QueryResult) error {
		v := qr[resultVar]
		if out != nil && !out.Equal(v) {
			return errManyResults
		}
		out = v
		return nil
	})
	if err != nil {
		if cancel.passed.Load() {
			return nil, fmt.Errorf("%w: %w", errDeadline, err)
		}
		return nil, err
	}
	return out, nil
}

// errDeadline is an evaluation stopped by its own deadline rather than by its context.
var errDeadline = errors.New("evaluation deadline passed")

// deadline stops an evaluation when its context is done or its time has passed. topdown asks
// before every expression; the clock and the context are read every checkEvery asks, which keeps
// a looping policy's overrun to microseconds without the timer and context a deadline per
// evaluation would otherwise cost (a tenth of a pre-evaluated decision).
type deadline struct {
	ctx     context.Context
	at      time.Time
	asks    atomic.Uint32
	stopped atomic.Bool
	passed  atomic.Bool
}

const checkEvery = 16

func (d *deadline) Cancel() { d.stopped.Store(true) }

func (d *deadline) Cancelled() bool {
	if d.stopped.Load() {
		return true
	}
	if d.asks.Add(1)%checkEvery != 0 {
		return false
	}
	switch {
	case d.ctx.Err() != nil:
	case time.Now().After(d.at):
		d.passed.Store(true)
	default:
		return false
	}
	d.stopped.Store(true)
	return true
}
