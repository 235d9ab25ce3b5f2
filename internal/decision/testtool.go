package decision

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// The results of a policy test.
const (
	TestPass  = "pass"
	TestFail  = "fail"
	TestError = "error"
	// TestSkip is a rule named todo_test_*: OPA's convention for a test written but not enabled.
	TestSkip = "skip"
)

// TestTimeout bounds each test of RunTests.
const TestTimeout = 5 * time.Second

// TestResult is the outcome of one test rule of a version's *_test.rego.
type TestResult struct {
	// Name is the rule's full path, e.g. data.credo.credit_test.test_deny_on_confirmed_sanctions.
	Name     string        `json:"name"`
	Result   string        `json:"result"` // TestPass, TestFail, TestError or TestSkip
	Duration time.Duration `json:"duration"`
	// Message says why a test failed (the expression that was false, with its values) or erred.
	Message string `json:"message,omitempty"`
	File    string `json:"file"`
	Line    int    `json:"line"`
	// Output is what the test printed with print().
	Output string `json:"output,omitempty"`
}

// RunTests runs the test rules (test_*) of a policy version under the same restrictions as
// Compile: forbidden builtins, input schema, data schema (the default one). A version that does
// not compile gives a *CompileError; test failures are results, not errors. Results are in file
// and line order.
func RunTests(ctx context.Context, modules map[string]string, data []byte) ([]TestResult, error) {
	results, err := runTests(ctx, modules, data, "", false)
	if err != nil {
		return nil, err
	}
	// Only a traced run says which expression failed; trace only the failures, so that the
	// durations reported are those of untraced runs.
	var failed []string
	for _, r := range results {
		if r.Result == TestFail {
			failed = append(failed, regexp.QuoteMeta(r.Name))
		}
	}
	if len(failed) == 0 {
		return results, nil
	}
	traced, err := runTests(ctx, modules, data, "^("+strings.Join(failed, "|")+")$", true)
	if err != nil {
		return nil, err
	}
	why := make(map[string]string, len(traced))
	for _, t := range traced {
		why[t.Name] = t.Message
	}
	for i, r := range results {
		if r.Result == TestFail && why[r.Name] != "" {
			results[i].Message = why[r.Name]
		}
	}
	return results, nil
}

func runTests(ctx context.Context, modules map[string]string, data []byte, filter string, trace bool) ([]TestResult, error) {
	v, err := check(ctx, modules, data, nil, true)
	if err != nil {
		return nil, err
	}
	store := inmem.NewFromObjectWithOpts(v.data, inmem.OptRoundTripOnWrite(false))
	runner := tester.NewRunner().
		SetCompiler(v.compiler).
		SetStore(store).
		SetModules(v.modules).
		SetTimeout(TestTimeout).
		CapturePrintOutput(true).
		EnableTracing(trace).
		RaiseBuiltinErrors(true).
		SetCoverageRuns(nil)
	if filter != "" {
		runner = runner.Filter(filter)
	}
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		return nil, &CompileError{Diagnostics: diagnosticsOf(err, "")}
	}
	var out []TestResult
	for r := range ch {
		out = append(out, testResult(r))
	}
	slices.SortFunc(out, func(a, b TestResult) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

func testResult(r *tester.Result) TestResult {
	t := TestResult{
		Name:     r.Package + "." + r.Name,
		Duration: r.Duration,
		Output:   string(r.Output),
	}
	if r.Location != nil {
		t.File, t.Line = r.Location.File, r.Location.Row
	}
	switch {
	case r.Skip:
		t.Result = TestSkip
	case r.Error != nil:
		t.Result = TestError
		t.Message = r.Error.Error()
	case r.Fail:
		t.Result = TestFail
		t.Message = failureLine(r.Trace)
		if t.Message == "" {
			t.Message = "the test body was false or undefined"
		}
	default:
		t.Result = TestPass
	}
	return t
}

// failureLine finds the last expression that failed in a test's trace, as `opa test` does, and
// renders it with the values of its variables.
func failureLine(trace []*topdown.Event) string {
	for _, e := range slices.Backward(trace) {
		if e.Op != topdown.FailOp || e.Location == nil || e.QueryID == 0 {
			continue
		}
		if expr, ok := e.Node.(*ast.Expr); ok {
			if _, every := expr.Terms.(*ast.Every); every {
				continue
			}
		}
		var b bytes.Buffer
		if err := topdown.PrettyEvent(&b, e, topdown.PrettyEventOpts{PrettyVars: true}); err != nil {
			return fmt.Sprintf("%s:%d: failed", e.Location.File, e.Location.Row)
		}
		return fmt.Sprintf("%s:%d: %s", e.Location.File, e.Location.Row, strings.TrimSpace(b.String()))
	}
	return ""
}
