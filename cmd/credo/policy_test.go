package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/policies"
)

// largeQuoteRule is a module a credit manager adds: quotes above 100,000.00 go to review.
const largeQuoteRule = `package credo.credit

review_reasons contains {
	"code": "LARGE_QUOTE",
	"message": "Quotes above 100000.00 need a credit manager.",
} if input.quote.amount_cents > 10000000
`

// policyVersion is a version as the API answers it.
type policyVersion struct {
	Version        int               `json:"version"`
	Parent         *int              `json:"parent"`
	Status         string            `json:"status"`
	Author         string            `json:"author"`
	Hash           string            `json:"hash"`
	Files          []string          `json:"files"`
	Modules        map[string]string `json:"modules"`
	Data           json.RawMessage   `json:"data"`
	ActivatedBy    string            `json:"activated_by"`
	ServingVersion int               `json:"serving_version"`
}

func (s *testServer) policy(t *testing.T, path string) policyVersion {
	t.Helper()
	var v policyVersion
	s.expect(http.StatusOK, req{Method: "GET", Path: path, Key: s.Keys["finance"]}).JSON(t, &v)
	return v
}

// MustEmbeddedData is the embedded policy's data.json with one edit applied to its tables.
func MustEmbeddedData(t *testing.T, edit func(tables map[string]any)) map[string]any {
	t.Helper()
	_, data, err := decision.ReadSource(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // 500000.00 stays 500000.00: only the edit shows in a diff
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	edit(doc["tables"].(map[string]any))
	return doc
}

// MustPolicyDB opens the server's database, for what the API does not show (the audit log).
func MustPolicyDB(t *testing.T, s *testServer) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), s.env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	return db
}

func TestPolicyLifecycle(t *testing.T) {
	s := startServer(t, nil)
	cm, admin := s.Keys["credit_manager"], s.Keys["admin"]

	// First start: the embedded policy is version 1, active and served.
	var page struct{ Items []policyVersion }
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/policies", Key: s.Keys["finance"]}).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].Version != 1 || page.Items[0].Status != "active" || page.Items[0].Modules != nil {
		t.Fatalf("versions at first start: %+v", page.Items)
	}
	active := s.policy(t, "/v1/policies/active")
	modules, data, _ := decision.ReadSource(policies.FS)
	embedded, _ := decision.ContentHash(modules, data)
	if active.Version != 1 || active.ServingVersion != 1 || active.Hash != embedded || active.Author != "credo" {
		t.Fatalf("active at first start: %+v, want version 1 served, hash %s", active, embedded)
	}
	ready := s.expect(http.StatusOK, req{Method: "GET", Path: "/readyz"}).Map(t)
	if ready["policy_version"] != float64(1) || ready["policy_hash"] != embedded {
		t.Fatalf("/readyz: %v", ready)
	}

	// A draft whose data breaks a test (the class B limit, 200,000.00, is pinned by the tests): created, but its tests fail and it cannot be activated.
	lower := MustEmbeddedData(t, func(tables map[string]any) {
		tables["limit_by_class_cents"].(map[string]any)["B"] = json.Number("15000000")
	})
	failing := s.expect(http.StatusCreated, req{Method: "POST", Path: "/v1/policies", Key: cm,
		Body: map[string]any{"parent": 1, "data": lower, "comment": "lower class B"}})
	var v2 policyVersion
	failing.JSON(t, &v2)
	if v2.Version != 2 || v2.Status != "draft" || *v2.Parent != 1 || failing.Header.Get("Location") != "/v1/policies/2" {
		t.Fatalf("draft 2: %+v", v2)
	}
	var tests struct {
		Passed bool
		Counts struct{ Pass, Fail int }
		Tests  []struct{ Name, Result, Message string }
	}
	s.expect(http.StatusOK, req{Method: "POST", Path: "/v1/policies/2/test", Key: cm}).JSON(t, &tests)
	failed := map[string]string{}
	for _, r := range tests.Tests {
		if r.Result == "fail" {
			failed[r.Name] = r.Message
		}
	}
	if tests.Passed || tests.Counts.Fail == 0 || tests.Counts.Pass == 0 || !strings.Contains(failed["data.credo.credit_test.test_approve_baseline"], "200000") {
		t.Fatalf("tests of draft 2: %+v", tests)
	}
	p := s.expect(http.StatusUnprocessableEntity, req{Method: "POST", Path: "/v1/policies/2/activate", Key: admin, Body: map[string]any{"comment": "try"}}).problem(t)
	if !slices.Contains(fieldsOf(t, p), "data.credo.credit_test.test_approve_baseline") {
		t.Fatalf("refusal does not name the failing test: %v", p)
	}
	if s.policy(t, "/v1/policies/2").Status != "draft" || s.policy(t, "/v1/policies/active").Version != 1 {
		t.Fatal("a version whose tests fail was activated")
	}

	// A good draft from version 1: a new file, the parent's files kept.
	var v3 policyVersion
	s.expect(http.StatusCreated, req{Method: "POST", Path: "/v1/policies", Key: cm,
		Body: map[string]any{"parent": 1, "modules": map[string]any{"large.rego": largeQuoteRule}, "comment": "review large quotes"}}).JSON(t, &v3)
	got := s.policy(t, "/v1/policies/3")
	if !slices.Equal(got.Files, []string{"credit.rego", "credit_test.rego", "large.rego"}) || got.Modules["large.rego"] != largeQuoteRule ||
		got.Modules["credit.rego"] != modules["credit.rego"] || got.Author != "test-credit_manager" {
		t.Fatalf("version 3: files %v, author %s", got.Files, got.Author)
	}
	if h, _ := decision.ContentHash(got.Modules, got.Data); h != got.Hash {
		t.Fatalf("version 3 hash %s, its content hashes to %s", got.Hash, h)
	}

	// Diffs: the added file against the parent; the data change of version 2, canonically printed.
	var diff struct {
		Files []struct {
			File, Change   string
			Added, Removed int
		}
		Diff string
	}
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/policies/3/diff", Key: s.Keys["finance"]}).JSON(t, &diff)
	if len(diff.Files) != 1 || diff.Files[0].File != "large.rego" || diff.Files[0].Change != "added" || diff.Files[0].Added != strings.Count(largeQuoteRule, "\n") ||
		!strings.HasPrefix(diff.Diff, "--- /dev/null\n+++ v3/large.rego\n@@ -0,0 +1,") {
		t.Fatalf("diff 3 against 1: %+v", diff)
	}
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/policies/3/diff?against=2", Key: cm}).JSON(t, &diff)
	if len(diff.Files) != 2 || strings.Count(diff.Diff, "\n-  ") != 1 || !strings.Contains(diff.Diff, "-      \"B\": 15000000,\n+      \"B\": 20000000,\n") {
		t.Fatalf("diff 3 against 2:\n%s", diff.Diff)
	}

	// Four-eyes: the author cannot activate; another key can.
	p = s.expect(http.StatusForbidden, req{Method: "POST", Path: "/v1/policies/3/activate", Key: cm}).problem(t)
	if !strings.Contains(p["detail"].(string), "four-eyes") {
		t.Fatalf("self-activation refusal: %v", p)
	}
	var act struct {
		Version  policyVersion
		Previous int
		Rollback bool
	}
	s.expect(http.StatusOK, req{Method: "POST", Path: "/v1/policies/3/activate", Key: admin, Body: map[string]any{"comment": "go"}}).JSON(t, &act)
	if act.Version.Status != "active" || act.Previous != 1 || act.Rollback || act.Version.ActivatedBy != "test-admin" {
		t.Fatalf("activation of 3: %+v", act)
	}
	if a := s.policy(t, "/v1/policies/active"); a.Version != 3 || a.ServingVersion != 3 {
		t.Fatalf("after activating 3: active %d, served %d", a.Version, a.ServingVersion)
	}
	s.expect(http.StatusConflict, req{Method: "POST", Path: "/v1/policies/3/activate", Key: admin})

	// Rollback: version 1 again, in one call.
	s.expect(http.StatusOK, req{Method: "POST", Path: "/v1/policies/1/activate", Key: cm, Body: map[string]any{"comment": "roll back"}}).JSON(t, &act)
	if !act.Rollback || act.Previous != 3 || s.policy(t, "/v1/policies/3").Status != "retired" {
		t.Fatalf("rollback: %+v", act)
	}
	if a := s.policy(t, "/v1/policies/active"); a.Version != 1 || a.ServingVersion != 1 {
		t.Fatalf("after the rollback: active %d, served %d", a.Version, a.ServingVersion)
	}

	// Every step is in the audit log, with who.
	rows, err := MustPolicyDB(t, s).Pool.Query(context.Background(),
		`SELECT actor || ' ' || action || ' ' || target_id FROM audit_log WHERE target_type = 'policy' ORDER BY audit_id`)
	if err != nil {
		t.Fatal(err)
	}
	var audit []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		audit = append(audit, line)
	}
	want := []string{"credo policy.bootstrap 1", "test-credit_manager policy.create 2", "test-credit_manager policy.test 2",
		"test-admin policy.activate_refused 2", "test-credit_manager policy.create 3", "test-credit_manager policy.activate_refused 3",
		"test-admin policy.activate 3", "test-credit_manager policy.activate 1"}
	if !slices.Equal(audit, want) {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(audit, "\n"), strings.Join(want, "\n"))
	}
}

func TestPolicyDraftRefusals(t *testing.T) {
	s := startServer(t, nil)
	cm := s.Keys["credit_manager"]
	type diag struct {
		File         string
		Line, Column int
		Code         string
		Message      string
	}
	tests := []struct {
		name   string
		body   any
		status int
		fields []string
		check  func(t *testing.T, diags []diag)
	}{
		{"syntax error", map[string]any{"modules": map[string]any{"credit.rego": "package credo.credit\n\ndecision := {\n\t\"outcome\": \"approve\",\n\t\"credit_limit\" 0,\n}\n"}},
			422, []string{"credit.rego"}, func(t *testing.T, diags []diag) {
				if len(diags) == 0 || diags[0].File != "credit.rego" || diags[0].Line != 5 || diags[0].Column < 1 || diags[0].Code != "rego_parse_error" {
					t.Fatalf("diagnostics %+v, want a parse error at credit.rego line 5 with its column", diags)
				}
			}},
		{"forbidden builtin", map[string]any{"parent": 1, "modules": map[string]any{"fetch.rego": "package credo.credit\n\nremote := http.send({\"method\": \"get\", \"url\": \"https://example.com\"})\n"}},
			422, []string{"fetch.rego"}, func(t *testing.T, diags []diag) {
				if len(diags) != 1 || diags[0].Code != "forbidden_builtin" || diags[0].Line != 3 || !strings.Contains(diags[0].Message, "http.send") {
					t.Fatalf("diagnostics %+v, want http.send named at fetch.rego line 3", diags)
				}
			}},
		{"data of the wrong shape", map[string]any{"parent": 1, "data": map[string]any{"tables": map[string]any{"limit_by_class": "lots"}}},
			422, nil, func(t *testing.T, diags []diag) {
				if len(diags) == 0 || diags[0].File != "data.json" || diags[0].Code != "data_shape" {
					t.Fatalf("diagnostics %+v, want data.json data_shape", diags)
				}
			}},
		{"unknown parent", map[string]any{"parent": 42, "comment": "x"}, 422, []string{"parent"}, nil},
		{"null without parent", map[string]any{"modules": map[string]any{"credit.rego": nil}}, 422, []string{"modules.credit.rego"}, nil},
		{"removing a file the parent lacks", map[string]any{"parent": 1, "modules": map[string]any{"nope.rego": nil}}, 422, []string{"modules.nope.rego"}, nil},
		{"data not an object", map[string]any{"parent": 1, "data": []int{1}}, 422, []string{"data"}, nil},
		{"unknown field", map[string]any{"parent": 1, "author": "me"}, 400, []string{"author"}, nil},
		{"no module at all", map[string]any{"comment": "empty"}, 422, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := s.expect(tc.status, req{Method: "POST", Path: "/v1/policies", Key: cm, Body: tc.body})
			p := r.problem(t)
			for _, f := range tc.fields {
				if !slices.Contains(fieldsOf(t, p), f) {
					t.Errorf("errors %v do not name %s", p["errors"], f)
				}
			}
			if tc.check != nil {
				var doc struct{ Diagnostics []diag }
				r.JSON(t, &doc)
				tc.check(t, doc.Diagnostics)
			}
		})
	}
	var page struct{ Items []policyVersion }
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/policies", Key: cm}).JSON(t, &page)
	if len(page.Items) != 1 {
		t.Fatalf("refused drafts were stored: %d versions", len(page.Items))
	}
}

func TestPolicyRolesAndBadRequests(t *testing.T) {
	s := startServer(t, nil)
	tests := []struct {
		method, path, role string
		body               any
		status             int
	}{
		{"GET", "/v1/policies", "", nil, 401},
		{"GET", "/v1/policies", "sales", nil, 403},
		{"GET", "/v1/policies", "ingest", nil, 403},
		{"GET", "/v1/policies/active", "finance", nil, 200},
		{"GET", "/v1/policies/1", "credit_manager", nil, 200},
		{"POST", "/v1/policies", "finance", map[string]any{"parent": 1}, 403},
		{"POST", "/v1/policies/1/test", "finance", nil, 403},
		{"POST", "/v1/policies/1/test", "credit_manager", nil, 200},
		{"POST", "/v1/policies/1/activate", "finance", nil, 403},
		{"POST", "/v1/policies/1/replay", "sales", map[string]any{"from": "2026-01-01", "to": "2026-01-31"}, 403},
		{"GET", "/v1/policies/7", "finance", nil, 404},
		{"GET", "/v1/policies/x", "finance", nil, 400},
		{"GET", "/v1/policies/0", "finance", nil, 400},
		{"GET", "/v1/policies/1/diff", "finance", nil, 400}, // no parent: against is needed
		{"GET", "/v1/policies/1/diff?against=9", "finance", nil, 422},
		{"GET", "/v1/policies?limit=0", "finance", nil, 400},
		{"GET", "/v1/policies?status=gone", "finance", nil, 400},
		{"POST", "/v1/policies/9/test", "admin", nil, 404},
		{"POST", "/v1/policies/9/activate", "admin", nil, 404},
		{"POST", "/v1/policies/1/activate", "admin", nil, 409},
		{"POST", "/v1/policies/1/activate", "admin", map[string]any{"comment": 3}, 400},
		{"POST", "/v1/policies/1/replay", "admin", map[string]any{"from": "2026-02-01", "to": "2026-01-01"}, 422},
		{"POST", "/v1/policies/1/replay", "admin", map[string]any{"to": "2026-01-01"}, 422},
		{"POST", "/v1/policies/1/replay", "admin", map[string]any{"from": "yesterday", "to": "2026-01-01"}, 422},
		{"POST", "/v1/policies/1/replay", "admin", map[string]any{"from": "2026-01-01", "to": "2026-02-01", "sample_size": 501}, 422},
		{"POST", "/v1/policies/9/replay", "admin", map[string]any{"from": "2026-01-01", "to": "2026-02-01"}, 404},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %s as %s", tc.method, tc.path, tc.role), func(t *testing.T) {
			s.expect(tc.status, req{Method: tc.method, Path: tc.path, Key: s.Keys[tc.role], Body: tc.body})
		})
	}
}
