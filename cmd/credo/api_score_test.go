package main

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/ledger"
)

// scoreDay is today plus n days, as the API writes dates: scores are computed as of today.
func scoreDay(n int) string { return ledger.Today().AddDays(n).String() }

// scoreLedger puts a small ledger through the API, dated from today:
//
//	ACME: A1 1000.00 issued -100, due -70, paid -60 (10 days late);
//	      A2 2000.00 issued -50, due -20, unpaid (20 days overdue).
//	BETA: B1 500.00 issued -40, due -10, unpaid (10 days overdue).
//	NEWCO: no invoices.
func scoreLedger(t *testing.T, s *testServer) {
	t.Helper()
	key := s.Keys["ingest"]
	for _, id := range []string{"ACME", "BETA", "NEWCO"} {
		s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/clients/" + id, Key: key, Body: map[string]any{"name": id + " SA", "country": "FR"}})
	}
	for id, inv := range map[string]map[string]any{
		"A1": invoiceBody("ACME", scoreDay(-100), scoreDay(-70), 1000),
		"A2": invoiceBody("ACME", scoreDay(-50), scoreDay(-20), 2000),
		"B1": invoiceBody("BETA", scoreDay(-40), scoreDay(-10), 500),
	} {
		s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/invoices/" + id, Key: key, Body: inv})
	}
	s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/payments/P1", Key: key, Body: map[string]any{
		"client_id": "ACME", "date": scoreDay(-60), "amount": 1000, "currency": "EUR",
		"allocations": []map[string]any{{"invoice_id": "A1", "amount": 1000}}}})
}

// The scores of scoreLedger with model 2026.1, by hand (missing solvency: 66 + 26 + 74 + 29 = 195):
//
//	ACME: dbt 10 -> 90, late share 100% -> 22, max overdue 20 -> 75, overdue 100% -> 20, trend
//	      missing (no prior period) -> 36, disputes 0 -> 35, 3 months -> 15, 1 paid -> 26: 514, E.
//	      After A2 is paid today (20 days late): dbt (10x1000 + 20x2000) / 3000 = 16.7 -> 72,
//	      late share 100% -> 22, nothing overdue -> 95, nothing open (missing) -> 56, trend 36,
//	      disputes 35, 3 months 15, 2 paid 26: 552, D.
//	BETA: no paid invoice (dbt 98, late share 54, trend 36), max overdue 10 -> 87, overdue
//	      100% -> 20, disputes 0 -> 35, 1 month -> 15, 0 paid -> 14: 554, D.
//	NEWCO: nothing (98 + 54 + 89 + 56 + 36 + 31 + 15 + 14) + 195: 588, C.
var handScores = map[string]struct {
	score int
	class string
}{"ACME": {514, "E"}, "ACME-paid": {552, "D"}, "BETA": {554, "D"}, "NEWCO": {588, "C"}}

type scoreDoc struct {
	ClientID     string  `json:"client_id"`
	Score        int     `json:"score"`
	RiskClass    string  `json:"risk_class"`
	PD           float64 `json:"pd"`
	ModelVersion string  `json:"model_version"`
	ComputedAt   string  `json:"computed_at"`
	Language     string  `json:"language"`
	InputsAsOf   struct {
		Ledger    string  `json:"ledger"`
		Solvency  *string `json:"solvency"`
		Sanctions *string `json:"sanctions_list_version"`
	} `json:"inputs_as_of"`
	Reasons []struct {
		Code       string `json:"code"`
		Text       string `json:"text"`
		PointsLost int    `json:"points_lost"`
	} `json:"reasons"`
}

type explanationDoc struct {
	Score           int     `json:"score"`
	RiskClass       string  `json:"risk_class"`
	PD              float64 `json:"pd"`
	ModelVersion    string  `json:"model_version"`
	Characteristics []struct {
		Feature   string `json:"feature"`
		Value     any    `json:"value"`
		Bin       string `json:"bin"`
		Points    int    `json:"points"`
		MaxPoints int    `json:"max_points"`
	} `json:"characteristics"`
	Scaling struct {
		BaseScore float64 `json:"base_score"`
		BaseOdds  float64 `json:"base_odds"`
		PDO       float64 `json:"pdo"`
	} `json:"scaling"`
}

func (s *testServer) score(t *testing.T, client, lang string) scoreDoc {
	t.Helper()
	var d scoreDoc
	h := map[string]string{}
	if lang != "" {
		h["Accept-Language"] = lang
	}
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/" + client + "/score", Key: s.Keys["sales"], Header: h}).JSON(t, &d)
	return d
}

func TestScoreAPI(t *testing.T) {
	s := startServer(t, nil)
	scoreLedger(t, s)
	fin := s.Keys["finance"]

	for client, want := range map[string]string{"ACME": "ACME", "BETA": "BETA", "NEWCO": "NEWCO"} {
		d := s.score(t, client, "")
		hand := handScores[want]
		if d.Score != hand.score || d.RiskClass != hand.class || d.ClientID != client || d.ModelVersion != "2026.1" ||
			d.InputsAsOf.Ledger != scoreDay(0) || d.InputsAsOf.Solvency != nil || d.InputsAsOf.Sanctions != nil || d.Language != "en" {
			t.Errorf("%s: %+v, want score %d class %s as of %s", client, d, hand.score, hand.class, scoreDay(0))
		}
	}

	// Reasons: most points lost first, ties in the model's order (paid_count_12m before
	// bureau_grade, 24 each), with the client's values, in English or French.
	wantReasons := map[string][][3]string{
		"en": {{"OVERDUE_SHARE", "40", "100% of open receivables are overdue"},
			{"LATE_SHARE", "38", "100% of invoices paid late over 12 months"},
			{"SHORT_RELATIONSHIP", "30", "client for only 3 months"},
			{"THIN_FILE", "24", "invoices paid over 12 months: 1, a thin payment history"}},
		"fr-CA,fr;q=0.9,en;q=0.5": {{"OVERDUE_SHARE", "40", "100 % de l'encours est échu"},
			{"LATE_SHARE", "38", "100 % des factures payées en retard sur 12 mois"},
			{"SHORT_RELATIONSHIP", "30", "client depuis seulement 3 mois"},
			{"THIN_FILE", "24", "factures payées sur 12 mois : 1, un historique de paiement mince"}},
	}
	for lang, want := range wantReasons {
		d := s.score(t, "ACME", lang)
		var got [][3]string
		for _, r := range d.Reasons {
			got = append(got, [3]string{r.Code, fmt.Sprint(r.PointsLost), r.Text})
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("reasons (%s):\n got %q\nwant %q", lang, got, want)
		}
	}
	r := s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/ACME/score", Key: fin, Header: map[string]string{"Accept-Language": "fr"}})
	if r.Header.Get("Content-Language") != "fr" || !strings.Contains(string(r.Body), `"language":"fr"`) {
		t.Errorf("Accept-Language fr: %s %s", r.Header.Get("Content-Language"), r.Body)
	}

	// The explanation adds up to the score, and the scaling gives the PD.
	for _, client := range []string{"ACME", "BETA", "NEWCO"} {
		var ex explanationDoc
		s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/" + client + "/score/explanation", Key: fin}).JSON(t, &ex)
		sum := 0
		for _, l := range ex.Characteristics {
			sum += l.Points
			if l.Points > l.MaxPoints {
				t.Errorf("%s %s: %d points above the maximum %d", client, l.Feature, l.Points, l.MaxPoints)
			}
		}
		sc := ex.Scaling
		odds := sc.BaseOdds * math.Pow(2, (float64(ex.Score)-sc.BaseScore)/sc.PDO)
		if sum != ex.Score || len(ex.Characteristics) != 12 || ex.Score != handScores[client].score ||
			math.Abs(ex.PD-1/(1+odds)) > 5e-9 || sc.BaseScore != 600 || sc.BaseOdds != 50 || sc.PDO != 20 {
			t.Errorf("%s: lines add up to %d for score %d; PD %v for odds %v; %+v", client, sum, ex.Score, ex.PD, odds, ex)
		}
	}
	var ex explanationDoc
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/ACME/score/explanation", Key: fin}).JSON(t, &ex)
	got := map[string]string{}
	for _, l := range ex.Characteristics {
		got[l.Feature] = fmt.Sprintf("%v|%s|%d", l.Value, l.Bin, l.Points)
	}
	for f, want := range map[string]string{
		"weighted_dbt_12m": "10|6 to 15 days late|90", "overdue_rate": "1|70% or more|20", "dbt_trend": "<nil>|no trend|36",
		"max_days_overdue": "20|16 to 30 days|75", "bureau_grade": "<nil>|no grade|66", "paid_count_12m": "1|1 to 3|26",
	} {
		if got[f] != want {
			t.Errorf("ACME %s: %s, want %s", f, got[f], want)
		}
	}

	// Models: listed with the active one.
	models := s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/models", Key: s.Keys["credit_manager"]}).Map(t)
	if models["active"] != "2026.1" || len(models["models"].([]any)) != 1 || models["models"].([]any)[0].(map[string]any)["active"] != true {
		t.Errorf("models: %v", models)
	}
	ready := s.expect(http.StatusOK, req{Method: "GET", Path: "/readyz"}).Map(t)
	if ready["model"] != "2026.1" {
		t.Errorf("readyz: %v", ready)
	}

	// Bad input.
	s.expect(http.StatusNotFound, req{Method: "GET", Path: "/v1/clients/NOPE/score", Key: fin}).problem(t)
	s.expect(http.StatusNotFound, req{Method: "GET", Path: "/v1/clients/NOPE/score/explanation", Key: fin}).problem(t)
	s.expect(http.StatusNotFound, req{Method: "GET", Path: "/v1/clients/NOPE/score/history", Key: fin}).problem(t)
	p := s.expect(http.StatusBadRequest, req{Method: "GET", Path: "/v1/clients/ACME/score?refresh=maybe", Key: fin}).problem(t)
	if f := fieldsOf(t, p); len(f) != 1 || f[0] != "refresh" {
		t.Errorf("bad refresh: %v", p)
	}
	s.expect(http.StatusBadRequest, req{Method: "GET", Path: "/v1/clients/ACME/score/history?limit=0", Key: fin}).problem(t)
	s.expect(http.StatusBadRequest, req{Method: "GET", Path: "/v1/clients/ACME/score/history?limit=x", Key: fin}).problem(t)
	s.expect(http.StatusBadRequest, req{Method: "GET", Path: "/v1/clients/" + strings.Repeat("x", 65) + "/score", Key: fin}).problem(t)
}

func TestScoreRoles(t *testing.T) {
	s := startServer(t, nil)
	scoreLedger(t, s)
	paths := []string{"/v1/models", "/v1/clients/ACME/score", "/v1/clients/ACME/score/explanation", "/v1/clients/ACME/score/history"}
	allowed := map[string][]bool{ // per path above
		"admin":          {true, true, true, true},
		"finance":        {true, true, true, true},
		"credit_manager": {true, true, true, true},
		"sales":          {false, true, false, false},
		"ingest":         {false, false, false, false},
	}
	for role, can := range allowed {
		for i, path := range paths {
			want := http.StatusForbidden
			if can[i] {
				want = http.StatusOK
			}
			s.expect(want, req{Method: "GET", Path: path, Key: s.Keys[role]})
		}
	}
	for _, path := range paths {
		s.expect(http.StatusUnauthorized, req{Method: "GET", Path: path})
		s.expect(http.StatusUnauthorized, req{Method: "GET", Path: path, Key: "credo_not_a_key"})
	}
}

// TestScoreHistoryAndPayment: a payment recorded for a client changes that client's next score
// and not another's, through the real cache (Redis when it answers); the history gets a row
// when the score changes and not otherwise.
func TestScoreHistoryAndPayment(t *testing.T) {
	redisURL := os.Getenv("REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/0"
	}
	if c, err := net.DialTimeout("tcp", strings.TrimSuffix(strings.TrimPrefix(redisURL, "redis://"), "/0"), time.Second); err != nil {
		t.Skipf("no Redis at %s: %v", redisURL, err)
	} else {
		c.Close()
	}
	s := startServer(t, map[string]string{"REDIS_URL": redisURL})
	if ready := s.expect(http.StatusOK, req{Method: "GET", Path: "/readyz"}).Map(t); fmt.Sprint(ready["cache"]) != "map[mode:redis redis_up:true]" {
		t.Fatalf("the cache is not Redis: %v", ready)
	}
	scoreLedger(t, s)
	fin := s.Keys["finance"]
	history := func(client string) []map[string]any {
		var h struct {
			History []map[string]any `json:"history"`
		}
		s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/" + client + "/score/history", Key: fin}).JSON(t, &h)
		return h.History
	}
	if h := history("ACME"); len(h) != 0 {
		t.Fatalf("history before any score: %v", h)
	}
	acme, beta := s.score(t, "ACME", ""), s.score(t, "BETA", "")
	if again := s.score(t, "ACME", ""); again.ComputedAt != acme.ComputedAt {
		t.Errorf("second read recomputed: %s then %s", acme.ComputedAt, again.ComputedAt)
	}
	// Recomputing the same score adds no row.
	var refreshed scoreDoc
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/ACME/score?refresh=true", Key: fin}).JSON(t, &refreshed)
	if refreshed.ComputedAt == acme.ComputedAt || refreshed.Score != acme.Score {
		t.Errorf("refresh: %+v after %+v", refreshed, acme)
	}
	if h := history("ACME"); len(h) != 1 || h[0]["score"] != float64(514) || h[0]["risk_class"] != "E" {
		t.Fatalf("history after the same score twice: %v", h)
	}

	s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/payments/P2", Key: s.Keys["ingest"], Body: map[string]any{
		"client_id": "ACME", "date": scoreDay(0), "amount": 2000, "currency": "EUR",
		"allocations": []map[string]any{{"invoice_id": "A2", "amount": 2000}}}})

	after := s.score(t, "ACME", "")
	if want := handScores["ACME-paid"]; after.Score != want.score || after.RiskClass != want.class {
		t.Errorf("ACME after its payment: %d %s, want %d %s", after.Score, after.RiskClass, want.score, want.class)
	}
	if b := s.score(t, "BETA", ""); b.ComputedAt != beta.ComputedAt || b.Score != beta.Score {
		t.Errorf("BETA changed with ACME's payment: %+v, was %+v", b, beta)
	}
	h := history("ACME")
	if len(h) != 2 || h[0]["score"] != float64(552) || h[1]["score"] != float64(514) {
		t.Fatalf("history after the payment: %v", h)
	}
	feats := h[0]["features"].(map[string]any)
	if feats["overdue_rate"] != nil || feats["max_days_overdue"] != float64(0) || feats["paid_count_12m"] != float64(2) {
		t.Errorf("recorded features: %v", feats)
	}
	if len(history("BETA")) != 1 || len(history("NEWCO")) != 0 {
		t.Errorf("BETA %v NEWCO %v", history("BETA"), history("NEWCO"))
	}

	// An import by another process (credo import) drops the score through Redis and the bus:
	// BETA pays B1 today, 10 days late: dbt 10 -> 90, late share 100% -> 22, nothing overdue ->
	// 95, nothing open -> 56, trend 36, disputes 35, 1 month 15, 1 paid 26, solvency 195: 570.
	file := filepath.Join(t.TempDir(), "payments.csv")
	csv := "payment_id,client_id,date,amount,currency,invoice_id\nP3,BETA," + scoreDay(0) + ",500.00,EUR,B1\n"
	if err := os.WriteFile(file, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	mustCredo(t, s.env, "import", "payments", "--file", file)
	MustWithin(t, 5*time.Second, "BETA's new score after the import", func() bool { return s.score(t, "BETA", "").Score == 570 })
	if a := s.score(t, "ACME", ""); a.ComputedAt != after.ComputedAt {
		t.Errorf("ACME recomputed after BETA's import: %s, was %s", a.ComputedAt, after.ComputedAt)
	}
}
