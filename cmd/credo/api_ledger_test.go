package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func invoiceBody(client, issue, due string, amount any) map[string]any {
	return map[string]any{"client_id": client, "issue_date": issue, "due_date": due, "amount": amount, "currency": "EUR"}
}

func TestLedgerAPI(t *testing.T) {
	s := startServer(t, nil)
	ingest, finance := s.Keys["ingest"], s.Keys["finance"]

	// Clients: create, same again (unchanged), change, read, list.
	body := map[string]any{"name": `Ateliers "Réunis" SAS; DROP TABLE clients;-- 🚀`, "country": "fr", "registration_id": "552 100 554", "directors": []string{"Jean Dupont"}}
	r := s.expect(201, req{Method: "PUT", Path: "/v1/clients/C-1", Key: ingest, Body: body})
	if r.Header.Get("Credo-Write-Result") != "created" {
		t.Errorf("write result %q", r.Header.Get("Credo-Write-Result"))
	}
	c := r.Map(t)
	if c["name"] != body["name"] || c["country"] != "FR" || c["registration_id"] != "552100554" {
		t.Errorf("stored client %v", c)
	}
	r = s.expect(200, req{Method: "PUT", Path: "/v1/clients/C-1", Key: ingest, Body: body})
	if r.Header.Get("Credo-Write-Result") != "unchanged" {
		t.Errorf("same client again: %q", r.Header.Get("Credo-Write-Result"))
	}
	s.expect(201, req{Method: "PUT", Path: "/v1/clients/C-2", Key: ingest, Body: map[string]any{"name": "Other GmbH", "country": "DE"}})
	got := s.expect(200, req{Method: "GET", Path: "/v1/clients/C-1", Key: finance}).Map(t)
	if got["name"] != body["name"] {
		t.Errorf("text not verbatim: %v", got["name"])
	}
	list := s.expect(200, req{Method: "GET", Path: "/v1/clients?limit=1", Key: finance}).Map(t)
	if len(list["items"].([]any)) != 1 || list["next"] == nil {
		t.Fatalf("first page %v", list)
	}
	page2 := s.expect(200, req{Method: "GET", Path: "/v1/clients?limit=1&cursor=" + list["next"].(string), Key: finance}).Map(t)
	if items := page2["items"].([]any); len(items) != 1 || items[0].(map[string]any)["client_id"] != "C-2" {
		t.Errorf("second page %v", page2)
	}
	if items := s.expect(200, req{Method: "GET", Path: "/v1/clients?country=DE", Key: finance}).Map(t)["items"].([]any); len(items) != 1 {
		t.Errorf("country filter: %v", items)
	}

	// Invoices, payment, write-off.
	s.expect(201, req{Method: "PUT", Path: "/v1/invoices/I-1", Key: ingest, Body: invoiceBody("C-1", "2026-01-05", "2026-02-04", 1200.50)})
	s.expect(201, req{Method: "PUT", Path: "/v1/invoices/I-2", Key: ingest, Body: invoiceBody("C-1", "2026-01-20", "2026-02-19", 800)})
	s.expect(200, req{Method: "PUT", Path: "/v1/invoices/I-1", Key: ingest, Body: invoiceBody("C-1", "2026-01-05", "2026-02-04", 1200.50)})
	pay := s.expect(201, req{Method: "PUT", Path: "/v1/payments/P-1", Key: ingest, Body: map[string]any{"client_id": "C-1", "date": "2026-02-10", "amount": 1500, "currency": "EUR"}}).Map(t)
	if pay["allocated"].(float64) != 1500 || pay["unapplied"].(float64) != 0 {
		t.Errorf("payment %v", pay)
	}
	inv := s.expect(200, req{Method: "GET", Path: "/v1/invoices/I-1?as_of=2026-02-10", Key: finance}).Map(t)
	if inv["balance"].(float64) != 0 || inv["paid_date"] != "2026-02-10" || inv["status"] != "paid" {
		t.Errorf("I-1 after payment: %v", inv)
	}
	inv = s.expect(200, req{Method: "GET", Path: "/v1/invoices/I-1?as_of=2026-02-09", Key: finance}).Map(t)
	if inv["balance"].(float64) != 1200.5 || inv["paid_date"] != nil {
		t.Errorf("I-1 the day before: %v", inv)
	}
	// Amount below what is paid: 409, and nothing changes.
	r = s.expect(409, req{Method: "PUT", Path: "/v1/invoices/I-1", Key: ingest, Body: invoiceBody("C-1", "2026-01-05", "2026-02-04", 100)})
	r.problem(t)
	if inv := s.expect(200, req{Method: "GET", Path: "/v1/invoices/I-1", Key: finance}).Map(t); inv["amount"].(float64) != 1200.5 {
		t.Errorf("a refused write changed the invoice: %v", inv)
	}
	open := s.expect(200, req{Method: "GET", Path: "/v1/clients/C-1/invoices?status=open&as_of=2026-03-01", Key: finance}).Map(t)
	if items := open["items"].([]any); len(items) != 1 || items[0].(map[string]any)["balance"].(float64) != 500.5 {
		t.Errorf("open invoices: %v", open)
	}
	wo := s.expect(200, req{Method: "POST", Path: "/v1/invoices/I-2/write-off", Key: ingest, Body: map[string]any{"date": "2026-08-01", "reason": "customer liquidated"}}).Map(t)
	if wo["status"] != "written_off" {
		t.Errorf("write-off: %v", wo)
	}
	s.expect(409, req{Method: "POST", Path: "/v1/invoices/I-2/write-off", Key: ingest, Body: map[string]any{"date": "2026-08-02", "reason": "again"}})
	if p := s.expect(200, req{Method: "GET", Path: "/v1/payments/P-1", Key: finance}).Map(t); len(p["allocations"].([]any)) != 2 {
		t.Errorf("payment read back: %v", p)
	}
	s.expect(404, req{Method: "GET", Path: "/v1/payments/nope", Key: finance}).problem(t)
	s.expect(404, req{Method: "GET", Path: "/v1/invoices/nope", Key: finance}).problem(t)
	s.expect(404, req{Method: "GET", Path: "/v1/clients/nope", Key: finance}).problem(t)

	// Readiness, liveness, metrics and the contract are served.
	s.expect(200, req{Method: "GET", Path: "/livez"})
	s.expect(200, req{Method: "GET", Path: "/readyz"})
	if m := s.expect(200, req{Method: "GET", Path: "/metrics"}); !strings.Contains(string(m.Body), "credo_http_requests_total") {
		t.Error("metrics lack the request counter")
	}
	if y := s.expect(200, req{Method: "GET", Path: "/openapi.yaml"}); !strings.HasPrefix(string(y.Body), "openapi: 3") {
		t.Error("openapi.yaml not served")
	}
}

// TestLedgerRoles checks every ledger route for each role: who may, who gets 403, and 401
// without a key or with a revoked one.
func TestLedgerRoles(t *testing.T) {
	s := startServer(t, nil)
	s.expect(201, req{Method: "PUT", Path: "/v1/clients/C1", Key: s.Keys["admin"], Body: map[string]any{"name": "A", "country": "FR"}})
	s.expect(201, req{Method: "PUT", Path: "/v1/invoices/I1", Key: s.Keys["admin"], Body: invoiceBody("C1", "2026-01-01", "2026-01-31", 10)})
	s.expect(201, req{Method: "PUT", Path: "/v1/payments/P1", Key: s.Keys["admin"], Body: map[string]any{"client_id": "C1", "date": "2026-01-10", "amount": 1, "currency": "EUR"}})
	routes := []struct {
		method, path string
		body         any
		allowed      []string
	}{
		{"GET", "/v1/clients", nil, []string{"admin", "ingest", "sales", "finance", "credit_manager"}},
		{"GET", "/v1/clients/C1", nil, []string{"admin", "ingest", "sales", "finance", "credit_manager"}},
		{"PUT", "/v1/clients/C1", map[string]any{"name": "A", "country": "FR"}, []string{"admin", "ingest"}},
		{"GET", "/v1/clients/C1/invoices", nil, []string{"admin", "ingest", "finance", "credit_manager"}},
		{"PUT", "/v1/invoices/I1", invoiceBody("C1", "2026-01-01", "2026-01-31", 10), []string{"admin", "ingest"}},
		{"GET", "/v1/invoices/I1", nil, []string{"admin", "ingest", "finance", "credit_manager"}},
		{"PUT", "/v1/payments/P1", map[string]any{"client_id": "C1", "date": "2026-01-10", "amount": 1, "currency": "EUR"}, []string{"admin", "ingest"}},
		{"GET", "/v1/payments/P1", nil, []string{"admin", "ingest", "finance", "credit_manager"}},
		{"GET", "/v1/keys", nil, []string{"admin"}},
	}
	for _, rt := range routes {
		for role, key := range s.Keys {
			want := 403
			if slices.Contains(rt.allowed, role) {
				want = 200
			}
			if got := s.do(req{Method: rt.method, Path: rt.path, Key: key, Body: rt.body}).Status; got != want {
				t.Errorf("%s %s as %s: %d, want %d", rt.method, rt.path, role, got, want)
			}
		}
		if got := s.do(req{Method: rt.method, Path: rt.path, Body: rt.body}); got.Status != 401 || got.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s without a key: %d", rt.method, rt.path, got.Status)
		}
		if got := s.do(req{Method: rt.method, Path: rt.path, Key: "credo_notakey", Body: rt.body}).Status; got != 401 {
			t.Errorf("%s %s with an unknown key: %d", rt.method, rt.path, got)
		}
	}
	for _, role := range []string{"finance", "sales", "credit_manager"} {
		s.expect(403, req{Method: "POST", Path: "/v1/imports/clients", Key: s.Keys[role], Body: "client_id,name\n", ContentType: "text/csv"})
	}
	s.expect(200, req{Method: "POST", Path: "/v1/imports/clients", Key: s.Keys["ingest"], Body: "client_id,name\n", ContentType: "text/csv"})
	// A revoked key is refused at once.
	mustCredo(t, s.env, "keys", "revoke", "test-finance")
	s.expect(401, req{Method: "GET", Path: "/v1/clients/C1", Key: s.Keys["finance"]})
	out := mustCredo(t, s.env, "keys", "list")
	if !strings.Contains(out, "test-finance") || !strings.Contains(out, "revoked") {
		t.Errorf("keys list:\n%s", out)
	}
	// Keys over the API (admin only); the secret is shown once and works.
	k := s.expect(201, req{Method: "POST", Path: "/v1/keys", Key: s.Keys["admin"], Body: map[string]any{"name": "crm", "role": "sales"}}).Map(t)
	s.expect(200, req{Method: "GET", Path: "/v1/clients/C1", Key: k["secret"].(string)})
	s.expect(409, req{Method: "POST", Path: "/v1/keys", Key: s.Keys["admin"], Body: map[string]any{"name": "crm", "role": "sales"}})
	s.expect(422, req{Method: "POST", Path: "/v1/keys", Key: s.Keys["admin"], Body: map[string]any{"name": "x", "role": "root"}})
	s.expect(204, req{Method: "DELETE", Path: "/v1/keys/crm", Key: s.Keys["admin"]})
	s.expect(401, req{Method: "GET", Path: "/v1/clients/C1", Key: k["secret"].(string)})
}

// TestLedgerBadInput sends each kind of bad input: a problem document names the field, and
// nothing is written.
func TestLedgerBadInput(t *testing.T) {
	s := startServer(t, map[string]string{"CREDO_BODY_LIMIT": "4096", "CREDO_IMPORT_BODY_LIMIT": "65536"})
	key := s.Keys["ingest"]
	s.expect(201, req{Method: "PUT", Path: "/v1/clients/C1", Key: key, Body: map[string]any{"name": "A", "country": "FR"}})
	tests := []struct {
		name   string
		path   string
		body   any
		status int
		field  string
	}{
		{"unknown field", "/v1/invoices/X", `{"client_id":"C1","issue_date":"2026-01-01","due_date":"2026-01-31","amount":1,"currency":"EUR","colour":"red"}`, 400, "colour"},
		{"wrong type", "/v1/invoices/X", `{"client_id":"C1","issue_date":"2026-01-01","due_date":"2026-01-31","amount":"ten","currency":"EUR"}`, 400, "amount"},
		{"bad JSON", "/v1/invoices/X", `{"client_id":`, 400, "body"},
		{"missing fields", "/v1/invoices/X", `{"client_id":"C1"}`, 422, "issue_date"},
		{"zero amount", "/v1/invoices/X", invoiceBody("C1", "2026-01-01", "2026-01-31", 0), 422, "amount"},
		{"negative amount", "/v1/invoices/X", invoiceBody("C1", "2026-01-01", "2026-01-31", -10), 422, "amount"},
		{"three decimals", "/v1/invoices/X", invoiceBody("C1", "2026-01-01", "2026-01-31", 10.123), 400, "amount"},
		{"due before issue", "/v1/invoices/X", invoiceBody("C1", "2026-01-31", "2026-01-01", 10), 422, "due_date"},
		{"impossible date", "/v1/invoices/X", invoiceBody("C1", "2026-02-30", "2026-03-01", 10), 400, "issue_date"},
		{"unknown client", "/v1/invoices/X", invoiceBody("C9", "2026-01-01", "2026-01-31", 10), 422, "client_id"},
		{"other currency", "/v1/invoices/X", map[string]any{"client_id": "C1", "issue_date": "2026-01-01", "due_date": "2026-01-31", "amount": 10, "currency": "USD"}, 422, "currency"},
		{"over-long name", "/v1/clients/C9", map[string]any{"name": strings.Repeat("x", 201), "country": "FR"}, 422, "name"},
		{"bad country", "/v1/clients/C9", map[string]any{"name": "x", "country": "France"}, 422, "country"},
		{"bad registration", "/v1/clients/C9", map[string]any{"name": "x", "country": "FR", "registration_id": "123456789"}, 422, "registration_id"},
		{"path and body disagree", "/v1/clients/C9", map[string]any{"client_id": "C8", "name": "x", "country": "FR"}, 422, "client_id"},
		{"bad id in path", "/v1/clients/a%20b", map[string]any{"name": "x", "country": "FR"}, 400, "client_id"},
		{"payment over-allocated", "/v1/payments/P9", map[string]any{"client_id": "C1", "date": "2026-01-01", "amount": 5, "currency": "EUR", "allocations": []any{map[string]any{"invoice_id": "I1", "amount": 6}}}, 422, "allocations"},
		{"reserved payment id", "/v1/payments/settle:I1", map[string]any{"client_id": "C1", "date": "2026-01-01", "amount": 5, "currency": "EUR"}, 422, "payment_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.expect(tt.status, req{Method: "PUT", Path: tt.path, Key: key, Body: tt.body, ContentType: "application/json"})
			p := r.problem(t)
			if !slices.Contains(fieldsOf(t, p), tt.field) {
				t.Errorf("problem %v does not name %q", p, tt.field)
			}
		})
	}
	// Over the body limit: 413.
	big := map[string]any{"name": "x", "country": "FR", "directors": []string{strings.Repeat("y", 5000)}}
	s.expect(413, req{Method: "PUT", Path: "/v1/clients/C9", Key: key, Body: big}).problem(t)
	s.expect(413, req{Method: "POST", Path: "/v1/imports/invoices", Key: key, Body: strings.Repeat("a,b\n", 20000), ContentType: "text/csv"}).problem(t)
	// Nothing was written by any of the refused requests.
	s.expect(404, req{Method: "GET", Path: "/v1/invoices/X", Key: s.Keys["finance"]})
	s.expect(404, req{Method: "GET", Path: "/v1/clients/C9", Key: s.Keys["finance"]})
	s.expect(404, req{Method: "GET", Path: "/v1/payments/P9", Key: s.Keys["finance"]})
	// Bad query parameters.
	s.expect(400, req{Method: "GET", Path: "/v1/invoices/I1?as_of=2026-13-01", Key: s.Keys["finance"]})
	s.expect(422, req{Method: "GET", Path: "/v1/clients/C1/invoices?status=late", Key: s.Keys["finance"]})
	s.expect(400, req{Method: "GET", Path: "/v1/clients?limit=ten", Key: s.Keys["finance"]})
	s.expect(422, req{Method: "GET", Path: "/v1/clients?limit=100000", Key: s.Keys["finance"]})
}

func TestImportAPI(t *testing.T) {
	s := startServer(t, nil)
	key := s.Keys["ingest"]
	csv := "id;customer;issued;due;total;paid\n" +
		"A1;K1;03.01.2026;02.02.2026;1.234,50;10.02.2026\n" +
		"A2;K1;15.01.2026;14.02.2026;99,99;\n" +
		"A3;K2;15.01.2026;14.01.2026;10,00;\n" + // due before issue
		"A4;K2;31.02.2026;14.03.2026;10,00;\n" + // impossible date
		"A5;K2;15.01.2026\n" // ragged row
	q := "?map=invoice_id=id,client_id=customer,issue_date=issued,due_date=due,amount=total,paid_date=paid&date_format=02.01.2006&delimiter=%3B&decimal=%2C&create_clients=true"
	atomic := s.expect(422, req{Method: "POST", Path: "/v1/imports/invoices" + q + "&atomic=true", Key: key, Body: csv, ContentType: "text/csv"}).problem(t)
	if rep := atomic["report"].(map[string]any); rep["applied"] != false || rep["rejected"].(float64) != 3 {
		t.Errorf("atomic report %v", rep)
	}
	s.expect(404, req{Method: "GET", Path: "/v1/invoices/A1", Key: key})
	rep := s.expect(200, req{Method: "POST", Path: "/v1/imports/invoices" + q, Key: key, Body: csv, ContentType: "text/csv"}).Map(t)
	if rep["inserted"].(float64) != 2 || rep["rejected"].(float64) != 3 || rep["clients_created"].(float64) != 1 {
		t.Fatalf("report %v", rep)
	}
	lines := map[float64]string{}
	for _, e := range rep["errors"].([]any) {
		m := e.(map[string]any)
		lines[m["line"].(float64)] = m["field"].(string)
	}
	if lines[4] != "due_date" || lines[5] != "issue_date" || lines[6] != "row" {
		t.Errorf("errors by line: %v", lines)
	}
	inv := s.expect(200, req{Method: "GET", Path: "/v1/invoices/A1", Key: key}).Map(t)
	if inv["amount"].(float64) != 1234.5 || inv["paid_date"] != "2026-02-10" {
		t.Errorf("A1 %v", inv)
	}
	again := s.expect(200, req{Method: "POST", Path: "/v1/imports/invoices" + q, Key: key, Body: csv, ContentType: "text/csv"}).Map(t)
	if again["unchanged"].(float64) != 2 || again["inserted"].(float64) != 0 || again["updated"].(float64) != 0 {
		t.Errorf("the same file again: %v", again)
	}
	nd := `{"client_id":"K3","name":"Kappa","country":"IT"}` + "\n" + `{"client_id":"K4","name":"Lambda"}` + "\n"
	r := s.expect(200, req{Method: "POST", Path: "/v1/imports/clients", Key: key, Body: nd, ContentType: "application/x-ndjson"}).Map(t)
	if r["inserted"].(float64) != 1 || r["rejected"].(float64) != 1 {
		t.Errorf("clients NDJSON: %v", r)
	}
	// Refused before reading: a missing mapped column, an unknown field, a wrong content type.
	s.expect(422, req{Method: "POST", Path: "/v1/imports/invoices?map=invoice_id=Nope", Key: key, Body: csv, ContentType: "text/csv"})
	s.expect(422, req{Method: "POST", Path: "/v1/imports/invoices?map=colour=id", Key: key, Body: csv, ContentType: "text/csv"})
	s.expect(422, req{Method: "POST", Path: "/v1/imports/invoices", Key: key, Body: csv, ContentType: "application/pdf"})
	s.expect(400, req{Method: "POST", Path: "/v1/imports/invoices?dry=1", Key: key, Body: csv, ContentType: "text/csv"})
	s.expect(404, req{Method: "POST", Path: "/v1/imports/widgets", Key: key, Body: csv, ContentType: "text/csv"})
}

// TestImportIBMThroughAPIAndCLI lands the public ERP export with a column mapping and no code,
// through the API, then checks the CLI's re-import of the same file changes nothing.
func TestImportIBMThroughAPIAndCLI(t *testing.T) {
	const file = "../../../shared/data/receivables/ibm_late_payment_histories.csv"
	b, err := os.ReadFile(file)
	if err != nil {
		t.Skipf("shared IBM export not found: %v", err)
	}
	s := startServer(t, nil)
	mapping := "client_id=customerID,invoice_id=invoiceNumber,issue_date=InvoiceDate,due_date=DueDate,amount=InvoiceAmount,disputed=Disputed,paid_date=SettledDate"
	rep := s.expect(200, req{Method: "POST", Path: "/v1/imports/invoices?date_format=us&create_clients=true&map=" + mapping, Key: s.Keys["ingest"], Body: b, ContentType: "text/csv"}).Map(t)
	if rep["received"].(float64) != 2466 || rep["inserted"].(float64) != 2466 || rep["clients_created"].(float64) != 100 || rep["rejected"].(float64) != 0 {
		t.Fatalf("IBM import: %v", rep)
	}
	out := mustCredo(t, s.env, "import", "invoices", "--file", file, "--map", mapping, "--date-format", "us", "--create-clients")
	if !strings.Contains(out, "2466 received, 0 inserted, 0 updated, 2466 unchanged, 0 rejected") {
		t.Errorf("CLI re-import: %s", out)
	}
	// Every invoice is settled: no client has an open invoice today.
	clients := s.expect(200, req{Method: "GET", Path: "/v1/clients?limit=1000", Key: s.Keys["finance"]}).Map(t)["items"].([]any)
	if len(clients) != 100 {
		t.Fatalf("%d clients", len(clients))
	}
	for _, c := range clients[:10] {
		id := c.(map[string]any)["client_id"].(string)
		open := s.expect(200, req{Method: "GET", Path: "/v1/clients/" + id + "/invoices?status=open", Key: s.Keys["finance"]}).Map(t)["items"].([]any)
		paid := s.expect(200, req{Method: "GET", Path: "/v1/clients/" + id + "/invoices?status=paid", Key: s.Keys["finance"]}).Map(t)["items"].([]any)
		if len(open) != 0 || len(paid) == 0 {
			t.Errorf("client %s: %d open, %d paid", id, len(open), len(paid))
		}
	}
}

// TestGracefulShutdown stops the server while an import is being uploaded: the import finishes
// and lands, then the server exits.
func TestGracefulShutdown(t *testing.T) {
	s := startServer(t, nil)
	pr, pw := io.Pipe()
	hr, _ := http.NewRequest("POST", s.URL+"/v1/imports/clients", pr)
	hr.Header.Set("Content-Type", "text/csv")
	hr.Header.Set("Authorization", "Bearer "+s.Keys["ingest"])
	done := make(chan *http.Response, 1)
	go func() {
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Errorf("in-flight request failed: %v", err)
		}
		done <- resp
	}()
	fmt.Fprint(pw, "client_id,name,country\nG1,Graceful One,FR\n")
	time.Sleep(200 * time.Millisecond) // the request is in flight
	stopped := make(chan struct{})
	go func() { s.stop(); close(stopped) }()
	time.Sleep(300 * time.Millisecond) // shutdown has begun and waits for the request
	fmt.Fprint(pw, "G2,Graceful Two,FR\n")
	pw.Close()
	resp := <-done
	if resp == nil {
		return
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"inserted":2`) {
		t.Errorf("in-flight import: %d %s", resp.StatusCode, b)
	}
	select {
	case <-stopped:
	case <-time.After(20 * time.Second):
		t.Fatal("server did not stop")
	}
	// The data landed: read it with the CLI against the same database.
	out := mustCredo(t, s.env, "import", "clients", "--file", writeTemp(t, "client_id,name,country\nG1,Graceful One,FR\nG2,Graceful Two,FR\n"))
	if !strings.Contains(out, "2 unchanged") {
		t.Errorf("after shutdown: %s", out)
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "*.csv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return f.Name()
}
