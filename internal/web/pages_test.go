package web

import (
	"encoding/csv"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/receivables"
)

// forgedSession seals a session for a key as the console would, for roles that cannot sign in
// (sales, ingest): the pages must refuse them even so.
func (tc *testConsole) forgedSession(name string) *http.Cookie {
	s := session{Key: tc.keys[name], ID: "forged", Issued: tc.now.Unix(), Seen: tc.now.Unix()}
	return &http.Cookie{Name: sessionCookie, Value: tc.c.keys.sealSession(s)}
}

// TestPageAccess opens every page with every role: a role sees the pages of its permissions and
// gets 403 on the others, and its menu lists exactly the sections it may use.
func TestPageAccess(t *testing.T) {
	tc := MustConsole(t)
	pages := []struct {
		path string
		id   pageID
	}{
		{"/console/portfolio", pagePortfolio},
		{"/console/portfolio?as_of=2026-06-30", pagePortfolio},
		{"/console/clients", pageClients},
		{"/console/clients?name=ate", pageClients},
		{"/console/clients/C-1", pageClients},
		{"/console/clients/C-2?as_of=2026-10-01", pageClients},
		{"/console/decisions", pageDecisions},
		{"/console/decisions?client_id=C-2&outcome=review&from=2026-11-01&to=2026-11-23", pageDecisions},
		{"/console/decisions/d-01", pageDecisions},
		{"/console/decisions.csv", pageDecisions},
		{"/console/policies", pagePolicies},
		{"/console/policies/1", pagePolicies},
		{"/console/policies/2", pagePolicies},
		{"/console/policies/new", pagePolicies},
		{"/console/policies/new?parent=2", pagePolicies},
		{"/console/screening", pageScreening},
		{"/console/screening?name=fictive", pageScreening},
		{"/console/screening/C-2", pageScreening},
	}
	roles := []struct {
		key  string
		role auth.Role
		sess *http.Cookie
	}{
		{"test-finance", auth.Finance, tc.MustSignIn("test-finance")},
		{"test-credit_manager", auth.CreditManager, tc.MustSignIn("test-credit_manager")},
		{"test-admin", auth.Admin, tc.MustSignIn("test-admin")},
		{"test-sales", auth.Sales, tc.forgedSession("test-sales")},
		{"test-ingest", auth.Ingest, tc.forgedSession("test-ingest")},
	}
	for _, r := range roles {
		for _, pg := range pages {
			t.Run(r.key+" "+pg.path, func(t *testing.T) {
				p := tc.get(pg.path, r.sess)
				want := http.StatusForbidden
				if allowed(r.role, pg.id) {
					want = http.StatusOK
				}
				if p.Status != want {
					t.Fatalf("status %d, want %d\n%.2000s", p.Status, want, p.Body)
				}
				if want == http.StatusForbidden {
					p.MustContain(t, "Your role may not use this page.")
				}
			})
		}
		t.Run(r.key+" menu", func(t *testing.T) {
			home := homeOf(r.role)
			if home == "" {
				return
			}
			p := tc.get(home, r.sess)
			for _, id := range pageOrder {
				link := `<li><a href="` + pageDefs[id].path + `"`
				if strings.Contains(p.Body, link) != allowed(r.role, id) {
					t.Errorf("menu link to %s shown: %v, allowed: %v", pageDefs[id].path, strings.Contains(p.Body, link), allowed(r.role, id))
				}
			}
		})
	}
	t.Run("the menu's sections", func(t *testing.T) {
		for role, want := range map[auth.Role]int{auth.Finance: 3, auth.CreditManager: 5, auth.Admin: 5, auth.Sales: 0, auth.Ingest: 0} {
			n := 0
			for _, id := range pageOrder {
				if allowed(role, id) {
					n++
				}
			}
			if n != want {
				t.Errorf("%s may use %d sections, want %d", role, n, want)
			}
		}
	})
}

func TestNotFound(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-admin")
	for _, path := range []string{"/console/clients/NOPE", "/console/decisions/d-999", "/console/policies/9", "/console/policies/abc", "/console/screening/NOPE", "/console/nothing"} {
		if p := tc.get(path, sess); p.Status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, p.Status)
		}
	}
	for _, path := range []string{"/console/clients/bad%20id", "/console/portfolio?as_of=2026-02-30", "/console/decisions?outcome=maybe",
		"/console/decisions?from=yesterday", "/console/screening?name=x&birth_year=old"} {
		if p := tc.get(path, sess); p.Status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", path, p.Status)
		}
	}
}

var points = regexp.MustCompile(`<td class="num points">(-?\d+)</td>`)

// TestClientPage checks the explanation adds up to the score shown and the figures agree with
// the receivables package.
func TestClientPage(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-finance")
	p := tc.get("/console/clients/C-1", sess)
	if p.Status != http.StatusOK {
		t.Fatalf("status %d", p.Status)
	}
	score := regexp.MustCompile(`id="score-value">(\d+)<`).FindStringSubmatch(p.Body)
	sum := 0
	rows := points.FindAllStringSubmatch(p.Body, -1)
	for _, m := range rows {
		n, _ := strconv.Atoi(m[1])
		sum += n
	}
	if score == nil || len(rows) != len(testLines) || strconv.Itoa(sum) != score[1] {
		t.Fatalf("score %v, %d explanation rows adding up to %d", score, len(rows), sum)
	}
	p.MustContain(t, `id="points-total">555<`, "12.5", "0.25", "Days beyond terms, weighted (12 months)", "<code>weighted_dbt_12m</code>",
		"pays 12.5 days beyond terms", "PD <span id=\"score-pd\">4.12%", "Marie Dupont", "F-001", "history-chart", "610",
		"bureau", "timeout", `id="screening-status">clear<`, "d-00")
	// Open receivables as the receivables package computes them: I-1 whole, I-2 less its payment.
	m := receivables.Compute(fakeFacts{tc.world.Ledger.(*fakeLedger)}.facts(testToday, "C-1"))
	if m.OpenAR != 123456+75000 {
		t.Fatalf("open AR %v", m.OpenAR)
	}
	p.MustContain(t, "€1,984.56", "€1,234.56", "61 to 90 days")
	if strings.Contains(p.Body, "Review the screening") {
		t.Error("finance sees the link to the screening review")
	}
	if p := tc.get("/console/clients/C-2", tc.MustSignIn("test-credit_manager")); !strings.Contains(p.Body, "Review the screening") {
		t.Error("a credit manager does not see the link to the screening review")
	}
}

func TestPortfolioPage(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-finance")
	p := tc.get("/console/portfolio", sess)
	if p.Status != http.StatusOK {
		t.Fatalf("status %d", p.Status)
	}
	l := tc.world.Ledger.(*fakeLedger)
	m := receivables.Compute(fakeFacts{l}.facts(testToday, ""))
	loc := locale{lang: "en", currency: "EUR"}
	p.MustContain(t, `id="kpi-open-ar">`+loc.money(m.OpenAR)+`<`, `id="kpi-overdue">`+loc.money(m.Overdue)+`<`,
		`<svg class="chart"`, `id="aging-chart"`, `id="forecast-chart"`, `<title id="aging-chart-t">Aged balance</title>`,
		"Not scored", "€3,500.50", "Ateliers Dupont SAS", `href="/console/clients/C-1"`, "610 → 555")
	// Five aging bars and thirteen weekly ones, each with its figure in the table too.
	if n := strings.Count(p.Body, `<g class="bar">`); n != 5+forecastWeeks {
		t.Errorf("%d bars", n)
	}
	past := tc.get("/console/portfolio?as_of=2026-06-30", sess)
	past.MustContain(t, "Receivables on 30 Jun 2026", `value="2026-06-30"`)
}

func TestDecisionsPages(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-finance")
	rows := regexp.MustCompile(`<td><a href="/console/decisions/d-\d+">`)
	p := tc.get("/console/decisions", sess)
	if n := len(rows.FindAllString(p.Body, -1)); n != decisionsPage {
		t.Fatalf("%d rows on the first page, want %d", n, decisionsPage)
	}
	next := regexp.MustCompile(`href="(/console/decisions\?[^"]*after=\d+)"`).FindStringSubmatch(p.Body)
	if next == nil {
		t.Fatal("no next page link")
	}
	p2 := tc.get(strings.ReplaceAll(next[1], "&amp;", "&"), sess)
	if n := len(rows.FindAllString(p2.Body, -1)); n != 60-decisionsPage {
		t.Errorf("%d rows on the second page", n)
	}
	f := tc.get("/console/decisions?client_id=C-2&outcome=review", sess)
	// C-2 has the odd decisions, review every third: 3, 9, ..., 57.
	if n := len(rows.FindAllString(f.Body, -1)); n != 10 {
		t.Errorf("%d rows for C-2 in review, want 10", n)
	}
	f.MustContain(t, `<option value="review" selected>`, `href="/console/decisions.csv?client_id=C-2&amp;outcome=review"`)

	d := tc.get("/console/decisions/d-03", sess)
	d.MustContain(t, "Decision d-03", "Q-03", "TERMS_OK", "terms within the class maximum", "2026.1", "sha256:p1", "net 30 days",
		`<span class="t-y">&#34;quote_id&#34;</span>`, `id="input-doc-L2"`)

	csvPage := tc.get("/console/decisions.csv?client_id=C-1", sess)
	if ct := csvPage.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" || !strings.Contains(csvPage.Header.Get("Content-Disposition"), "decisions.csv") {
		t.Errorf("CSV headers: %q %q", ct, csvPage.Header.Get("Content-Disposition"))
	}
	recs, err := csv.NewReader(strings.NewReader(csvPage.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 31 || strings.Join(recs[0], ",") != strings.Join(decision.ExportColumns, ",") || recs[1][2] != "C-1" || recs[1][5] != "1000.00" {
		t.Errorf("CSV: %d records, first %v", len(recs), recs[:min(2, len(recs))])
	}
	all := tc.get("/console/decisions.csv", sess)
	if n := strings.Count(all.Body, "\n"); n != 61 {
		t.Errorf("the export of every decision has %d lines, want 61 (it pages through the log)", n)
	}
}

func TestClientsSearch(t *testing.T) {
	tc := MustConsole(t)
	sess := tc.MustSignIn("test-finance")
	p := tc.get("/console/clients?name=fict", sess)
	p.MustContain(t, "Fictive Trading SAS")
	p.MustNotContain(t, "Ateliers Dupont SAS")
	if p := tc.get("/console/clients?id=C-1", sess); p.Status != http.StatusSeeOther || p.Location() != "/console/clients/C-1" {
		t.Errorf("go to a client by id: %d %q", p.Status, p.Location())
	}
}

func TestMoneyOfTheDeployment(t *testing.T) {
	// The ledger's amounts are in cents; pages show them in the deployment's currency.
	for _, tt := range []struct {
		cur, en, fr string
	}{{"EUR", "€1,234.56", "1\u202f234,56\u00a0€"}, {"CHF", "CHF\u00a01,234.56", "1\u202f234,56\u00a0CHF"}} {
		en, fr := locale{"en", tt.cur}, locale{"fr", tt.cur}
		if got := en.money(ledger.Money(123456)); got != tt.en {
			t.Errorf("%s en: %q", tt.cur, got)
		}
		if got := fr.money(ledger.Money(123456)); got != tt.fr {
			t.Errorf("%s fr: %q", tt.cur, got)
		}
	}
}
