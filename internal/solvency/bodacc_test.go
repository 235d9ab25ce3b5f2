package solvency

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

var bodaccFixtures = map[string]string{
	"812345676": "bodacc_open_liquidation.json",
	"798456125": "bodacc_rectification.json",
	"833120454": "bodacc_cancellation.json",
	"512349879": "bodacc_closure.json",
	"880012349": "bodacc_plan.json",
	"904123783": "bodacc_none.json",
}

var whereRE = regexp.MustCompile(`^registre like "(\d{9})" and familleavis="collective"$`)

// bodaccServer speaks the Explore API v2.1: it checks the query, then serves the SIREN's fixture
// page by page according to limit and offset.
func bodaccServer(t *testing.T, h *hits) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.add()
		if r.URL.Path != bodaccRecordsPath {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		m := whereRE.FindStringSubmatch(q.Get("where"))
		if m == nil || q.Get("order_by") != "dateparution desc" {
			writeJSON(w, http.StatusBadRequest, []byte(`{"error_code":"ODSQLError","message":"bad query"}`))
			return
		}
		var page struct {
			TotalCount int               `json:"total_count"`
			Results    []json.RawMessage `json:"results"`
		}
		if err := json.Unmarshal(MustReadTestdata(t, bodaccFixtures[m[1]]), &page); err != nil {
			t.Error(err)
		}
		limit, _ := strconv.Atoi(q.Get("limit"))
		offset, _ := strconv.Atoi(q.Get("offset"))
		end := min(offset+limit, len(page.Results))
		page.Results = page.Results[min(offset, end):end]
		b, _ := json.Marshal(page)
		writeJSON(w, http.StatusOK, b)
	}
}

func TestBODACCFetch(t *testing.T) {
	tests := []struct {
		name          string
		regID         string
		pageSize      int
		wantOpen      bool
		wantPlan      bool
		wantKind      string
		wantJudgment  string
		wantClosed    string
		wantStatus    string
		wantResults   int
		wantRequests  int
		wantNatureHas string
	}{
		{name: "receivership converted to liquidation", regID: "812345676", pageSize: 100,
			wantOpen: true, wantKind: KindLiquidation, wantJudgment: "2024-06-18", wantStatus: StatusUnknown,
			wantResults: 3, wantRequests: 1, wantNatureHas: "conversion"},
		{name: "same, read one notice per page", regID: "812 345 676", pageSize: 1,
			wantOpen: true, wantKind: KindLiquidation, wantJudgment: "2024-06-18", wantStatus: StatusUnknown,
			wantResults: 3, wantRequests: 3},
		{name: "rectification replaces the liquidation opening", regID: "79845612500011", pageSize: 100,
			wantOpen: true, wantKind: KindReceivership, wantJudgment: "2024-02-05", wantStatus: StatusUnknown,
			wantResults: 2, wantRequests: 1, wantNatureHas: "redressement"},
		{name: "cancellation and retraction leave nothing", regID: "833120454", pageSize: 100,
			wantStatus: StatusUnknown, wantResults: 4, wantRequests: 1},
		{name: "liquidation closed for lack of assets", regID: "FR65512349879", pageSize: 100,
			wantKind: KindLiquidation, wantJudgment: "2019-06-04", wantClosed: "2021-04-27", wantStatus: StatusClosed,
			wantResults: 2, wantRequests: 1},
		{name: "safeguard plan: the company continues", regID: "880012349", pageSize: 100,
			wantPlan: true, wantKind: KindSafeguard, wantJudgment: "2023-11-20", wantStatus: StatusUnknown,
			wantResults: 2, wantRequests: 1},
		{name: "no notice", regID: "904123783", pageSize: 100, wantStatus: StatusUnknown, wantResults: 0, wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h hits
			srv := MustServer(t, bodaccServer(t, &h))
			b, err := NewBODACC(srv.URL+"/", fastOptions())
			if err != nil {
				t.Fatal(err)
			}
			b.pageSize = tt.pageSize
			s, err := b.Fetch(context.Background(), Company{ClientID: "C-1", RegistrationID: tt.regID})
			if err != nil {
				t.Fatal(err)
			}
			ins := s.Insolvency
			if ins.Open != tt.wantOpen || ins.Plan != tt.wantPlan || ins.Kind != tt.wantKind {
				t.Errorf("insolvency = %+v, want open=%v plan=%v kind=%q", ins, tt.wantOpen, tt.wantPlan, tt.wantKind)
			}
			checkDate(t, "judgment_date", ins.JudgmentDate, tt.wantJudgment)
			checkDate(t, "closed_date", ins.ClosedDate, tt.wantClosed)
			if s.CompanyStatus != tt.wantStatus {
				t.Errorf("company_status = %q, want %q", s.CompanyStatus, tt.wantStatus)
			}
			if tt.wantStatus == StatusClosed {
				checkDate(t, "status_date", s.StatusDate, tt.wantClosed)
			}
			if tt.wantNatureHas != "" && !strings.Contains(ins.Nature, tt.wantNatureHas) {
				t.Errorf("nature = %q, want it to mention %q", ins.Nature, tt.wantNatureHas)
			}
			if s.Provider != "bodacc" || s.ClientID != "C-1" || s.FetchedAt.IsZero() {
				t.Errorf("provider/client/fetched_at = %q/%q/%v", s.Provider, s.ClientID, s.FetchedAt)
			}
			var raw bodaccPage
			if err := json.Unmarshal(s.Raw, &raw); err != nil || len(raw.Results) != tt.wantResults || *raw.TotalCount != tt.wantResults {
				t.Errorf("raw payload holds %d results (err %v), want %d", len(raw.Results), err, tt.wantResults)
			}
			if h.count() != tt.wantRequests {
				t.Errorf("%d requests, want %d", h.count(), tt.wantRequests)
			}
			if err := s.Validate(); err != nil {
				t.Errorf("snapshot invalid: %v", err)
			}
			if len(s.Warnings) != 0 {
				t.Errorf("warnings: %q", s.Warnings)
			}
		})
	}
}

func checkDate(t *testing.T, name string, got *ledger.Date, want string) {
	t.Helper()
	switch {
	case got == nil && want != "":
		t.Errorf("%s = nil, want %s", name, want)
	case got != nil && want == "":
		t.Errorf("%s = %s, want none", name, got)
	case got != nil && got.String() != want:
		t.Errorf("%s = %s, want %s", name, got, want)
	}
}

func TestBODACCRejectsBrokenRecords(t *testing.T) {
	good := `{"id":"A202400011","publicationavis":"A","parution":"20240001","dateparution":"2024-01-05","numeroannonce":1,` +
		`"typeavis":"annonce","familleavis":"collective","registre":["812345676","812 345 676"],`
	tests := []struct {
		name   string
		record string
	}{
		{"jugement is not JSON", good + `"jugement":"{\"famille\": \"Jugement d'ouverture\", \"nature\": "}`},
		{"jugement is a number", good + `"jugement":12}`},
		{"publication date unreadable", strings.Replace(good, "2024-01-05", "hier", 1) + `"jugement":null}`},
		{"registre is an object", strings.Replace(good, `["812345676","812 345 676"]`, `{"a":1}`, 1) + `"jugement":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := MustServer(t, func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, []byte(`{"total_count":1,"results":[`+tt.record+`]}`))
			})
			b, _ := NewBODACC(srv.URL, fastOptions())
			_, err := b.Fetch(context.Background(), Company{ClientID: "C-1", RegistrationID: "812345676"})
			if !errors.Is(err, ErrMalformed) || fault.Code(err) != fault.Unavailable {
				t.Fatalf("err = %v, want ErrMalformed as unavailable", err)
			}
		})
	}
}

func TestBODACCIgnoresOtherCompanies(t *testing.T) {
	// "like" is a text search: a notice of another SIREN that shares digits may come back.
	body := MustReadTestdata(t, "bodacc_closure.json")
	srv := MustServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, body) })
	b, _ := NewBODACC(srv.URL, fastOptions())
	s, err := b.Fetch(context.Background(), Company{ClientID: "C-9", RegistrationID: "904123783"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Insolvency.Known() || s.CompanyStatus != StatusUnknown {
		t.Errorf("another company's notices were applied: %+v", s.Insolvency)
	}
}

func TestBODACCUnsupportedCompanies(t *testing.T) {
	var h hits
	srv := MustServer(t, bodaccServer(t, &h))
	b, _ := NewBODACC(srv.URL, fastOptions())
	for _, c := range []Company{
		{ClientID: "C-1", RegistrationID: "812345676", Country: "BE"},
		{ClientID: "C-2", RegistrationID: ""},
		{ClientID: "C-3", RegistrationID: "812345677"}, // bad Luhn key
		{ClientID: "C-4", RegistrationID: "DE123456789"},
	} {
		_, err := b.Fetch(context.Background(), c)
		if !errors.Is(err, ErrUnsupported) || fault.Code(err) != fault.Invalid {
			t.Errorf("%+v: err = %v, want ErrUnsupported", c, err)
		}
	}
	if h.count() != 0 {
		t.Errorf("%d requests for companies BODACC cannot know", h.count())
	}
}

func TestNewBODACCRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "bodacc.example", "ftp://x", "https://"} {
		if _, err := NewBODACC(u, HTTPOptions{}); err == nil {
			t.Errorf("NewBODACC(%q) accepted", u)
		}
	}
}
