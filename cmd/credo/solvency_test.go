package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// MustSolvencyClient creates a French client with a registration id ("" for none).
func MustSolvencyClient(t *testing.T, s *testServer, id, registration string) {
	t.Helper()
	body := map[string]any{"name": "Client " + id, "country": "FR"}
	if registration != "" {
		body["registration_id"] = registration
	}
	s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/clients/" + id, Key: s.Keys["ingest"], Body: body})
}

func (s *testServer) solvency(t *testing.T, id string) solvencyReport {
	t.Helper()
	var r solvencyReport
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/" + id + "/solvency", Key: s.Keys["finance"]}).JSON(t, &r)
	return r
}

func (s *testServer) refreshSolvency(t *testing.T, id string) solvencyRefresh {
	t.Helper()
	var r solvencyRefresh
	s.expect(http.StatusOK, req{Method: "POST", Path: "/v1/clients/" + id + "/solvency/refresh", Key: s.Keys["credit_manager"]}).JSON(t, &r)
	return r
}

// mustJSONText renders v as JSON, to compare documents.
func mustJSONText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// MustFetched waits for the fetch the ledger hook starts for a new client: every enabled
// provider answered or failed.
func MustFetched(t *testing.T, s *testServer, id string) solvencyReport {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := s.solvency(t, id)
		done := len(r.Providers) == 3
		for _, p := range r.Providers {
			done = done && (p.Snapshot != nil || p.LastFailure != nil)
		}
		if done {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("client %s was not fetched within 15s: %+v", id, r.Providers)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// featureBin returns the bin and value of a characteristic in the client's score explanation.
func featureBin(t *testing.T, s *testServer, id, feature string) (string, any) {
	t.Helper()
	var ex struct {
		Characteristics []struct {
			Feature string `json:"feature"`
			Value   any    `json:"value"`
			Bin     string `json:"bin"`
		} `json:"characteristics"`
	}
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/" + id + "/score/explanation", Key: s.Keys["finance"]}).JSON(t, &ex)
	for _, c := range ex.Characteristics {
		if c.Feature == feature {
			return c.Bin, c.Value
		}
	}
	t.Fatalf("no %s in the explanation of %s", feature, id)
	return "", nil
}

// TestSolvencyEndToEnd: a new client is fetched from the three providers by the ledger hook; an
// open liquidation published later reaches the score (open_insolvency bin) after a refresh and
// makes the decision deny; a closed company is denied too.
func TestSolvencyEndToEnd(t *testing.T) {
	f := MustFakeProviders(t)
	f.set("bureau", "812345676", "bureau_B.json")
	s := startServer(t, f.env(nil))
	sales := s.Keys["sales"]

	MustSolvencyClient(t, s, "LIQ", "812345676")
	r := MustFetched(t, s, "LIQ")
	if b := r.provider("bodacc"); b.Snapshot == nil || b.Snapshot.Insolvency.Open || b.Stale {
		t.Errorf("bodacc %+v", b)
	}
	if p := r.provider("sirene"); p.Snapshot == nil || !p.Snapshot.NotFound {
		t.Errorf("sirene %+v", p)
	}
	if p := r.provider("bureau"); p.Snapshot == nil || p.Snapshot.Grade == nil || *p.Snapshot.Grade != 4 || p.AgeSeconds == nil {
		t.Errorf("bureau %+v", p)
	}
	if v := r.View; !v.Available || v.Stale || v.Insolvency.Open || v.CompanyStatus != "active" || *v.Grade != 4 {
		t.Errorf("view %+v", v)
	}
	if bin, _ := featureBin(t, s, "LIQ", "open_insolvency"); bin != "no proceeding" {
		t.Errorf("open_insolvency bin %q before the liquidation", bin)
	}
	d := s.decide(t, sales, http.StatusCreated, quoteBody("Q-LIQ-1", "LIQ", 1000, 30))
	if d.Outcome == "deny" || slices.Contains(d.codes(), "INSOLVENCY_OPEN") {
		t.Errorf("decision before the liquidation: %s %v", d.Outcome, d.codes())
	}

	// The bulletin publishes the liquidation; a credit manager refreshes the client.
	f.set("bodacc", "812345676", "bodacc_open_liquidation.json")
	rr := s.refreshSolvency(t, "LIQ")
	if rr.outcome("bodacc") != "saved" || rr.outcome("sirene") != "not_found" || rr.outcome("bureau") != "saved" {
		t.Errorf("refresh %+v", rr.Results)
	}
	if v := rr.Solvency.View; !v.Insolvency.Open || v.Insolvency.Kind != "liquidation" || v.Insolvency.JudgmentDate != "2024-06-18" || v.Stale {
		t.Errorf("view after the refresh %+v", v)
	}
	if bin, _ := featureBin(t, s, "LIQ", "open_insolvency"); bin != "proceeding open" {
		t.Errorf("open_insolvency bin %q after the liquidation: the cached score was not dropped", bin)
	}
	d = s.decide(t, sales, http.StatusCreated, quoteBody("Q-LIQ-2", "LIQ", 1000, 30))
	if d.Outcome != "deny" || !slices.Contains(d.codes(), "INSOLVENCY_OPEN") {
		t.Errorf("decision after the liquidation: %s %v", d.Outcome, d.codes())
	}

	MustSolvencyClient(t, s, "CLO", "443061841")
	if v := MustFetched(t, s, "CLO").View; v.CompanyStatus != "closed" || v.Insolvency.Open {
		t.Errorf("closed company view %+v", v)
	}
	d = s.decide(t, sales, http.StatusCreated, quoteBody("Q-CLO-1", "CLO", 1000, 30))
	if d.Outcome != "deny" || !slices.Contains(d.codes(), "COMPANY_CLOSED") || slices.Contains(d.codes(), "INSOLVENCY_OPEN") {
		t.Errorf("decision for a closed company: %s %v", d.Outcome, d.codes())
	}
}

func TestSolvencyAPIRolesAndBadInput(t *testing.T) {
	f := MustFakeProviders(t)
	s := startServer(t, f.env(nil))
	MustSolvencyClient(t, s, "C-1", "904123783")
	MustFetched(t, s, "C-1")
	get := func(key, path string) req { return req{Method: "GET", Path: path, Key: key} }
	post := func(key, path string) req { return req{Method: "POST", Path: path, Key: key} }
	tests := []struct {
		name   string
		req    req
		status int
	}{
		{"finance reads", get(s.Keys["finance"], "/v1/clients/C-1/solvency"), http.StatusOK},
		{"credit manager reads", get(s.Keys["credit_manager"], "/v1/clients/C-1/solvency"), http.StatusOK},
		{"admin reads", get(s.Keys["admin"], "/v1/clients/C-1/solvency?raw=true"), http.StatusOK},
		{"sales may not read", get(s.Keys["sales"], "/v1/clients/C-1/solvency"), http.StatusForbidden},
		{"ingest may not read", get(s.Keys["ingest"], "/v1/clients/C-1/solvency"), http.StatusForbidden},
		{"no key", get("", "/v1/clients/C-1/solvency"), http.StatusUnauthorized},
		{"unknown client", get(s.Keys["finance"], "/v1/clients/NOBODY/solvency"), http.StatusNotFound},
		{"bad client id", get(s.Keys["finance"], "/v1/clients/bad%20id/solvency"), http.StatusBadRequest},
		{"bad raw", get(s.Keys["finance"], "/v1/clients/C-1/solvency?raw=maybe"), http.StatusBadRequest},
		{"unknown parameter", get(s.Keys["finance"], "/v1/clients/C-1/solvency?as_of=2025-01-01"), http.StatusBadRequest},
		{"admin refreshes", post(s.Keys["admin"], "/v1/clients/C-1/solvency/refresh"), http.StatusOK},
		{"finance may not refresh", post(s.Keys["finance"], "/v1/clients/C-1/solvency/refresh"), http.StatusForbidden},
		{"ingest may not refresh", post(s.Keys["ingest"], "/v1/clients/C-1/solvency/refresh"), http.StatusForbidden},
		{"sales may not refresh", post(s.Keys["sales"], "/v1/clients/C-1/solvency/refresh"), http.StatusForbidden},
		{"refresh an unknown client", post(s.Keys["credit_manager"], "/v1/clients/NOBODY/solvency/refresh"), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := s.expect(tt.status, tt.req)
			if tt.status >= 400 {
				resp.problem(t)
			}
		})
	}
	var withRaw, without solvencyReport
	s.expect(http.StatusOK, get(s.Keys["finance"], "/v1/clients/C-1/solvency?raw=true")).JSON(t, &withRaw)
	s.expect(http.StatusOK, get(s.Keys["finance"], "/v1/clients/C-1/solvency")).JSON(t, &without)
	if p := withRaw.provider("sirene"); p.Snapshot == nil || !strings.Contains(string(p.Snapshot.Raw), `"uniteLegale"`) {
		t.Errorf("raw=true: sirene snapshot %+v", p.Snapshot)
	}
	if p := without.provider("sirene"); p.Snapshot == nil || p.Snapshot.Raw != nil {
		t.Errorf("raw payload given without raw=true")
	}
	out := mustCredo(t, s.env, "solvency", "refresh", "C-1")
	for _, want := range []string{"bodacc   saved", "sirene   saved", "bureau   not_found", "view: company active"} {
		if !strings.Contains(out, want) {
			t.Errorf("credo solvency refresh: no %q in\n%s", want, out)
		}
	}
	if _, err := credoCmd(t, s.env, "solvency", "show", "NOBODY"); err == nil {
		t.Error("credo solvency show of an unknown client succeeded")
	}
}

// TestSolvencyProviderFailuresThroughAPI: each failure a provider can have, seen through the
// refresh route. A failed fetch leaves the last good snapshot as it was, marked stale with the
// failure; retried failures that end in an answer store it; the next success clears the failure.
func TestSolvencyProviderFailuresThroughAPI(t *testing.T) {
	f := MustFakeProviders(t)
	f.set("bureau", "904123783", "bureau_B.json")
	s := startServer(t, f.env(nil))
	MustSolvencyClient(t, s, "C-1", "904123783")
	MustFetched(t, s, "C-1")
	tests := []struct {
		provider, mode string
		recovers       bool
		requests       int
	}{
		{"bureau", fakeHang, false, 3},
		{"bureau", fake500ThenOK, true, 2},
		{"sirene", fake429ThenOK, true, 2},
		{"bureau", fake429TooLong, false, 1},
		{"bodacc", fakeMalformed, false, 1},
		{"bureau", fakeMalformed, false, 1},
		{"bodacc", fakeEndless, false, 1},
		{"sirene", fakeWrongType, false, 1},
		{"bureau", fakeUnauthorized, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.provider+" "+tt.mode, func(t *testing.T) {
			good := s.solvency(t, "C-1").provider(tt.provider)
			if good.Snapshot == nil || good.Stale {
				t.Fatalf("no fresh snapshot before the failure: %+v", good)
			}
			f.fail(tt.provider, tt.mode)
			before := f.requests(tt.provider)
			rr := s.refreshSolvency(t, "C-1")
			f.fail(tt.provider, "")
			if got := f.requests(tt.provider) - before; got != tt.requests {
				t.Errorf("%d requests to %s, want %d", got, tt.provider, tt.requests)
			}
			p := rr.Solvency.provider(tt.provider)
			if tt.recovers {
				if rr.outcome(tt.provider) != "saved" || p.Stale || p.LastFailure != nil || !p.Snapshot.FetchedAt.After(good.Snapshot.FetchedAt) {
					t.Errorf("outcome %s, provider %+v", rr.outcome(tt.provider), p)
				}
				return
			}
			if rr.outcome(tt.provider) != "failed" {
				t.Errorf("outcome %s, want failed", rr.outcome(tt.provider))
			}
			if p.Snapshot == nil || !p.Snapshot.FetchedAt.Equal(good.Snapshot.FetchedAt) || mustJSONText(t, p.Snapshot) != mustJSONText(t, good.Snapshot) {
				t.Errorf("the last good snapshot changed:\n%s\nwas\n%s", mustJSONText(t, p.Snapshot), mustJSONText(t, good.Snapshot))
			}
			if !p.Stale || p.LastFailure == nil || p.LastFailure.Error == "" || !rr.Solvency.View.Stale {
				t.Errorf("after the failure: provider %+v, view stale %v", p, rr.Solvency.View.Stale)
			}
			rr = s.refreshSolvency(t, "C-1")
			if p := rr.Solvency.provider(tt.provider); rr.outcome(tt.provider) != "saved" || p.Stale || p.LastFailure != nil || rr.Solvency.View.Stale {
				t.Errorf("after recovery: outcome %s, provider %+v", rr.outcome(tt.provider), p)
			}
		})
	}
}

// TestSolvencyDecisionNeverWaitsForProviders: while a refresh hangs on the bureau, a quote is
// decided from the stored snapshots (and denied on the stored liquidation).
func TestSolvencyDecisionNeverWaitsForProviders(t *testing.T) {
	f := MustFakeProviders(t)
	f.set("bodacc", "812345676", "bodacc_open_liquidation.json")
	f.set("bureau", "812345676", "bureau_B.json")
	s := startServer(t, f.env(map[string]string{"CREDO_SOLVENCY_TIMEOUT": "30s"}))
	MustSolvencyClient(t, s, "LIQ", "812345676")
	MustFetched(t, s, "LIQ")

	f.fail("bureau", fakeHang)
	refreshed := make(chan int, 1)
	go func() {
		hr, _ := http.NewRequest("POST", s.URL+"/v1/clients/LIQ/solvency/refresh", nil)
		hr.Header.Set("Authorization", "Bearer "+s.Keys["credit_manager"])
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			refreshed <- 0
			return
		}
		resp.Body.Close()
		refreshed <- resp.StatusCode
	}()
	select {
	case <-f.arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the refresh never reached the bureau")
	}
	d := s.decide(t, s.Keys["sales"], http.StatusCreated, quoteBody("Q-1", "LIQ", 1000, 30))
	if d.Outcome != "deny" || !slices.Contains(d.codes(), "INSOLVENCY_OPEN") {
		t.Errorf("decision %s %v", d.Outcome, d.codes())
	}
	select {
	case <-refreshed:
		t.Fatal("the refresh ended before the decision: the test proves nothing")
	default:
	}
	f.releaseAll()
	if status := <-refreshed; status != http.StatusOK {
		t.Errorf("refresh answered %d", status)
	}
}

var exportMap = "client_id=Code client,grade=Note,score=Score,limit=Encours conseillé,status=Statut,date=Date"

func TestSolvencyImportAPIAndCLI(t *testing.T) {
	f := MustFakeProviders(t)
	s := startServer(t, f.env(nil))
	for _, id := range []string{"C-1001", "C-1002", "C-1004"} {
		MustSolvencyClient(t, s, id, "")
	}
	export, err := os.ReadFile(filepath.Join(solvencyTestdata, "bureau_export.csv"))
	if err != nil {
		t.Fatal(err)
	}
	path := func(q string) string {
		return "/v1/imports/solvency?map=" + url.QueryEscape(exportMap) + "&date_format=eu&decimal=%2C" + q
	}
	imp := func(key, q string, status int) *response {
		return s.expect(status, req{Method: "POST", Path: path(q), Key: key, Body: export, ContentType: "text/csv"})
	}
	if _, v := featureBin(t, s, "C-1001", "bureau_grade"); v != nil {
		t.Fatalf("bureau_grade %v before any import", v)
	}

	var rep struct {
		Kind, Provider               string
		Received, Imported, Rejected int
		Atomic, Applied              bool
		Errors                       []struct {
			Field, Message string
			Line           int
		}
	}
	imp(s.Keys["ingest"], "", http.StatusOK).JSON(t, &rep)
	if rep.Received != 8 || rep.Imported != 3 || rep.Rejected != 5 || !rep.Applied || rep.Provider != "import" || rep.Kind != "solvency" {
		t.Errorf("report %+v", rep)
	}
	var lines []string
	for _, e := range rep.Errors {
		lines = append(lines, strconv.Itoa(e.Line)+" "+e.Field)
	}
	if got := strings.Join(lines, ","); got != "4 client_id,6 client_id,7 limit,7 date,8 grade,8 limit,8 status,9 client_id" {
		t.Errorf("errors %s", got)
	}
	if _, v := featureBin(t, s, "C-1001", "bureau_grade"); v != float64(1) {
		t.Errorf("bureau_grade %v after the import: the cached score was not dropped", v)
	}

	p := imp(s.Keys["credit_manager"], "&atomic=true&provider=atomic_try", http.StatusUnprocessableEntity).problem(t)
	if r, _ := p["report"].(map[string]any); r == nil || r["applied"] != false || r["rejected"] != float64(5) {
		t.Errorf("atomic refusal %v", p)
	}
	if s.solvency(t, "C-1001").provider("atomic_try").Provider != "" {
		t.Error("a refused atomic import stored snapshots")
	}
	imp(s.Keys["finance"], "", http.StatusForbidden).problem(t)
	imp(s.Keys["sales"], "", http.StatusForbidden).problem(t)
	imp(s.Keys["ingest"], "&provider=bodacc", http.StatusUnprocessableEntity).problem(t)
	imp(s.Keys["ingest"], "&unknown=1", http.StatusBadRequest).problem(t)
	s.expect(http.StatusUnprocessableEntity, req{Method: "POST", Path: path(""), Key: s.Keys["ingest"], Body: export, ContentType: "application/json"}).problem(t)
	s.expect(http.StatusUnprocessableEntity, req{Method: "POST", Path: "/v1/imports/solvency", Key: s.Keys["ingest"],
		Body: "no,such,columns\n1,2,3\n", ContentType: "text/csv"}).problem(t)
	// The ledger imports still answer on their route.
	s.expect(http.StatusOK, req{Method: "POST", Path: "/v1/imports/clients", Key: s.Keys["ingest"],
		Body: "client_id,name,country\nC-2001,Client 2001,FR\n", ContentType: "text/csv"})

	file := filepath.Join(t.TempDir(), "export.csv")
	if err := os.WriteFile(file, export, 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustCredo(t, s.env, "import", "solvency", "--file", file, "--map", exportMap, "--date-format", "eu", "--decimal", ",", "--provider", "bureau_fr")
	if !strings.Contains(out, "8 received, 3 imported, 5 rejected") || !strings.Contains(out, "line 4: client_id: no client \"C-1003\"") {
		t.Errorf("credo import solvency:\n%s", out)
	}
	if _, err := credoCmd(t, s.env, "import", "solvency", "--file", file, "--map", exportMap, "--date-format", "eu", "--decimal", ",", "--atomic"); err == nil {
		t.Error("an atomic CLI import with rejected rows succeeded")
	}
	out = mustCredo(t, s.env, "solvency", "show", "C-1004")
	if !strings.Contains(out, "bureau_fr") || !strings.Contains(out, "grade 8") {
		t.Errorf("credo solvency show:\n%s", out)
	}
}
