package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/credorisk/credo/internal/policy"
)

func TestPolicyEditor(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-credit_manager")
	pol := tc.world.Policies.(*fakePolicies)

	ed := tc.get("/console/policies/new", sess)
	ed.MustContain(t, `name="module:credit.rego"`, `name="module:credit_test.rego"`, `name="data"`, `name="parent" value="1"`,
		`<span class="t-k">package</span>`, `<span class="t-c"># limits</span>`, "  &#34;tables&#34;: {", `data-lang="rego"`, `data-lang="json"`)

	bad := "package credo.credit\n\nallow := SYNTAX here\n"
	p := tc.post("/console/policies", sess, url.Values{"parent": {"1"}, "module:credit.rego": {strings.ReplaceAll(bad, "\n", "\r\n")},
		"module:credit_test.rego": {"package credo.credit_test\n"}, "data": {`{"tables":{"limit":2}}`}, "comment": {"try"}})
	if p.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a draft that does not compile: status %d", p.Status)
	}
	p.MustContain(t, "The draft does not compile. Problems found: 1.", `<li data-line="3" class="err"`, `data-error-lines="3"`,
		`<a href="#edit-credit.rego" class="jump" data-line="3">credit.rego:3:10</a>`, `data-file="credit.rego" data-line="3">line 3, column 10: unexpected SYNTAX token`,
		`<span class="eline">allow`, "\nallow := SYNTAX here\n</textarea>", `value="try"`, `{&#34;tables&#34;:{&#34;limit&#34;:2}}`)
	if len(pol.versions) != 2 {
		t.Fatalf("a refused draft was stored: %d versions", len(pol.versions))
	}

	p = tc.post("/console/policies", sess, url.Values{"parent": {"1"}, "module:credit.rego": {"package credo.credit\n\nallow := true\n"},
		"module:credit_test.rego": {"x"}, "remove:credit_test.rego": {"1"}, "new_name": {"extra_test.rego"}, "new_src": {"package credo.extra_test\n"},
		"data": {`{"tables":{"limit":2}}`}, "comment": {"fixed"}})
	if p.Status != http.StatusSeeOther || p.Location() != "/console/policies/3?done=created" {
		t.Fatalf("the fixed draft: %d to %q\n%.2000s", p.Status, p.Location(), p.Body)
	}
	v := pol.versions[2]
	if v.Author != "test-credit_manager" || v.Comment != "fixed" || strings.Join(v.Files, ",") != "credit.rego,extra_test.rego" ||
		v.Modules["credit.rego"] != "package credo.credit\n\nallow := true\n" || string(v.Data) != `{"tables":{"limit":2}}` || *v.Parent != 1 {
		t.Errorf("stored draft %+v", v)
	}
	tc.get(p.Location(), sess).MustContain(t, "Version 3 was saved as a draft.", `id="policy-status">draft<`)

	dup := tc.post("/console/policies", sess, url.Values{"parent": {"1"}, "module:credit.rego": {"package credo.credit\n"}, "new_name": {"credit.rego"}, "new_src": {"x"}})
	if dup.Status != http.StatusUnprocessableEntity {
		t.Errorf("a new file named like an existing one: %d", dup.Status)
	}
	dup.MustContain(t, "a file called credit.rego is already in the draft")
}

func TestPolicyActions(t *testing.T) {
	tc := MustConsole(t)
	author := tc.MustSignIn("test-cm") // wrote draft 2
	other := tc.MustSignIn("test-credit_manager")
	pol := tc.world.Policies.(*fakePolicies)

	view := tc.get("/console/policies/2", author)
	view.MustContain(t, "Changes from version 1 to 2", `<span class="d-add">&#43;a := 2</span>`, `<span class="d-del">-a := 1</span>`,
		`id="activate"`, "Activate version 2", `value="2026-10-24"`, `value="2026-11-23"`, `id="src-credit.rego-L3"`)

	tests := tc.post("/console/policies/2/test", author, url.Values{})
	tests.MustContain(t, `data-passed="false"`, "Some tests do not pass.", "1 passed, 1 failed, 0 errors, 0 skipped.",
		`<tr class="result-fail">`, "limit 100 != 200", "credit_test.rego:12")

	replay := tc.post("/console/policies/2/replay", author, url.Values{"from": {"2026-11-01"}, "to": {"2026-11-23"}, "limit": {"100"}})
	replay.MustContain(t, `data-evaluated="7" data-changed="2"`, "7 decisions replayed, 2 would change (1 Nov 2026 00:00 UTC to 24 Nov 2026 00:00 UTC)",
		"-€1,500.00", "TERMS_ABOVE_CLASS_MAX", `id="replay-sample"`, `value="100"`)
	if bad := tc.post("/console/policies/2/replay", author, url.Values{"from": {"last week"}, "to": {"2026-11-23"}}); bad.Status != http.StatusUnprocessableEntity {
		t.Errorf("a replay with a bad date: %d", bad.Status)
	} else {
		bad.MustContain(t, "<code>from</code>", `value="last week"`)
	}

	self := tc.post("/console/policies/2/activate", author, url.Values{"comment": {"mine"}})
	if self.Status != http.StatusForbidden {
		t.Fatalf("self-activation: %d", self.Status)
	}
	self.MustContain(t, "four-eyes: version 2 was written by test-cm", `id="policy-status">draft<`)

	ok := tc.post("/console/policies/2/activate", other, url.Values{"comment": {"reviewed"}})
	if ok.Status != http.StatusSeeOther || ok.Location() != "/console/policies/2?done=activated" {
		t.Fatalf("activation by another manager: %d to %q", ok.Status, ok.Location())
	}
	if pol.versions[1].Status != policy.StatusActive || pol.versions[0].Status != policy.StatusRetired {
		t.Fatalf("statuses after activation: %s, %s", pol.versions[0].Status, pol.versions[1].Status)
	}
	active := tc.get(ok.Location(), other)
	active.MustContain(t, "Version 2 is active", `id="policy-status">active<`)
	active.MustNotContain(t, `id="activate"`)

	retired := tc.get("/console/policies/1", author)
	retired.MustContain(t, "Roll back to version 1")
	back := tc.post("/console/policies/1/activate", author, url.Values{})
	if back.Status != http.StatusSeeOther || back.Location() != "/console/policies/1?done=rolled_back" {
		t.Fatalf("rollback: %d to %q", back.Status, back.Location())
	}
	tc.get(back.Location(), author).MustContain(t, "Rolled back: version 1 is active again.")

	again := tc.post("/console/policies/1/activate", author, url.Values{})
	if again.Status != http.StatusConflict {
		t.Errorf("activating the active version: %d", again.Status)
	}
}

func TestPoliciesList(t *testing.T) {
	tc := MustConsole(t)
	p := tc.get("/console/policies", tc.MustSignIn("test-credit_manager"))
	p.MustContain(t, `<tr data-version="2">`, `<tr data-version="1">`, `status-active`, "test-cm", "credo")
	if strings.Index(p.Body, `data-version="2"`) > strings.Index(p.Body, `data-version="1"`) {
		t.Error("versions are not listed newest first")
	}
}

func TestBackPath(t *testing.T) {
	for _, tt := range []struct{ method, target, want string }{
		{"GET", "/console/clients/C-1?as_of=2026-01-01", "/console/clients/C-1?as_of=2026-01-01"},
		{"POST", "/console/policies/2/test", "/console/policies/2"},
		{"POST", "/console/policies/2/replay", "/console/policies/2"},
		{"POST", "/console/policies/2/activate", "/console/policies/2"},
		{"POST", "/console/policies", "/console/policies/new"},
		{"POST", "/console/screening/C-2/hits/fr-1/disposition", "/console/screening/C-2"},
		{"POST", "/console/login", "/console/login"},
	} {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		if got := backPath(r); got != tt.want {
			t.Errorf("%s %s: %q, want %q", tt.method, tt.target, got, tt.want)
		}
	}
	tc := MustConsole(t)
	p := tc.post("/console/policies/2/test", tc.MustSignIn("test-credit_manager"), url.Values{})
	p.MustContain(t, `href="/console/lang/fr?back=%2Fconsole%2Fpolicies%2F2"`)
}

func TestPageLimits(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-credit_manager")
	slow := tc.post("/console/policies/2/replay", sess, url.Values{"from": {"2026-01-01"}, "to": {"2026-11-23"}, "limit": {strconv.Itoa(replayTooLong)}})
	if slow.Status != http.StatusServiceUnavailable {
		t.Errorf("a replay out of time: %d", slow.Status)
	}
	slow.MustContain(t, "narrow the dates")
	huge := tc.post("/console/policies", sess, url.Values{"module:credit.rego": {strings.Repeat("x", maxFormBytes)}})
	if huge.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("a form over the limit: %d", huge.Status)
	}
	if p := tc.get("/console/", tc.forgedSession("test-sales")); p.Status != http.StatusForbidden {
		t.Errorf("a sales session at the console's root: %d", p.Status)
	}
}
