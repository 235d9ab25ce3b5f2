package solvency

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// MustCSVOptions parses textual import options.
func MustCSVOptions(t testing.TB, p CSVParams, m *Mapping) CSVOptions {
	t.Helper()
	o, err := ParseCSVOptions(p, m)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestParseCSVBureauExport(t *testing.T) {
	o := MustCSVOptions(t, CSVParams{
		Map:        "client_id=Code client,grade=Note,score=Score,limit=Encours conseillé,status=Statut,date=Date",
		DateFormat: "eu", Decimal: ",",
	}, MustLoadExampleMapping(t))
	res, err := ParseCSV(bytes.NewReader(MustReadTestdata(t, "bureau_export.csv")), o)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		line         int
		client       string
		grade        *int
		limit        *ledger.Money
		status, kind string
	}
	want := []row{
		{2, "C-1001", ptr(1), ptr(ledger.Money(250_000_00)), StatusActive, ""},
		{3, "C-1002", ptr(6), ptr(ledger.Money(15_000_00)), StatusActive, ""},
		{4, "C-1003", nil, nil, StatusUnknown, KindLiquidation},
		{5, "C-1004", ptr(8), ptr(ledger.Money(2_000_50)), StatusActive, ""},
	}
	if res.Received != 8 || len(res.Rows) != len(want) {
		t.Fatalf("received %d, accepted %d, want 8 and %d; errors %+v", res.Received, len(res.Rows), len(want), res.Errors)
	}
	for i, w := range want {
		got := res.Rows[i]
		s := got.Snapshot
		if got.Line != w.line || s.ClientID != w.client || mustJSON(t, s.Grade) != mustJSON(t, w.grade) ||
			mustJSON(t, s.RecommendedLimit) != mustJSON(t, w.limit) || s.CompanyStatus != w.status || s.Insolvency.Kind != w.kind {
			t.Errorf("row %d = line %d %+v", i, got.Line, s)
		}
		if s.Provider != "bureau_csv" || !s.FetchedAt.Equal(time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("row %d: provider %q fetched_at %v", i, s.Provider, s.FetchedAt)
		}
		if err := s.Validate(); err != nil {
			t.Errorf("row %d: %v", i, err)
		}
		if !bytes.Contains(s.Raw, []byte(`"Code client":"`+w.client+`"`)) {
			t.Errorf("row %d: raw %s", i, s.Raw)
		}
	}
	wantErrs := []string{
		"6 client_id", "7 limit", "7 date", "8 grade", "8 limit", "8 status", "9 client_id",
	}
	var gotErrs []string
	for _, e := range res.Errors {
		gotErrs = append(gotErrs, fmt.Sprintf("%d %s", e.Line, e.Field))
	}
	if strings.Join(gotErrs, ",") != strings.Join(wantErrs, ",") {
		t.Errorf("errors %q, want %q\n%+v", gotErrs, wantErrs, res.Errors)
	}
}

func TestParseCSVWithoutMapping(t *testing.T) {
	in := "client_id,grade,score,limit,equity,revenue\n" +
		"A-1,3,720,1500.5,-200,90000\n" +
		"A-2,11,,,,\n" +
		"A-3,B,,,,\n" +
		"A-4,,640,,,\n"
	res, err := ParseCSV(strings.NewReader(in), CSVOptions{Now: func() time.Time { return time.Date(2025, 2, 1, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 || len(res.Errors) != 2 {
		t.Fatalf("rows %+v errors %+v", res.Rows, res.Errors)
	}
	a1 := res.Rows[0].Snapshot
	if *a1.Grade != 3 || a1.RawScore != "720" || *a1.RecommendedLimit != 1500_50 || *a1.Equity != -200_00 || !*a1.NegativeEquity || *a1.Revenue != 90000_00 {
		t.Errorf("A-1 = %+v", a1)
	}
	if a4 := res.Rows[1].Snapshot; a4.Grade != nil || a4.RawScore != "640" || !strings.Contains(a4.Scale, "unmapped") {
		t.Errorf("A-4 = %+v", a4)
	}
	if !a1.FetchedAt.Equal(time.Date(2025, 2, 1, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("fetched_at %v", a1.FetchedAt)
	}
	for _, e := range res.Errors {
		if e.Field != "grade" || !strings.Contains(e.Message, "1 to 10") {
			t.Errorf("error %+v", e)
		}
	}
}

func TestParseCSVBrokenFiles(t *testing.T) {
	tests := []struct {
		name, in string
		params   CSVParams
		code     string
	}{
		{"empty", "", CSVParams{}, fault.Invalid},
		{"mapped column missing", "client_id,grade\nA,1\n", CSVParams{Map: "limit=Encours"}, fault.Invalid},
		{"no client column", "id,grade\nA,1\n", CSVParams{}, fault.Invalid},
		{"no value column", "client_id,name\nA,x\n", CSVParams{}, fault.Invalid},
		{"bad quoting", "client_id,grade\n\"A,1\n", CSVParams{}, fault.Invalid},
		{"too many rows", "client_id,grade\nA,1\nB,2\nC,3\n", CSVParams{}, fault.TooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := MustCSVOptions(t, tt.params, nil)
			o.MaxRows = 2
			_, err := ParseCSV(strings.NewReader(tt.in), o)
			if fault.Code(err) != tt.code {
				t.Errorf("err = %v (code %s), want code %s", err, fault.Code(err), tt.code)
			}
		})
	}
}

func TestParseCSVOptions(t *testing.T) {
	tests := []struct {
		p         CSVParams
		field     string // "" when valid
		delimiter rune
		layout    string
	}{
		{p: CSVParams{}, layout: "2006-01-02"},
		{p: CSVParams{Delimiter: "tab", DateFormat: "us"}, delimiter: '\t', layout: "1/2/2006"},
		{p: CSVParams{Delimiter: ";", Decimal: ",", DateFormat: "02.01.2006"}, delimiter: ';', layout: "02.01.2006"},
		{p: CSVParams{Map: "client_id"}, field: "map"},
		{p: CSVParams{Map: "rating=Note"}, field: "map"},
		{p: CSVParams{DateFormat: "dd/mm/yyyy"}, field: "date_format"},
		{p: CSVParams{Delimiter: "::"}, field: "delimiter"},
		{p: CSVParams{Decimal: "'"}, field: "decimal"},
		{p: CSVParams{Delimiter: ",", Decimal: ","}, field: "delimiter"},
	}
	for _, tt := range tests {
		o, err := ParseCSVOptions(tt.p, nil)
		if tt.field == "" {
			if err != nil || o.Delimiter != tt.delimiter || o.DateLayout != tt.layout {
				t.Errorf("%+v: %+v, %v", tt.p, o, err)
			}
			continue
		}
		var fe *fault.Error
		if !errors.As(err, &fe) || len(fe.Fields) != 1 || fe.Fields[0].Field != tt.field {
			t.Errorf("%+v: err = %v, want a %s field error", tt.p, err, tt.field)
		}
	}
}

func TestDetectDelimiter(t *testing.T) {
	for in, want := range map[string]rune{
		"a,b,c\n1;2": ',', "a;b;c\n1,2": ';', "a\tb\tc": '\t', "a": ',', "a;b,c;d": ';',
	} {
		if got := detectDelimiter(bufioReader(in)); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
