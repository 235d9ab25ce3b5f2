package main

import (
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// consoleEnv is a server environment for the console's tests: no download of sanctions lists or
// solvency data (nothing to reach here), lists stored by the CLI picked up quickly.
func consoleEnv(t *testing.T) map[string]string {
	t.Helper()
	extra := map[string]string{"CREDO_BODACC_URL": "off"}
	for k, v := range sanctionsEnvExtra {
		extra[k] = v
	}
	return testEnv(t, extra)
}

// sanctionedName is close to an entity of the French freeze register fixture ("Société Fictive de
// Négoce SARL"): a client with this name is a potential match.
const sanctionedName = "Societe Fictive de Negoce SAS"

// MustConsoleServer starts credo serve on a small demo portfolio with the French register fixture
// loaded, a client that matches it, a second credit manager key, and a few logged decisions.
func MustConsoleServer(t *testing.T) (*testServer, string) {
	t.Helper()
	env := consoleEnv(t)
	mustCredo(t, env, "migrate")
	mustCredo(t, env, "sanctions", "load", "--source", "fr", "--file", filepath.Join("..", "..", "internal", "sanctions", "testdata", "fr_registre_gels_sample.json"))
	mustCredo(t, env, "seed", "demo", "--clients", "12", "--months", "12")
	s := startServerEnv(t, env, true)
	cm2 := strings.TrimSpace(mustCredo(t, env, "keys", "create", "--name", "test-credit_manager-2", "--role", "credit_manager"))
	s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/clients/SANCT-1", Key: s.Keys["ingest"],
		Body: map[string]any{"name": sanctionedName, "country": "FR"}})
	for i, c := range []string{"C00001", "C00002", "C00003"} {
		s.decide(t, s.Keys["sales"], http.StatusCreated, quoteBody("Q-CONSOLE-"+strconv.Itoa(i), c, 1500, 30))
	}
	return s, cm2
}

// consoleReviewRule sends the quotes of MustConsoleServer to review: a draft with it changes
// every logged decision of the test.
const consoleReviewRule = `

review_reasons contains {
	"code": "CONSOLE_E2E_REVIEW",
	"message": "Quotes of the console's end-to-end test go to review.",
} if startswith(quote.quote_id, "Q-CONSOLE-")
`

// TestConsoleEndToEnd drives the console in a real browser: finance reads a client's score
// explanation, a credit manager writes a policy draft through a compile error, tests and replays
// it, is refused self-activation, a second manager activates it; a sanctions hit is cleared.
func TestConsoleEndToEnd(t *testing.T) {
	MustChromium(t)
	s, cm2 := MustConsoleServer(t)
	shots := screenshotDir(t)
	t.Logf("screenshots in %s", shots)
	b := MustBrowser(t, s.URL, shots)

	t.Run("finance reads a client's score", func(t *testing.T) {
		b.t = t
		if st := b.open("/console/portfolio"); st != http.StatusOK || b.count("#key") != 1 {
			t.Fatalf("without a session the portfolio should lead to sign-in: status %d", st)
		}
		b.shot("sign-in")
		if st := b.signIn(s.Keys["finance"]); st != http.StatusOK {
			t.Fatalf("sign in as finance: status %d", st)
		}
		if got := js[string](b, `location.pathname`); got != "/console/portfolio" {
			t.Fatalf("finance lands on %s, want the portfolio it asked for", got)
		}
		if n := b.count(`header nav a[href="/console/policies"]`) + b.count(`header nav a[href="/console/screening"]`); n != 0 {
			t.Errorf("finance's menu shows %d credit manager sections", n)
		}
		if b.text("#kpi-open-ar") == "" || b.count("#aging-chart rect") != 5 || b.count("#classes-table tbody tr") < 5 {
			t.Errorf("portfolio: open AR %q, %d aging bars, %d class rows", b.text("#kpi-open-ar"), b.count("#aging-chart rect"), b.count("#classes-table tbody tr"))
		}
		b.shot("portfolio")

		if st := b.open("/console/clients/C00001"); st != http.StatusOK {
			t.Fatalf("client page: status %d", st)
		}
		score, err := strconv.Atoi(b.text("#score-value"))
		if err != nil {
			t.Fatalf("score shown: %q", b.text("#score-value"))
		}
		sum := js[int](b, `Array.from(document.querySelectorAll("#explanation tbody td.points")).reduce((s, td) => s + parseInt(td.innerText, 10), 0)`)
		rows := b.count("#explanation tbody tr")
		if rows < 8 || sum != score || b.text("#points-total") != strconv.Itoa(score) {
			t.Errorf("the explanation's %d rows add up to %d (total shown %q), the score shown is %d", rows, sum, b.text("#points-total"), score)
		}
		var api struct {
			Score int `json:"score"`
		}
		s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/C00001/score", Key: s.Keys["finance"]}).JSON(t, &api)
		if api.Score != score {
			t.Errorf("the console shows score %d, the API %d", score, api.Score)
		}
		b.shot("client")

		if st := b.open("/console/decisions?client_id=C00001"); st != http.StatusOK || b.count("#decisions-table tbody tr") != 1 {
			t.Fatalf("decision log filtered on C00001: status %d, %d rows", st, b.count("#decisions-table tbody tr"))
		}
		b.shot("decisions")
		if st := b.submit("#decisions-table tbody tr a"); st != http.StatusOK || b.text("#decision-model") == "" || b.count("#input-doc tr") < 10 {
			t.Fatalf("decision page: status %d, model %q, %d input lines", st, b.text("#decision-model"), b.count("#input-doc tr"))
		}
		b.shot("decision")
		if st := b.open("/console/policies"); st != http.StatusForbidden {
			t.Errorf("finance forcing the policies page: status %d, want 403", st)
		}
		b.signOut()
	})

	var draft int
	t.Run("credit manager writes, tests and replays a draft", func(t *testing.T) {
		b.t = t
		if st := b.signIn(s.Keys["credit_manager"]); st != http.StatusOK {
			t.Fatalf("sign in as credit manager: status %d", st)
		}
		// The editor's script colours as the server does: same spans for every line of the policy.
		if st := b.open("/console/policies/1"); st != http.StatusOK {
			t.Fatalf("version 1: status %d", st)
		}
		for _, file := range []string{"credit.rego", "credit_test.rego", "data.json"} {
			diff := js[int](b, `(() => {
				const rows = Array.from(document.querySelectorAll('[id="src-`+file+`"] td.src code'));
				const mine = window.credoHighlight(rows.map(c => c.textContent).join("\n"));
				if (rows.length < 10 || mine.length !== rows.length) return -1;
				return rows.filter((c, i) => c.innerHTML !== mine[i]).length;
			})()`)
			if diff != 0 {
				t.Errorf("%s: the editor's script colours %d lines differently from the server (-1: the line counts differ)", file, diff)
			}
		}
		if st := b.open("/console/policies/new"); st != http.StatusOK {
			t.Fatalf("editor: status %d", st)
		}
		const area = `textarea[name="module:credit.rego"]`
		src := js[string](b, `document.querySelector('`+area+`').value`)
		lines := strings.Split(src, "\n")
		bad := -1
		for i, l := range lines {
			if strings.HasPrefix(l, "tables := data.tables") {
				bad = i
				break
			}
		}
		if bad < 0 {
			t.Fatalf("credit.rego has no line 'tables := data.tables':\n%.500s", src)
		}
		broken := append([]string(nil), lines...)
		broken[bad] += " )"
		b.setValue(area, strings.Join(broken, "\n"))
		if n := b.count(`.editor .hl .t-k`); n == 0 {
			t.Error("the editor does not colour Rego keywords")
		}
		if st := b.submit("#save-draft"); st != http.StatusUnprocessableEntity {
			t.Fatalf("a draft with a syntax error: status %d, want 422", st)
		}
		line := strconv.Itoa(bad + 1)
		if b.count(`.editor .gutter li.err[data-line="`+line+`"]`) != 1 || !strings.Contains(b.text(`.diag[data-file="credit.rego"]`), "line "+line) {
			t.Fatalf("the syntax error is not shown at line %s: gutter marks %d, diagnostic %q", line,
				b.count(`.editor .gutter li.err`), b.text(`.diag[data-file="credit.rego"]`))
		}
		b.shot("editor-syntax-error")

		// The fix also sends this test's own quotes to review, so that the replay has changes to show.
		fixed := append([]string(nil), lines...)
		fixed[bad] += " # reviewed in the console"
		b.setValue(area, strings.Join(fixed, "\n")+consoleReviewRule)
		b.setValue("#comment", "console end-to-end draft")
		if st := b.submit("#save-draft"); st != http.StatusOK {
			t.Fatalf("the fixed draft: status %d", st)
		}
		path := js[string](b, `location.pathname`)
		if draft, _ = strconv.Atoi(strings.TrimPrefix(path, "/console/policies/")); draft < 2 || b.text("#policy-status") != "draft" {
			t.Fatalf("after saving, the page is %s with status %q", path, b.text("#policy-status"))
		}

		if st := b.submit("#run-tests"); st != http.StatusOK || js[string](b, `document.querySelector("#tests-summary").dataset.passed`) != "true" {
			t.Fatalf("run tests: status %d, summary %q", st, b.text("#tests-summary"))
		}
		if all, passed := b.count("#tests-table tbody tr"), b.count("#tests-table tbody tr.result-pass"); all < 10 || passed != all {
			t.Errorf("tests: %d shown, %d passed", all, passed)
		}
		b.shot("policy-tests")

		if st := b.submit("#run-replay"); st != http.StatusOK {
			t.Fatalf("replay: status %d", st)
		}
		if ev := js[string](b, `document.querySelector("#replay-summary").dataset.evaluated`); ev != "3" {
			t.Errorf("replay evaluated %s logged decisions, want the 3 made today (%s)", ev, b.text("#replay-summary"))
		}
		changed, _ := strconv.Atoi(js[string](b, `document.querySelector("#replay-summary").dataset.changed`))
		if changed < 1 || b.count("#replay-sample tbody tr") != changed || b.count("#outcome-counts tbody tr") != 3 {
			t.Errorf("replay: %d changed, %d shown side by side, %d outcome rows", changed, b.count("#replay-sample tbody tr"), b.count("#outcome-counts tbody tr"))
		}
		if n := b.count(`#replay-sample tbody tr td:nth-child(3) code`); n < changed || !strings.Contains(b.text("#replay-sample"), "CONSOLE_E2E_REVIEW") {
			t.Errorf("the replayed answers do not show the new reason: %q", b.text("#replay-sample"))
		}
		b.shot("policy-replay")

		if st := b.submit("#activate"); st != http.StatusForbidden || !strings.Contains(b.text("#problem"), "four-eyes") {
			t.Fatalf("self-activation: status %d, page says %q", st, b.text("#problem"))
		}
		if b.text("#policy-status") != "draft" {
			t.Errorf("after a refused activation the version is %q", b.text("#policy-status"))
		}
		b.shot("policy-four-eyes")
		b.signOut()
	})

	t.Run("a second credit manager activates it", func(t *testing.T) {
		b.t = t
		if draft == 0 {
			t.Skip("no draft was made")
		}
		if st := b.signIn(cm2); st != http.StatusOK {
			t.Fatalf("sign in as the second credit manager: status %d", st)
		}
		b.open("/console/policies/" + strconv.Itoa(draft))
		b.setValue("#activate-comment", "reviewed: comment only")
		if st := b.submit("#activate"); st != http.StatusOK || b.text("#policy-status") != "active" || b.text("#flash") == "" {
			t.Fatalf("activation by another manager: status %d, version %q, flash %q, problem %q", st, b.text("#policy-status"), b.text("#flash"), b.text("#problem"))
		}
		var active struct {
			Version int `json:"version"`
		}
		s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/policies/active", Key: s.Keys["finance"]}).JSON(t, &active)
		if active.Version != draft {
			t.Errorf("the API's active version is %d, want %d", active.Version, draft)
		}
		b.shot("policy-activated")
		b.open("/console/policies")
		b.shot("policies")
	})

	t.Run("a credit manager clears a sanctions hit", func(t *testing.T) {
		b.t = t
		if b.count("#who") == 0 && b.signIn(cm2) != http.StatusOK {
			t.Fatal("sign in")
		}
		if st := b.open("/console/screening"); st != http.StatusOK || b.count(`#review-queue a[href="/console/screening/SANCT-1"]`) != 1 {
			t.Fatalf("review queue: status %d, SANCT-1 listed %d times", st, b.count(`#review-queue a[href="/console/screening/SANCT-1"]`))
		}
		b.shot("screening-queue")
		b.open("/console/screening/SANCT-1")
		if b.count("article.hit") == 0 || b.count("article.hit .tokens li") == 0 || b.text("#screening-status") != "potential match" {
			t.Fatalf("SANCT-1: %d hits, %d matched words, status %q", b.count("article.hit"), b.count("article.hit .tokens li"), b.text("#screening-status"))
		}
		b.shot("screening-client")
		hits := b.count("article.hit")
		for i := 0; i < hits; i++ {
			b.do(chromedp.Click(chromedp.CSS(`article.hit input[value="false_positive"]`)))
			b.setValue("article.hit textarea", "Different company: registered in France, not the listed Moscow trader.")
			if st := b.submit("article.hit button[type=submit]"); st != http.StatusOK {
				t.Fatalf("disposition: status %d: %s", st, b.text("#problem"))
			}
		}
		if b.text("#screening-status") != "clear" || b.count("#cleared-hits tbody tr") != hits {
			t.Fatalf("after clearing: status %q, %d cleared rows, want %d", b.text("#screening-status"), b.count("#cleared-hits tbody tr"), hits)
		}
		var sc struct {
			Status string `json:"status"`
		}
		s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/SANCT-1/screening", Key: s.Keys["finance"]}).JSON(t, &sc)
		if sc.Status != "clear" {
			t.Errorf("the API says %q after the console cleared the hits", sc.Status)
		}
		b.shot("screening-cleared")
	})
}
