package policy

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
)

const extraRule = `package credo.credit

review_reasons contains {"code": "LARGE_QUOTE", "message": "Large."} if input.quote.amount_cents > 10000000
`

// MustService is a Service over a fresh memStore, with four-eyes on.
func MustService(t testing.TB) (*Service, *memStore, *recordingBus) {
	t.Helper()
	store := MustStore(t)
	bus := &recordingBus{}
	engines := NewEngines(store, decision.Options{}, 0)
	prov := NewProvider(store, engines, bus, ProviderConfig{})
	if err := prov.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &Service{Store: store, Engines: engines, ReplayEngines: NewEngines(store, ReplayOptions(decision.Options{}), 2),
		Provider: prov, Bus: bus, FourEyes: true}, store, bus
}

func TestCreateAssemblesTheDraftFromItsParent(t *testing.T) {
	svc, _, _ := MustService(t)
	ctx := context.Background()
	modules, data := MustEmbedded(t)
	rule := extraRule
	otherData := strings.Replace(string(data), `"D": 2000000`, `"D": 2500000`, 1)
	if otherData == string(data) {
		t.Fatal("the class D limit is not in data.json as expected")
	}
	tests := []struct {
		name      string
		draft     Draft
		files     []string
		data      string
		wantField string // a field the refusal names; "" for success
	}{
		{"a file added, the others kept", Draft{Parent: new(1), Modules: map[string]*string{"extra.rego": &rule}}, []string{"credit.rego", "credit_test.rego", "extra.rego"}, string(data), ""},
		{"a file removed", Draft{Parent: new(2), Modules: map[string]*string{"extra.rego": nil}}, []string{"credit.rego", "credit_test.rego"}, string(data), ""},
		{"data replaced", Draft{Parent: new(1), Data: json.RawMessage(otherData)}, []string{"credit.rego", "credit_test.rego"}, otherData, ""},
		{"no parent: exactly what is given", Draft{Modules: map[string]*string{"credit.rego": new(modules["credit.rego"])}, Data: json.RawMessage(data)}, []string{"credit.rego"}, string(data), ""},
		{"an unknown parent", Draft{Parent: new(99)}, nil, "", "parent"},
		{"null without a parent", Draft{Modules: map[string]*string{"credit.rego": nil}}, nil, "", "modules.credit.rego"},
		{"removing a file the parent lacks", Draft{Parent: new(1), Modules: map[string]*string{"nope.rego": nil}}, nil, "", "modules.nope.rego"},
		{"data that is not an object", Draft{Parent: new(1), Data: json.RawMessage(`[1]`)}, nil, "", "data"},
		{"a NUL in a module", Draft{Parent: new(1), Modules: map[string]*string{"x.rego": new("package x\x00")}}, nil, "", "modules.x.rego"},
		{"a comment too long", Draft{Parent: new(1), Comment: strings.Repeat("é", MaxCommentLength+1)}, nil, "", "comment"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := svc.Create(ctx, tc.draft, "alice")
			if tc.wantField != "" {
				var fe *fault.Error
				if !errors.As(err, &fe) || fe.Code != fault.Invalid || len(fe.Fields) != 1 || fe.Fields[0].Field != tc.wantField {
					t.Fatalf("error %v, want a validation error naming %s", err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := svc.Get(ctx, v.Version)
			if !slices.Equal(got.Files, tc.files) || strings.TrimSpace(string(got.Data)) != strings.TrimSpace(tc.data) || got.Status != StatusDraft || got.Author != "alice" {
				t.Fatalf("version %d: files %v, status %s, author %s", got.Version, got.Files, got.Status, got.Author)
			}
			if h, _ := decision.ContentHash(got.Modules, got.Data); h != got.Hash {
				t.Fatalf("hash %s, content hashes to %s", got.Hash, h)
			}
		})
	}
}

func TestCreateRefusesWhatDoesNotCompile(t *testing.T) {
	svc, store, _ := MustService(t)
	ctx := context.Background()
	tests := []struct {
		name, src, code string
		line            int
	}{
		{"syntax", "package credo.credit\n\nx := [1, 2 3]\n\ny := 1\n", "rego_parse_error", 3},
		{"forbidden builtin", "package credo.credit\n\nnow := time.now_ns()\n", decision.CodeForbiddenBuiltin, 3},
		{"input field the schema lacks", "package credo.credit\n\nx := input.quote.colour\n", "rego_type_error", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Create(ctx, Draft{Parent: new(1), Modules: map[string]*string{"bad.rego": &tc.src}}, "alice")
			var ce *decision.CompileError
			if !errors.As(err, &ce) || fault.Code(err) != fault.Invalid {
				t.Fatalf("error %v, want a compile error", err)
			}
			d := ce.Diagnostics[0]
			if d.File != "bad.rego" || d.Line != tc.line || d.Column < 1 || d.Code != tc.code {
				t.Fatalf("diagnostic %+v, want bad.rego:%d with a column, %s", d, tc.line, tc.code)
			}
		})
	}
	if n := len(store.versions); n != 1 {
		t.Fatalf("%d versions stored, want only version 1", n)
	}
}

func TestActivate(t *testing.T) {
	ctx := context.Background()
	rule := extraRule
	_, data := MustEmbedded(t)
	broken := json.RawMessage(strings.Replace(string(data), `"B": 20000000`, `"B": 15000000`, 1))
	if string(broken) == string(data) {
		t.Fatal("the class B limit is not in data.json as expected")
	}
	t.Run("refusals", func(t *testing.T) {
		svc, store, bus := MustService(t)
		good, _ := svc.Create(ctx, Draft{Parent: new(1), Modules: map[string]*string{"extra.rego": &rule}}, "alice")
		failing, _ := svc.Create(ctx, Draft{Parent: new(1), Data: broken}, "alice")
		untested, _ := svc.Create(ctx, Draft{Parent: new(1), Modules: map[string]*string{"credit_test.rego": nil}}, "alice")
		tests := []struct {
			name, actor string
			version     int
			code        string
			fields      []string
		}{
			{"already active", "bob", 1, fault.Conflict, nil},
			{"four-eyes", "alice", good.Version, fault.Forbidden, nil},
			{"failing tests", "bob", failing.Version, fault.Invalid, []string{"data.credo.credit_test.test_approve_baseline"}},
			{"no test", "bob", untested.Version, fault.Invalid, []string{"tests"}},
			{"no such version", "bob", 99, fault.NotFound, nil},
		}
		for _, tc := range tests {
			_, err := svc.Activate(ctx, tc.version, "", tc.actor)
			if fault.Code(err) != tc.code {
				t.Fatalf("%s: %v, want %s", tc.name, err, tc.code)
			}
			var fe *fault.Error
			errors.As(err, &fe)
			for _, f := range tc.fields {
				if !slices.ContainsFunc(fe.Fields, func(x fault.FieldError) bool { return x.Field == f }) {
					t.Errorf("%s: %v does not name %s", tc.name, fe.Fields, f)
				}
			}
		}
		if ref, _ := store.ActiveRef(ctx); ref.Version != 1 || svc.Provider.Active().Version != 1 || bus.count() != 0 {
			t.Fatalf("a refused activation changed something: active %d, served %d, %d notices", ref.Version, svc.Provider.Active().Version, bus.count())
		}
		refused := 0
		for _, a := range store.auditLog() {
			if strings.Contains(a, "policy.activate_refused") {
				refused++
			}
		}
		if refused != 3 { // four-eyes, failing tests, no test; not the conflict nor the 404
			t.Fatalf("%d refusals audited, want 3: %q", refused, store.auditLog())
		}
	})
	t.Run("activation and rollback", func(t *testing.T) {
		svc, store, bus := MustService(t)
		held := svc.Provider.Active() // a decision in flight holds this
		v, _ := svc.Create(ctx, Draft{Parent: new(1), Modules: map[string]*string{"extra.rego": &rule}}, "alice")
		res, err := svc.Activate(ctx, v.Version, "more reviews", "bob")
		if err != nil {
			t.Fatal(err)
		}
		if res.Previous != 1 || res.Rollback || res.Version.Status != StatusActive || res.Tests.Pass == 0 {
			t.Fatalf("activation: %+v", res)
		}
		if svc.Provider.Active().Version != v.Version || held.Version != 1 || held.Engine == svc.Provider.Active().Engine {
			t.Fatal("this replica does not serve the new version, or the one held in flight changed")
		}
		var n notice
		if bus.count() != 1 || json.Unmarshal(bus.published[0], &n) != nil || n.Version != v.Version || n.Previous != 1 || n.Actor != "bob" {
			t.Fatalf("notices %q", bus.published)
		}
		// Rollback: the retired version 1 again, even with the bus down.
		bus.fail = errBusDown
		res, err = svc.Activate(ctx, 1, "roll back", "alice")
		if err != nil || !res.Rollback || res.Previous != v.Version || svc.Provider.Active().Version != 1 {
			t.Fatalf("rollback: %+v, %v", res, err)
		}
		if got, _ := store.Get(ctx, v.Version); got.Status != StatusRetired {
			t.Fatalf("version %d is %s after the rollback", v.Version, got.Status)
		}
	})
	t.Run("four-eyes off", func(t *testing.T) {
		svc, _, _ := MustService(t)
		svc.FourEyes = false
		v, _ := svc.Create(ctx, Draft{Parent: new(1), Modules: map[string]*string{"extra.rego": &rule}}, "alice")
		if _, err := svc.Activate(ctx, v.Version, "", "alice"); err != nil {
			t.Fatalf("self-activation without four-eyes: %v", err)
		}
	})
}

func TestTestRunsAndAudits(t *testing.T) {
	svc, store, _ := MustService(t)
	rep, err := svc.Test(context.Background(), 1, "carol")
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed || rep.Version != 1 || rep.Counts.Pass != len(rep.Tests) || rep.Counts.Pass < 10 {
		t.Fatalf("tests of version 1: %+v", rep.Counts)
	}
	for _, r := range rep.Tests {
		if r.Result != decision.TestPass || r.DurationMS <= 0 || r.File != "credit_test.rego" || r.Line == 0 {
			t.Fatalf("test %+v", r)
		}
	}
	if log := store.auditLog(); log[len(log)-1] != "carol policy.test 1" {
		t.Fatalf("audit %q", log)
	}
}
