package solvency

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

func TestCompanySIREN(t *testing.T) {
	tests := []struct {
		id, country, want string
	}{
		{"904123783", "", "904123783"},
		{"904 123 783", "FR", "904123783"},
		{"904.123.783", "fr", "904123783"},
		{"79845612500011", "", "798456125"},
		{"798 456 125 00011", "", "798456125"},
		{"FR65512349879", "", "512349879"},
		{"fr 65 512 349 879", "", "512349879"},
		{"35600000000001", "", "356000000"}, // La Poste: digit sum rule instead of Luhn
		{"FR66512349879", "", ""},           // wrong VAT key
		{"904123784", "", ""},               // wrong Luhn key
		{"79845612500012", "", ""},
		{"35600000000002", "", ""},
		{"904123783", "BE", ""},
		{"", "", ""},
		{"ABC", "", ""},
	}
	for _, tt := range tests {
		got, err := Company{RegistrationID: tt.id, Country: tt.country}.SIREN()
		switch {
		case tt.want == "" && !errors.Is(err, ErrUnsupported):
			t.Errorf("%q/%q: %q, %v; want ErrUnsupported", tt.id, tt.country, got, err)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("%q/%q: %q, %v; want %q", tt.id, tt.country, got, err, tt.want)
		}
	}
}

func TestSnapshotValidate(t *testing.T) {
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	base := func() Snapshot { return Snapshot{Provider: "bureau", FetchedAt: at, CompanyStatus: StatusActive} }
	withEquity := base()
	withEquity.SetEquity(-5)
	tests := []struct {
		name  string
		edit  func(s *Snapshot)
		field string
	}{
		{"valid", func(s *Snapshot) {}, ""},
		{"valid with equity", func(s *Snapshot) { *s = withEquity }, ""},
		{"no provider", func(s *Snapshot) { s.Provider = "" }, "provider"},
		{"no time", func(s *Snapshot) { s.FetchedAt = time.Time{} }, "fetched_at"},
		{"bad status", func(s *Snapshot) { s.CompanyStatus = "dormant" }, "company_status"},
		{"bad kind", func(s *Snapshot) { s.Insolvency.Kind = "bankruptcy" }, "insolvency.kind"},
		{"open without kind", func(s *Snapshot) { s.Insolvency.Open = true }, "insolvency.kind"},
		{"grade 0", func(s *Snapshot) { s.Grade = ptr(0) }, "grade"},
		{"grade 11", func(s *Snapshot) { s.Grade = ptr(11) }, "grade"},
		{"negative limit", func(s *Snapshot) { s.RecommendedLimit = ptr(ledger.Money(-1)) }, "recommended_limit"},
		{"huge revenue", func(s *Snapshot) { s.Revenue = ptr(ledger.MaxAmount + 1) }, "revenue"},
		{"equity sign mismatch", func(s *Snapshot) { *s = withEquity; s.NegativeEquity = ptr(false) }, "negative_equity"},
	}
	for _, tt := range tests {
		s := base()
		tt.edit(&s)
		err := s.Validate()
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if !containsField(err, tt.field) {
			t.Errorf("%s: err = %v, want a %s field error", tt.name, err, tt.field)
		}
	}
}

func TestBODACCFieldForms(t *testing.T) {
	// Older exports serve registre as one comma-separated string and numbers as text.
	raw := []byte(`{"id":"A20240001 7","publicationavis":"A","parution":"20240001","dateparution":"2024-01-05",` +
		`"numeroannonce":"7","typeavis":"annonce","familleavis":"collective","registre":"812 345 676,812345676",` +
		`"jugement":{"famille":"Jugement d'ouverture","nature":"Jugement d'ouverture de liquidation judiciaire","date":"05/01/2024"}}`)
	ns, warnings, err := parseBODACCRecords([]json.RawMessage{raw}, "812345676")
	if err != nil || len(ns) != 1 || len(warnings) != 0 {
		t.Fatalf("notices %+v warnings %q err %v", ns, warnings, err)
	}
	if ns[0].key != "A202400017" || ns[0].number != 7 || ns[0].judged.String() != "2024-01-05" {
		t.Errorf("notice %+v", ns[0])
	}
}

func TestJSONScalar(t *testing.T) {
	for in, want := range map[string]string{`"B"`: "B", `85`: "85", `-3.5`: "-3.5", `null`: "", `{}`: "", ``: "", `"\u00e9"`: "é", `true`: ""} {
		if got := jsonScalar(json.RawMessage(in)); got != want {
			t.Errorf("jsonScalar(%s) = %q, want %q", in, got, want)
		}
	}
}

// containsField tells whether err is a fault error naming field.
func containsField(err error, field string) bool {
	var fe *fault.Error
	if !errors.As(err, &fe) {
		return false
	}
	for _, f := range fe.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
