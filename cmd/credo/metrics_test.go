package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
)

// metricsLedger puts a small hand-computed ledger through the API (as of 2025-03-31):
//
//	ACME (FR, retail): A1 1000.00 issued 01-10 due 02-09, paid 02-19 (10 days late, 40 days to pay);
//	  A2 2000.00 issued 02-15 due 03-17, 500.00 paid 03-20 (1500.00 open, 14 days overdue);
//	  A3 600.00 issued 03-20 due 04-19, credit note CN1 100.00 on 03-25 (500.00 open, not due).
//	BETA (DE, construction): B1 300.00 issued 03-01 due 03-31, unpaid (due on D: not due).
//	EMPTY (FR, retail): no invoices.
func metricsLedger(t *testing.T, s *testServer) {
	t.Helper()
	key := s.Keys["ingest"]
	for _, c := range []struct{ id, country, sector string }{{"ACME", "FR", "retail"}, {"BETA", "DE", "construction"}, {"EMPTY", "FR", "retail"}} {
		s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/clients/" + c.id, Key: key,
			Body: map[string]any{"name": c.id + " SA", "country": c.country, "sector": c.sector}})
	}
	for _, inv := range []map[string]any{
		{"invoice_id": "A1", "client_id": "ACME", "issue_date": "2025-01-10", "due_date": "2025-02-09", "amount": 1000.00},
		{"invoice_id": "A2", "client_id": "ACME", "issue_date": "2025-02-15", "due_date": "2025-03-17", "amount": 2000.00},
		{"invoice_id": "A3", "client_id": "ACME", "issue_date": "2025-03-20", "due_date": "2025-04-19", "amount": 600.00},
		{"invoice_id": "CN1", "client_id": "ACME", "kind": "credit_note", "issue_date": "2025-03-25", "amount": 100.00, "applies_to": "A3"},
		{"invoice_id": "B1", "client_id": "BETA", "issue_date": "2025-03-01", "due_date": "2025-03-31", "amount": 300.00},
	} {
		inv["currency"] = "EUR"
		s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/invoices/" + inv["invoice_id"].(string), Key: key, Body: inv})
	}
	for _, p := range []map[string]any{
		{"payment_id": "P1", "client_id": "ACME", "date": "2025-02-19", "amount": 1000.00, "allocations": []map[string]any{{"invoice_id": "A1", "amount": 1000.00}}},
		{"payment_id": "P2", "client_id": "ACME", "date": "2025-03-20", "amount": 500.00, "allocations": []map[string]any{{"invoice_id": "A2", "amount": 500.00}}},
	} {
		p["currency"] = "EUR"
		s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/payments/" + p["payment_id"].(string), Key: key, Body: p})
	}
}

// figures picks fields of a metrics document; nested aging fields as "aging.d1_30".
func figures(t *testing.T, r *response, names ...string) map[string]any {
	t.Helper()
	m := r.Map(t)
	out := map[string]any{}
	for _, n := range names {
		if a, b, ok := strings.Cut(n, "."); ok {
			out[n] = m[a].(map[string]any)[b]
		} else {
			out[n] = m[n]
		}
	}
	return out
}

func TestMetricsAPI(t *testing.T) {
	s := startServer(t, nil)
	metricsLedger(t, s)
	fin := s.Keys["finance"]
	names := []string{"as_of", "open_ar", "not_due", "overdue", "overdue_rate", "aging.current", "aging.d1_30", "aging.d90_plus",
		"open_invoice_count", "window_start", "window_days", "sales_3m", "dso", "best_possible_dso", "add", "dso_countback", "cei",
		"paid_count_12m", "avg_days_to_pay_12m", "weighted_dbt_12m", "late_share_12m", "payment_index_12m", "dbt_trend",
		"max_days_overdue", "dispute_rate_12m", "bad_debt_rate_12m", "relationship_months"}
	acme := map[string]any{"as_of": "2025-03-31", "open_ar": 2000.0, "not_due": 500.0, "overdue": 1500.0, "overdue_rate": 0.75,
		"aging.current": 500.0, "aging.d1_30": 1500.0, "aging.d90_plus": 0.0, "open_invoice_count": 2.0,
		"window_start": "2025-01-01", "window_days": 90.0, "sales_3m": 3500.0,
		"dso": 51.43, "best_possible_dso": 12.86, "add": 38.57, // 2000, 500 and 1500 / 3500 x 90
		"dso_countback":  52.0, // March nets 500 (31 days), then 1500 of February's 2000 (21 of 28 days)
		"cei":            50.0, // (0 + 3500 - 2000) / (0 + 3500 - 500)
		"paid_count_12m": 1.0, "avg_days_to_pay_12m": 40.0, "weighted_dbt_12m": 10.0, "late_share_12m": 1.0,
		"payment_index_12m": 73.33, // 80 - 10 x 10/15
		"dbt_trend":         nil,   // nothing paid in the 9 months before the last 3
		"max_days_overdue":  14.0, "dispute_rate_12m": 0.0, "bad_debt_rate_12m": 0.0, "relationship_months": 2.0}
	got := figures(t, s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/ACME/metrics?as_of=2025-03-31", Key: fin}), names...)
	if !reflect.DeepEqual(got, acme) {
		t.Errorf("ACME metrics:\n got %v\nwant %v", got, acme)
	}

	empty := figures(t, s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/EMPTY/metrics?as_of=2025-03-31", Key: fin}),
		"open_ar", "sales_3m", "dso", "cei", "weighted_dbt_12m", "relationship_months", "dso_countback")
	wantEmpty := map[string]any{"open_ar": 0.0, "sales_3m": 0.0, "dso": nil, "cei": nil, "weighted_dbt_12m": nil, "relationship_months": nil, "dso_countback": nil}
	if !reflect.DeepEqual(empty, wantEmpty) {
		t.Errorf("EMPTY metrics: got %v, want %v", empty, wantEmpty)
	}

	for _, c := range []struct {
		query string
		want  map[string]any
	}{
		{"", map[string]any{"open_ar": 2300.0, "not_due": 800.0, "sales_3m": 3800.0, "open_invoice_count": 3.0}},
		{"&country=de", map[string]any{"open_ar": 300.0, "not_due": 300.0, "sales_3m": 300.0, "open_invoice_count": 1.0}},
		{"&sector=retail", map[string]any{"open_ar": 2000.0, "not_due": 500.0, "sales_3m": 3500.0, "open_invoice_count": 2.0}},
		{"&country=FR&sector=construction", map[string]any{"open_ar": 0.0, "not_due": 0.0, "sales_3m": 0.0, "open_invoice_count": 0.0}},
	} {
		r := s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/portfolio/metrics?as_of=2025-03-31" + c.query, Key: fin})
		if got := figures(t, r, "open_ar", "not_due", "sales_3m", "open_invoice_count"); !reflect.DeepEqual(got, c.want) {
			t.Errorf("portfolio%s: got %v, want %v", c.query, got, c.want)
		}
	}

	// ACME has one paid invoice (fewer than 3): the portfolio's weighted dbt (10 days) applies.
	// A2 (due 03-17) is expected 03-27, so on D+1; A3 (due 04-19) on 04-29, after the horizon.
	var fc struct {
		Total   map[string]any   `json:"total"`
		Buckets []map[string]any `json:"buckets"`
		Beyond  map[string]any   `json:"beyond"`
	}
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/ACME/forecast?as_of=2025-03-31&horizon_days=14", Key: fin}).JSON(t, &fc)
	wantFC := []map[string]any{
		{"from": "2025-04-01", "to": "2025-04-07", "amount": 1500.0, "invoice_count": 1.0},
		{"from": "2025-04-08", "to": "2025-04-14", "amount": 0.0, "invoice_count": 0.0},
	}
	if !reflect.DeepEqual(fc.Buckets, wantFC) || fc.Beyond["amount"] != 500.0 || fc.Total["amount"] != 2000.0 || fc.Total["invoice_count"] != 2.0 {
		t.Errorf("ACME forecast: %+v", fc)
	}
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/portfolio/forecast?as_of=2025-03-31&country=DE", Key: fin}).JSON(t, &fc)
	if len(fc.Buckets) != 13 || fc.Total["amount"] != 300.0 || fc.Buckets[1]["amount"] != 300.0 { // B1: 03-31 + 10 = 04-10
		t.Errorf("DE forecast (90 days by default): %+v", fc)
	}
}

func TestMetricsRolesAndBadInput(t *testing.T) {
	s := startServer(t, nil)
	metricsLedger(t, s)
	paths := []string{"/v1/clients/ACME/metrics", "/v1/clients/ACME/forecast", "/v1/portfolio/metrics", "/v1/portfolio/forecast"}
	for _, p := range paths {
		for role, want := range map[string]int{"admin": 200, "finance": 200, "credit_manager": 200, "sales": 403, "ingest": 403} {
			s.expect(want, req{Method: "GET", Path: p, Key: s.Keys[role]})
		}
		s.expect(http.StatusUnauthorized, req{Method: "GET", Path: p})
	}

	fin := s.Keys["finance"]
	for _, c := range []struct {
		path   string
		status int
		fields []string
	}{
		{"/v1/clients/ACME/metrics?as_of=2023-02-30", 400, []string{"as_of"}},
		{"/v1/clients/ACME/metrics?as_of=31/03/2025", 400, []string{"as_of"}},
		{"/v1/portfolio/metrics?as_of=0999-12-31", 400, []string{"as_of"}},
		{"/v1/portfolio/metrics?country=ZZ", 400, []string{"country"}},
		{"/v1/clients/ACME/forecast?horizon_days=731", 400, []string{"horizon_days"}},
		{"/v1/clients/ACME/forecast?horizon_days=0", 400, []string{"horizon_days"}},
		{"/v1/portfolio/forecast?horizon_days=ninety", 400, []string{"horizon_days"}},
		{"/v1/portfolio/forecast?as_of=2025-13-01&horizon_days=1000", 400, []string{"as_of", "horizon_days"}},
		{"/v1/clients/NOBODY/metrics", 404, nil},
		{"/v1/clients/NOBODY/forecast?horizon_days=30", 404, nil},
		{"/v1/clients/" + url.PathEscape("not an id!") + "/metrics", 400, []string{"client_id"}},
	} {
		p := s.expect(c.status, req{Method: "GET", Path: c.path, Key: fin}).problem(t)
		if got := fieldsOf(t, p); !reflect.DeepEqual(got, c.fields) {
			t.Errorf("%s: fields %v, want %v (%v)", c.path, got, c.fields, p)
		}
	}
	s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/clients/ACME/forecast?horizon_days=730", Key: fin})
}

// TestMetricsIBM is the check: IBM's export through the real import and the real API.
func TestMetricsIBM(t *testing.T) {
	s := startServer(t, nil)
	body, err := os.ReadFile("../../../shared/data/receivables/ibm_late_payment_histories.csv")
	if err != nil {
		t.Fatal(err)
	}
	q := url.Values{"map": {"client_id=customerID,invoice_id=invoiceNumber,issue_date=InvoiceDate,due_date=DueDate,amount=InvoiceAmount,disputed=Disputed,paid_date=SettledDate"},
		"date_format": {"us"}, "create_clients": {"true"}}
	rep := s.expect(http.StatusOK, req{Method: "POST", Path: "/v1/imports/invoices?" + q.Encode(), Key: s.Keys["ingest"], Body: body, ContentType: "text/csv"}).Map(t)
	if rep["inserted"] != 2466.0 || rep["rejected"] != 0.0 {
		t.Fatalf("import report: %v", rep)
	}
	got := figures(t, s.expect(http.StatusOK, req{Method: "GET", Path: "/v1/portfolio/metrics?as_of=2013-06-30", Key: s.Keys["finance"]}),
		"open_ar", "not_due", "sales_3m", "window_days", "dso", "best_possible_dso", "add")
	want := map[string]any{"open_ar": 5119.85, "not_due": 4284.29, "sales_3m": 20098.87, "window_days": 91.0, "dso": 23.18, "best_possible_dso": 19.40, "add": 3.78}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("IBM portfolio as of 2013-06-30:\n got %v\nwant %v", got, want)
	}
}

func TestMetricsCommand(t *testing.T) {
	s := startServer(t, nil)
	metricsLedger(t, s)
	out := mustCredo(t, s.env, "metrics", "--client", "ACME", "--as-of", "2025-03-31", "--horizon", "14")
	for _, line := range []string{
		"Receivables of client ACME (ACME SA) as of 2025-03-31",
		"Open receivables", "2,000.00  2 invoices",
		"Sales and DSO (window 2025-01-01 to 2025-03-31, 90 days)",
		"DSO (countback)", "52.00  days",
		"Expected collections, next 14 days (by 7-day period)",
		"2025-04-01  2025-04-07  1,500.00",
	} {
		if !strings.Contains(out, line) {
			t.Errorf("credo metrics --client ACME: no %q in\n%s", line, out)
		}
	}
	out = mustCredo(t, s.env, "metrics", "--as-of", "2025-03-31", "--country", "fr", "--json")
	var doc struct {
		Metrics  map[string]any `json:"metrics"`
		Forecast map[string]any `json:"forecast"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if doc.Metrics["open_ar"] != 2000.0 || doc.Metrics["dso"] != 51.43 || doc.Forecast != nil {
		t.Errorf("credo metrics --country fr --json: %s", out)
	}
	out = mustCredo(t, s.env, "metrics", "--as-of", "2025-03-31", "--horizon", "7", "--json")
	doc.Forecast = nil
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	total, _ := doc.Forecast["total"].(map[string]any)
	if doc.Metrics["open_ar"] != 2300.0 || doc.Metrics["payment_index_12m"] != 73.33 || total["amount"] != 2300.0 || total["invoice_count"] != 3.0 {
		t.Errorf("credo metrics --horizon 7 --json (the portfolio's metrics and forecast): %s", out)
	}
	if out := mustCredo(t, s.env, "metrics", "--as-of", "2025-03-31"); !strings.Contains(out, "Receivables of the portfolio as of 2025-03-31") {
		t.Errorf("portfolio report:\n%s", out)
	}
	for _, args := range [][]string{
		{"metrics", "--as-of", "2025-02-30"},
		{"metrics", "--horizon", "731"},
		{"metrics", "--client", "ACME", "--country", "FR"},
		{"metrics", "--country", "ZZ"},
		{"metrics", "extra"},
	} {
		if _, err := credoCmd(t, s.env, args...); exitCode(err) != 2 {
			t.Errorf("credo %s: %v (exit %d), want a usage error", strings.Join(args, " "), err, exitCode(err))
		}
	}
	if _, err := credoCmd(t, s.env, "metrics", "--client", "NOBODY"); err == nil || !strings.Contains(err.Error(), `client "NOBODY" not found`) {
		t.Errorf("credo metrics --client NOBODY: %v", err)
	}
}
