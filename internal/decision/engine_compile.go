package decision

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/util"
)

// DecisionQuery is the rule the engine evaluates; a version must define it.
const DecisionQuery = "data.credo.credit.decision"

// checked is a policy version that passed every check: parsed modules, data tables that match
// their schema, and the compiler (holding the modules, except for tests: the runner compiles).
type checked struct {
	modules  map[string]*ast.Module
	data     map[string]any
	compiler *ast.Compiler
}

// check parses, validates and compiles a version, collecting every problem so a credit manager
// fixes them in one round: parse errors of all files and data errors, or data errors and compile
// errors when every module parses. forTests keeps print() for the test runner and lets
// it add its own compiler stages.
func check(ctx context.Context, modules map[string]string, data []byte, dataSchemaJSON []byte, forTests bool) (*checked, error) {
	var diags []Diagnostic
	parseFailed := false
	parsed := make(map[string]*ast.Module, len(modules))
	popts := ast.ParserOptions{RegoVersion: ast.RegoV1, ProcessAnnotation: true}
	for _, name := range slices.Sorted(maps.Keys(modules)) {
		if !strings.HasSuffix(name, ".rego") || strings.TrimSuffix(name, ".rego") == "" {
			diags = append(diags, Diagnostic{File: name, Code: CodeBadFile, Message: "a module's file name must end in .rego"})
			continue
		}
		m, err := ast.ParseModuleWithOpts(name, modules[name], popts)
		if err != nil {
			diags = append(diags, diagnosticsOf(err, name)...)
			parseFailed = true
			continue
		}
		parsed[name] = m
	}
	if len(parsed) == 0 && len(diags) == 0 {
		diags = append(diags, Diagnostic{File: "", Code: CodeMissingDecision, Message: "the version has no Rego module"})
	}

	tables, dataDiags, err := checkDataFile(ctx, data, dataSchemaJSON)
	if err != nil {
		return nil, err
	}
	diags = append(diags, dataDiags...)

	c, err := newCompiler(tables, forTests)
	if err != nil {
		return nil, err
	}
	// Compile errors after a parse error would mostly be echoes of it (rules not found).
	if len(parsed) > 0 && !parseFailed {
		if c.Compile(parsed); c.Failed() {
			diags = append(diags, diagnosticsOf(c.Errors, "")...)
		} else if len(c.GetRulesExact(ast.MustParseRef(DecisionQuery))) == 0 {
			diags = append(diags, Diagnostic{Code: CodeMissingDecision,
				Message: "no module defines " + DecisionQuery + " (package credo.credit, rule decision)"})
		}
	}
	if len(diags) > 0 {
		return nil, &CompileError{Diagnostics: diags}
	}
	if forTests {
		// The test runner compiles the modules itself, after adding its own stages.
		if c, err = newCompiler(tables, true); err != nil {
			return nil, err
		}
	}
	return &checked{modules: parsed, data: tables, compiler: c}, nil
}

// newCompiler configures a compiler for policies: Rego v1, restricted builtins, input typed by
// policies/schema/input.json, no package over the data tables; print() only for tests.
func newCompiler(tables map[string]any, forTests bool) (*ast.Compiler, error) {
	schema, err := inputSchema()
	if err != nil {
		return nil, fmt.Errorf("load input schema: %w", err)
	}
	var inSchema any
	if err := util.UnmarshalJSON(schema, &inSchema); err != nil {
		return nil, fmt.Errorf("read input schema: %w", err)
	}
	ss := ast.NewSchemaSet()
	ss.Put(ast.SchemaRootRef, inSchema)
	return ast.NewCompiler().
		WithCapabilities(restrictedCapabilities()).
		WithDefaultRegoVersion(ast.RegoV1).
		WithSchemas(ss).
		WithEnablePrintStatements(forTests).
		WithPathConflictsCheck(dataConflict(tables)), nil
}

// checkDataFile parses data.json and checks it against the tables' schema.
func checkDataFile(ctx context.Context, data, schema []byte) (map[string]any, []Diagnostic, error) {
	if p, msg := syntaxPosition(data); msg != "" {
		return nil, []Diagnostic{{File: DataFile, Line: p.line, Column: p.col, Code: CodeDataShape, Message: msg}}, nil
	}
	var v any
	if err := util.UnmarshalJSON(data, &v); err != nil {
		return nil, []Diagnostic{{File: DataFile, Code: CodeDataShape, Message: err.Error()}}, nil
	}
	tables, ok := v.(map[string]any)
	if !ok {
		return nil, []Diagnostic{{File: DataFile, Line: 1, Column: 1, Code: CodeDataShape, Message: "must be a JSON object"}}, nil
	}
	if schema == nil {
		var err error
		if schema, err = dataSchema(); err != nil {
			return nil, nil, fmt.Errorf("load data schema: %w", err)
		}
	}
	diags, err := checkData(ctx, schema, data, tables)
	if err != nil {
		return nil, nil, err
	}
	return tables, diags, nil
}

// dataConflict refuses a package whose path already holds data (data.json with "credo":
// {"credit": ...} would hide the policy), as OPA does for bundles.
func dataConflict(data map[string]any) func([]string) (bool, error) {
	return func(path []string) (bool, error) {
		var node any = data
		for _, k := range path {
			m, ok := node.(map[string]any)
			if !ok {
				return false, nil
			}
			if node, ok = m[k]; !ok {
				return false, nil
			}
		}
		return true, nil
	}
}
