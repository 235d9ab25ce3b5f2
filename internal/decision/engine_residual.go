package decision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// Per-client partial evaluation. Most of the input describes the client and changes rarely
// (client, score, metrics, solvency, sanctions); now, today, quote and exposure change with every
// quote. OPA's partial evaluator runs the policy with the client's sections known and the
// others unknown, and returns the residual: what is left to decide once the quote is known,
// typically a few comparisons and the reasons that depend on them, with every client-only rule,
// table lookup and message already computed. The residual is compiled into a small program of
// its own and evaluated per quote on the complete input.
//
// A residual is only used when it stands alone. OPA does not pre-evaluate a rule with `else`
// whose value depends on the quote; it leaves a reference to the original rule instead, and so
// may a future OPA for other constructs. Such a residual is refused (errNotEffective) and that
// client state is decided by full evaluation, as is any state whose pre-evaluation fails or runs
// too long. TestResidualMatchesFullEvaluation checks on thousands of inputs that the residual
// decides exactly as the full policy does.

// residualNamespace holds the residual program's rule (data.credo_residual.result) and the
// support rules OPA generates (data.credo_residual.credo.credit...).
const residualNamespace = "credo_residual"

// residualRule is the residual's decision rule.
const residualRule = ast.Var("result")

// unknownSections are the input sections that change with every quote.
var unknownSections = []string{"input.now", "input.today", "input.quote", "input.exposure"}

// errNotEffective is a residual that still needs the original policy's rules.
var errNotEffective = errors.New("partial evaluation left rules of the policy to evaluate")

// residualSkipStages are compiler stages a residual does not need: its source was type-checked
// with the version, and it imports nothing. Skipping them makes a residual cheaper to build and
// smaller to keep.
var residualSkipStages = []ast.StageID{
	ast.StageCheckTypes, ast.StageCheckUnusedImports, ast.StageCheckDeprecatedBuiltins,
	ast.StageBuildRequiredCapabilities,
}

// buildTimeout bounds one pre-evaluation: a policy that loops would otherwise keep a core busy.
func (e *Engine) buildTimeout() time.Duration {
	return min(max(100*e.timeout, time.Second), 10*time.Second)
}

// partialQuery prepares the partial evaluation of the decision once per version, on first use.
func (e *Engine) partialQuery() (rego.PreparedPartialQuery, error) {
	e.partialOnce.Do(func() {
		// A compiler and a store of its own: partial evaluation rewrites terms in place.
		v, err := check(context.Background(), e.src.modules, e.src.data, e.src.schema, false)
		if err != nil {
			e.partialErr = err
			return
		}
		store := inmem.NewFromObjectWithOpts(v.data, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
		e.partial, e.partialErr = rego.New(
			rego.Query(string(resultVar)+" = "+DecisionQuery),
			rego.Compiler(v.compiler),
			rego.Store(store),
			rego.Unknowns(unknownSections),
			rego.PartialNamespace(residualNamespace),
			rego.StrictBuiltinErrors(true),
		).PrepareForPartial(context.Background())
	})
	return e.partial, e.partialErr
}

// buildResidual pre-evaluates the decision for the known part of an input (every section but
// the unknown ones) and compiles what is left.
func (e *Engine) buildResidual(ctx context.Context, known ast.Object) (*query, error) {
	pq, err := e.partialQuery()
	if err != nil {
		return nil, fmt.Errorf("prepare partial evaluation: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, e.buildTimeout())
	defer cancel()
	parts, err := pq.Partial(ctx, rego.EvalParsedInput(known), rego.EvalMetrics(metrics.NoOp()))
	if err != nil {
		return nil, fmt.Errorf("partial evaluation: %w", err)
	}
	if ref := e.policyRef(parts); ref != nil {
		return nil, fmt.Errorf("%w (%v)", errNotEffective, ref)
	}
	mod := &ast.Module{Package: &ast.Package{Path: ast.Ref{ast.DefaultRootDocument, ast.StringTerm(residualNamespace)}}}
	// One definition of result per query: the queries are the alternatives OPA found.
	for _, body := range parts.Queries {
		rule := &ast.Rule{
			Head:   ast.NewHead(residualRule, nil, ast.NewTerm(resultVar)),
			Body:   body,
			Module: mod,
		}
		rule.Head.Reference = ast.Ref{ast.NewTerm(residualRule)}
		mod.Rules = append(mod.Rules, rule)
	}
	modules := make(map[string]*ast.Module, len(parts.Support)+1)
	modules["residual"] = mod
	for i, m := range parts.Support {
		modules[fmt.Sprintf("support%d", i)] = m
	}
	c := ast.NewCompiler().
		WithCapabilities(residualCapabilities(modules)).
		WithDefaultRegoVersion(ast.RegoV1).
		WithPathConflictsCheck(dataConflict(e.tables)).
		WithSkipStages(residualSkipStages...)
	if c.Compile(modules); c.Failed() {
		return nil, fmt.Errorf("compile the residual: %w", c.Errors)
	}
	return newQuery(c, e.store, "data."+residualNamespace+"."+string(residualRule))
}

// policyRef returns a reference of the residual to a rule of the version (the residual cannot
// stand alone), or nil. References to the residual's own namespace, to the data tables and to
// input are what a self-contained residual holds.
func (e *Engine) policyRef(parts *rego.PartialQueries) ast.Ref {
	var found ast.Ref
	visit := ast.NewGenericVisitor(func(x any) bool {
		if found != nil {
			return true
		}
		ref, ok := x.(ast.Ref)
		if !ok || !ref.HasPrefix(ast.DefaultRootRef) {
			return false
		}
		if len(ref) > 1 && ref[1].Equal(ast.StringTerm(residualNamespace)) {
			return false
		}
		prefix := ref.GroundPrefix()
		if len(e.compiler.GetRules(prefix)) > 0 || len(e.compiler.GetRulesWithPrefix(prefix)) > 0 {
			found = ref
			return true
		}
		return false
	})
	for _, body := range parts.Queries {
		visit.Walk(body)
	}
	for _, m := range parts.Support {
		visit.Walk(m)
	}
	return found
}

// alwaysBuiltins are operators the compiler's own rewriting may introduce into a residual.
var alwaysBuiltins = []string{"eq", "assign", "equal", "neq", "internal.member_2", "internal.member_3"}

// residualCapabilities are the version's capabilities cut down to the builtins the residual
// calls. A compiler keeps a type environment of every builtin it knows, about a third of a
// residual's memory; the residual only needs its own. A builtin missed here fails the compile,
// and the client state falls back to full evaluation: slower, never wrong.
func residualCapabilities(modules map[string]*ast.Module) *ast.Capabilities {
	all := restrictedCapabilities()
	used := map[string]bool{}
	for _, name := range alwaysBuiltins {
		used[name] = true
	}
	visit := ast.NewGenericVisitor(func(x any) bool {
		switch x := x.(type) {
		case *ast.Expr:
			if x.IsCall() {
				used[x.Operator().String()] = true
			}
		case ast.Call:
			used[x[0].String()] = true
		}
		return false
	})
	for _, m := range modules {
		visit.Walk(m)
	}
	caps := *all
	caps.Builtins = make([]*ast.Builtin, 0, len(used))
	for _, b := range all.Builtins {
		if used[b.Name] {
			caps.Builtins = append(caps.Builtins, b)
		}
	}
	return &caps
}
