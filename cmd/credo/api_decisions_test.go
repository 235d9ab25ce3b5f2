package main

import (
	"encoding/csv"
	"net/http"
	"slices"
	"strings"
	"testing"
)

type decisionAnswer struct {
	DecisionID string  `json:"decision_id"`
	QuoteID    string  `json:"quote_id"`
	ClientID   string  `json:"client_id"`
	Outcome    string  `json:"outcome"`
	Limit      float64 `json:"credit_limit"`
	Headroom   float64 `json:"headroom"`
	Exposure   struct {
		OpenAR   float64 `json:"open_ar"`
		Overdue  float64 `json:"overdue"`
		Reserved float64 `json:"reserved"`
		Total    float64 `json:"total"`
	} `json:"exposure"`
	Terms struct {
		NetDays        int  `json:"net_days"`
		EndOfMonth     bool `json:"end_of_month"`
		DepositPercent int  `json:"deposit_percent"`
	} `json:"payment_terms"`
	Reasons []struct{ Code, Message string } `json:"reasons"`
	Score   struct {
		RiskClass    string `json:"risk_class"`
		ModelVersion string `json:"model_version"`
	} `json:"score"`
	PolicyVersion int `json:"policy_version"`
	Reservation   *struct {
		Amount     float64 `json:"amount"`
		Status     string  `json:"status"`
		ConsumedBy string  `json:"consumed_by"`
	} `json:"reservation"`
	Input map[string]any `json:"input"`
}

func (d decisionAnswer) codes() []string {
	var out []string
	for _, r := range d.Reasons {
		out = append(out, r.Code)
	}
	return out
}

func quoteBody(quote, client string, amount float64, terms int) map[string]any {
	return map[string]any{"quote_id": quote, "client_id": client, "amount": amount, "currency": "EUR", "requested_terms_days": terms}
}

func (s *testServer) decide(t *testing.T, key string, want int, body any) decisionAnswer {
	t.Helper()
	var d decisionAnswer
	s.expect(want, req{Method: "POST", Path: "/v1/decisions", Key: key, Body: body}).JSON(t, &d)
	return d
}

// TestDecisionsAPI walks the outcome paths, idempotency, reservations and the log through the
// real server, with the real sanctions lists loaded (an unscreened client is never approved).
func TestDecisionsAPI(t *testing.T) {
	env := sanctionsTestEnv(t)
	MustLoadRealLists(t, env)
	s := startServerEnv(t, env, true)
	sales, finance, cm := s.Keys["sales"], s.Keys["finance"], s.Keys["credit_manager"]

	// A prospect registered by its first quote: no history, class C (limit 75,000, 45 days).
	first := quoteBody("Q-1", "P-1", 10000, 30)
	first["client"] = map[string]any{"name": "Boulangerie Durand", "country": "FR", "registration_id": "552100554"}
	d := s.decide(t, sales, http.StatusCreated, first)
	if d.Outcome != "approve" || d.Limit != 75000 || d.Reservation == nil || d.Reservation.Status != "active" || d.Headroom != 65000 || d.Score.RiskClass != "C" || d.PolicyVersion != 1 {
		t.Fatalf("prospect quote: %+v", d)
	}
	// The same quote again: the logged decision, not a new one; a changed body is a conflict.
	r := s.expect(http.StatusOK, req{Method: "POST", Path: "/v1/decisions", Key: sales, Body: first})
	var again decisionAnswer
	r.JSON(t, &again)
	if again.DecisionID != d.DecisionID || r.Header.Get("Credo-Replayed") != "true" {
		t.Errorf("same quote again: %s (replayed %q)", again.DecisionID, r.Header.Get("Credo-Replayed"))
	}
	changed := quoteBody("Q-1", "P-1", 12000, 30)
	s.expect(http.StatusConflict, req{Method: "POST", Path: "/v1/decisions", Key: sales, Body: changed}).problem(t)

	// Terms above the class maximum, and exposure above the limit: review with the reasons.
	d2 := s.decide(t, sales, http.StatusCreated, quoteBody("Q-2", "P-1", 5000, 60))
	if d2.Outcome != "review" || !slices.Contains(d2.codes(), "TERMS_ABOVE_CLASS_MAX") {
		t.Errorf("terms: %+v", d2)
	}
	d3 := s.decide(t, sales, http.StatusCreated, quoteBody("Q-3", "P-1", 66000, 30))
	if d3.Outcome != "review" || !slices.Contains(d3.codes(), "LIMIT_EXCEEDED") || d3.Exposure.Reserved != 10000 {
		t.Errorf("limit: %+v", d3)
	}
	// Release gives the headroom back; an invoice carrying a quote id consumes its reservation.
	var rel decisionAnswer
	s.expect(http.StatusOK, req{Method: "POST", Path: "/v1/decisions/" + d.DecisionID + "/release", Key: sales}).JSON(t, &rel)
	if rel.Reservation == nil || rel.Reservation.Status != "released" {
		t.Errorf("release: %+v", rel.Reservation)
	}
	s.expect(http.StatusConflict, req{Method: "POST", Path: "/v1/decisions/" + d2.DecisionID + "/release", Key: sales})
	d4 := s.decide(t, sales, http.StatusCreated, quoteBody("Q-4", "P-1", 20000, 30))
	if d4.Outcome != "approve" || d4.Exposure.Reserved != 0 {
		t.Fatalf("after release: %+v", d4)
	}
	s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/invoices/INV-4", Key: s.Keys["ingest"],
		Body: map[string]any{"client_id": "P-1", "issue_date": "2026-11-01", "due_date": "2026-12-01", "amount": 20000, "currency": "EUR", "quote_id": "Q-4"}})
	var got decisionAnswer
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/decisions/" + d4.DecisionID, Key: finance}).JSON(t, &got)
	if got.Reservation == nil || got.Reservation.Status != "consumed" || got.Reservation.ConsumedBy != "INV-4" {
		t.Errorf("after the invoice: %+v", got.Reservation)
	}
	if got.Input == nil || got.Input["quote"].(map[string]any)["quote_id"] != "Q-4" {
		t.Errorf("the log lacks the input document: %v", got.Input)
	}
	d5 := s.decide(t, sales, http.StatusCreated, quoteBody("Q-5", "P-1", 1000, 30))
	if d5.Exposure.OpenAR != 20000 || d5.Exposure.Reserved != 0 {
		t.Errorf("exposure after consumption: %+v", d5.Exposure)
	}

	// Sanctions: a client with a listed director is reviewed; once a credit manager confirms the
	// hit, denied.
	s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/clients/S-1", Key: s.Keys["ingest"],
		Body: map[string]any{"name": "Transportes del Valle SAS", "country": "CO", "directors": []string{listedDirector}}})
	ds := s.decide(t, sales, http.StatusCreated, quoteBody("Q-S1", "S-1", 1000, 30))
	if ds.Outcome != "review" || !slices.Contains(ds.codes(), "SANCTIONS_POTENTIAL_MATCH") {
		t.Fatalf("potential match: %+v", ds)
	}
	s.expect(http.StatusCreated, req{Method: "POST", Path: "/v1/clients/S-1/screening/hits/ofac-6718/disposition", Key: cm,
		Body: map[string]any{"verdict": "confirmed", "note": "Same person: date of birth and passport match."}})
	dd := s.decide(t, sales, http.StatusCreated, quoteBody("Q-S2", "S-1", 1000, 30))
	if dd.Outcome != "deny" || !slices.Contains(dd.codes(), "SANCTIONS_CONFIRMED") || dd.Limit != 0 {
		t.Fatalf("confirmed match: %+v", dd)
	}

	// The log: finance sees all, a sales key its own; CSV export.
	other := strings.TrimSpace(mustCredo(t, s.env, "keys", "create", "--name", "other-crm", "--role", "sales"))
	s.decide(t, other, http.StatusCreated, quoteBody("Q-O1", "P-1", 100, 30))
	var page struct {
		Items []decisionAnswer `json:"items"`
		Next  string           `json:"next"`
	}
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/decisions?client_id=P-1", Key: finance}).JSON(t, &page)
	if len(page.Items) != 6 {
		t.Errorf("finance sees %d decisions of P-1, want 6", len(page.Items))
	}
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/decisions?client_id=P-1", Key: other}).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].QuoteID != "Q-O1" {
		t.Errorf("the other sales key sees %+v", page.Items)
	}
	s.expect(http.StatusNotFound, req{Method: "GET", Path: "/v1/decisions/" + d.DecisionID, Key: other})
	s.expect(http.StatusNotFound, req{Method: "POST", Path: "/v1/decisions/" + d.DecisionID + "/release", Key: other})
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/decisions?outcome=deny", Key: finance}).JSON(t, &page)
	if len(page.Items) != 1 || page.Items[0].QuoteID != "Q-S2" {
		t.Errorf("outcome filter: %+v", page.Items)
	}
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/decisions?limit=2", Key: finance}).JSON(t, &page)
	if len(page.Items) != 2 || page.Next == "" {
		t.Fatalf("first page: %+v", page)
	}
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/decisions?from=2000-01-01&to=2000-12-31", Key: finance}).JSON(t, &page)
	if len(page.Items) != 0 {
		t.Errorf("dates filter: %d", len(page.Items))
	}
	exp := s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/decisions", Key: cm, Header: map[string]string{"Accept": "text/csv"}})
	rows, err := csv.NewReader(strings.NewReader(string(exp.Body))).ReadAll()
	if err != nil || len(rows) != 9 || rows[0][0] != "decision_id" { // the header and 8 decisions
		t.Errorf("CSV export: %d rows, %v\n%s", len(rows), err, exp.Body)
	}
	s.expect(http.StatusBadRequest, req{Method: "GET", Path: "/v1/decisions?outcome=maybe", Key: finance})
	s.expect(http.StatusBadRequest, req{Method: "GET", Path: "/v1/decisions?from=yesterday", Key: finance})
}

func TestDecisionsBadInputAndRoles(t *testing.T) {
	env := sanctionsTestEnv(t)
	MustLoadRealLists(t, env)
	s := startServerEnv(t, env, true)
	sales := s.Keys["sales"]
	s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/clients/C-1", Key: s.Keys["ingest"], Body: map[string]any{"name": "Alpha", "country": "FR"}})
	tests := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"negative amount", quoteBody("Q1", "C-1", -10, 30), 422, "amount"},
		{"zero amount", quoteBody("Q1", "C-1", 0, 30), 422, "amount"},
		{"absurd amount", quoteBody("Q1", "C-1", 1e13, 30), 422, "amount"},
		{"unknown currency", map[string]any{"quote_id": "Q1", "client_id": "C-1", "amount": 10, "currency": "XXX", "requested_terms_days": 30}, 422, "currency"},
		{"terms over a year", quoteBody("Q1", "C-1", 10, 366), 422, "requested_terms_days"},
		{"negative terms", quoteBody("Q1", "C-1", 10, -1), 422, "requested_terms_days"},
		{"missing quote_id", map[string]any{"client_id": "C-1", "amount": 10, "currency": "EUR", "requested_terms_days": 30}, 422, "quote_id"},
		{"bad quote_id", quoteBody("Q 1", "C-1", 10, 30), 422, "quote_id"},
		{"unknown client without client", quoteBody("Q1", "NOBODY", 10, 30), 422, "client_id"},
		{"prospect without country", map[string]any{"quote_id": "Q1", "client_id": "NEW", "amount": 10, "currency": "EUR", "requested_terms_days": 30, "client": map[string]any{"name": "New"}}, 422, "client.country"},
		{"unknown field", map[string]any{"quote_id": "Q1", "client_id": "C-1", "amount": 10, "currency": "EUR", "requested_terms_days": 30, "discount": 5}, 400, "discount"},
		{"amount as text", map[string]any{"quote_id": "Q1", "client_id": "C-1", "amount": "10", "currency": "EUR", "requested_terms_days": 30}, 400, "amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := s.expect(tt.status, req{Method: "POST", Path: "/v1/decisions", Key: sales, Body: tt.body}).problem(t)
			if !slices.Contains(fieldsOf(t, p), tt.field) {
				t.Errorf("problem %v does not name %s", p, tt.field)
			}
		})
	}
	var page struct{ Items []any }
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/decisions", Key: s.Keys["finance"]}).JSON(t, &page)
	if len(page.Items) != 0 {
		t.Errorf("refused requests were logged: %d", len(page.Items))
	}
	s.expect(http.StatusNotFound, req{Method: "GET", Path: "/v1/clients/NEW", Key: s.Keys["finance"]})
	for _, role := range []string{"finance", "ingest", "credit_manager"} {
		s.expect(http.StatusForbidden, req{Method: "POST", Path: "/v1/decisions", Key: s.Keys[role], Body: quoteBody("Q9", "C-1", 10, 30)})
	}
	s.expect(http.StatusForbidden, req{Method: "GET", Path: "/v1/decisions", Key: s.Keys["ingest"]})
	s.expect(http.StatusUnauthorized, req{Method: "POST", Path: "/v1/decisions", Body: quoteBody("Q9", "C-1", 10, 30)})
	s.decide(t, s.Keys["admin"], http.StatusCreated, quoteBody("Q9", "C-1", 10, 30))
}
