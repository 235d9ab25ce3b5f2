package solvency

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/credorisk/credo/internal/ledger"
)

func TestBureauReportAtEachGrade(t *testing.T) {
	m := MustLoadExampleMapping(t)
	tests := []struct {
		fixture         string
		grade           *int
		raw, scaleHas   string
		limit           *ledger.Money
		status          string
		insolvencyKind  string
		revenue, equity ledger.Money
		negEquity       bool
		negInfo         bool
	}{
		{"bureau_A.json", ptr(1), "93", "score 1-100, higher is better", ptr(ledger.Money(250_000_00)), StatusActive, "", 18_752_000_00, 4_210_000_00, false, false},
		{"bureau_B.json", ptr(4), "64", "score 1-100", ptr(ledger.Money(60_000_00)), StatusActive, "", 5_230_000_00, 812_000_00, false, false},
		{"bureau_C.json", ptr(6), "44", "score 1-100", ptr(ledger.Money(15_000_00)), StatusActive, "", 2_100_000_00, 95_000_00, false, false},
		{"bureau_D.json", ptr(8), "24", "score 1-100", ptr(ledger.Money(2_000_00)), StatusActive, "", 900_000_00, -167_924_00, true, true},
		// E is "Not Rated": the numeric value is text, the letter maps to no grade, the limit is
		// "not applicable"; the status says the company is closed and in liquidation.
		{"bureau_E.json", nil, "E", "rating A-E", nil, StatusClosed, KindLiquidation, 226_415_00, -167_924_00, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			var gotPath, gotAuth string
			srv := MustServer(t, func(w http.ResponseWriter, r *http.Request) {
				gotPath, gotAuth = r.URL.Path, r.Header.Get("Authorization")
				writeJSON(w, http.StatusOK, MustReadTestdata(t, tt.fixture))
			})
			b, err := NewBureau(srv.URL+"/v1", "tok-1", m, "eur", fastOptions())
			if err != nil {
				t.Fatal(err)
			}
			s, err := b.Fetch(context.Background(), Company{ClientID: "C-3", RegistrationID: "812 345 676 00025"})
			if err != nil {
				t.Fatal(err)
			}
			if gotPath != "/v1/companies/FR-X-81234567600025" || gotAuth != "Bearer tok-1" {
				t.Errorf("request %s auth %q", gotPath, gotAuth)
			}
			if mustJSON(t, s.Grade) != mustJSON(t, tt.grade) || s.RawScore != tt.raw || !strings.Contains(s.Scale, tt.scaleHas) {
				t.Errorf("grade %s raw %q scale %q, want %s %q ~%q", mustJSON(t, s.Grade), s.RawScore, s.Scale, mustJSON(t, tt.grade), tt.raw, tt.scaleHas)
			}
			if mustJSON(t, s.RecommendedLimit) != mustJSON(t, tt.limit) {
				t.Errorf("limit %s, want %s", mustJSON(t, s.RecommendedLimit), mustJSON(t, tt.limit))
			}
			if s.CompanyStatus != tt.status || s.Insolvency.Open != (tt.insolvencyKind != "") || s.Insolvency.Kind != tt.insolvencyKind {
				t.Errorf("status %q insolvency %+v, want %q %q", s.CompanyStatus, s.Insolvency, tt.status, tt.insolvencyKind)
			}
			if s.Revenue == nil || *s.Revenue != tt.revenue || s.Equity == nil || *s.Equity != tt.equity || *s.NegativeEquity != tt.negEquity {
				t.Errorf("revenue %v equity %v negative %v", s.Revenue, s.Equity, s.NegativeEquity)
			}
			if s.NegativeInformation == nil || *s.NegativeInformation != tt.negInfo {
				t.Errorf("negative information %v, want %v", s.NegativeInformation, tt.negInfo)
			}
			if s.NAF != "4690Z" || s.LegalCategory != "5710" || s.CreationDate == nil || s.CreationDate.String() != "2011-05-16" {
				t.Errorf("naf %q legal %q created %v", s.NAF, s.LegalCategory, s.CreationDate)
			}
			if err := s.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestBureauDropsOtherCurrencies(t *testing.T) {
	body := strings.ReplaceAll(string(MustReadTestdata(t, "bureau_A.json")), `"currency": "EUR"`, `"currency": "GBP"`)
	srv := MustServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, []byte(body)) })
	b, _ := NewBureau(srv.URL, "tok", MustLoadExampleMapping(t), "EUR", fastOptions())
	s, err := b.Fetch(context.Background(), Company{ClientID: "C-3", RegistrationID: "812345676"})
	if err != nil {
		t.Fatal(err)
	}
	if s.RecommendedLimit != nil || s.Revenue != nil || s.Equity != nil || s.NegativeEquity != nil {
		t.Errorf("amounts in GBP were kept: %+v", s)
	}
	if len(s.Warnings) != 3 || !strings.Contains(s.Warnings[0], "GBP") {
		t.Errorf("warnings = %q", s.Warnings)
	}
	if s.Grade == nil || *s.Grade != 1 {
		t.Errorf("grade = %v, want 1", s.Grade)
	}
}

func TestBureauLetterOnlyMapping(t *testing.T) {
	m, err := ParseMapping([]byte("provider: acme\nreport_path: /reports/{siren}\ncommon_value: {A: 1, B: 3, C: 5, D: 7, E: 10}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var gotPath string
	srv := MustServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.Path
		writeJSON(w, http.StatusOK, MustReadTestdata(t, "bureau_E.json"))
	})
	b, _ := NewBureau(srv.URL, "tok", m, "EUR", fastOptions())
	s, err := b.Fetch(context.Background(), Company{ClientID: "C-3", RegistrationID: "81234567600025"})
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/reports/812345676" || s.Grade == nil || *s.Grade != 10 || s.Scale != "acme rating A-E" {
		t.Errorf("path %s grade %v scale %q", gotPath, s.Grade, s.Scale)
	}
}

func TestBureauAnswers(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		notFound bool
		err      error
	}{
		{"no report on this company", http.StatusNotFound, `{"message":"Company not found"}`, true, nil},
		{"no report object", http.StatusOK, `{"correlationId":"x"}`, false, ErrMalformed},
		{"report is a list", http.StatusOK, `{"report":[]}`, false, ErrMalformed},
		{"rating without score section", http.StatusOK, `{"report":{"companySummary":{"companyStatus":{"status":"Active"}}}}`, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := MustServer(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, tt.status, []byte(tt.body)) })
			b, _ := NewBureau(srv.URL, "tok", MustLoadExampleMapping(t), "EUR", fastOptions())
			s, err := b.Fetch(context.Background(), Company{ClientID: "C-3", RegistrationID: "812345676"})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.NotFound != tt.notFound || s.Grade != nil {
				t.Errorf("snapshot = %+v", s)
			}
		})
	}
}

func TestNewBureauNeedsKeyAndMapping(t *testing.T) {
	m := MustLoadExampleMapping(t)
	if _, err := NewBureau("https://bureau.example", "", m, "EUR", HTTPOptions{}); err == nil {
		t.Error("accepted an empty key")
	}
	if _, err := NewBureau("https://bureau.example", "k", nil, "EUR", HTTPOptions{}); err == nil {
		t.Error("accepted no mapping")
	}
}

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want ledger.Money
		ok   bool
		err  bool
	}{
		{"250000", 250_000_00, true, false},
		{`"60000"`, 60_000_00, true, false},
		{"18752000000.0", 18_752_000_000_00, true, false},
		{"-167924", -167_924_00, true, false},
		{"1.2E7", 12_000_000_00, true, false},
		{"10.005", 10_01, true, false},
		{"-10.005", -10_01, true, false},
		{"10.004", 10_00, true, false},
		{`"Credit Limit not applicable"`, 0, false, false},
		{"null", 0, false, false},
		{"", 0, false, false},
		{"1/3", 0, false, false},
		{"0x10", 0, false, false},
		{"1e999", 0, false, false},
		{"1e20", 0, false, true},
	}
	for _, tt := range tests {
		got, ok, err := parseAmount(tt.in)
		if got != tt.want || ok != tt.ok || (err != nil) != tt.err {
			t.Errorf("parseAmount(%q) = %v, %v, %v; want %v, %v, err %v", tt.in, got, ok, err, tt.want, tt.ok, tt.err)
		}
	}
}

func TestBureauStatusWords(t *testing.T) {
	tests := []struct{ status, desc, want, kind string }{
		{"Active", "Active", StatusActive, ""},
		{"NonActive", "Closed", StatusClosed, ""},
		{"Non-Active", "Dissolved", StatusClosed, ""},
		{"Other", "In Administration", StatusUnknown, KindReceivership},
		{"Active", "Redressement judiciaire", StatusActive, KindReceivership},
		{"Active", "Procédure de sauvegarde", StatusActive, KindSafeguard},
		{"Pending", "", StatusUnknown, ""},
	}
	for _, tt := range tests {
		if got, kind := bureauCompanyStatus(tt.status), insolvencyWording(tt.status+" "+tt.desc); got != tt.want || kind != tt.kind {
			t.Errorf("%q/%q: %q %q, want %q %q", tt.status, tt.desc, got, kind, tt.want, tt.kind)
		}
	}
}
