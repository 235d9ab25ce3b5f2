package solvency

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// exportParams read the French bureau export of testdata.
var exportParams = CSVParams{Map: "client_id=Code client,grade=Note,score=Score,limit=Encours conseillé,status=Statut,date=Date",
	DateFormat: "eu", Decimal: ","}

func fieldList(errs []fault.FieldError) string {
	var b []string
	for _, e := range errs {
		b = append(b, fmt.Sprintf("%d %s", e.Line, e.Field))
	}
	return strings.Join(b, ",")
}

func TestServiceImportBureauExport(t *testing.T) {
	store := newMemServiceStore(Company{ClientID: "C-1001"}, Company{ClientID: "C-1002"}, Company{ClientID: "C-1004"},
		Company{ClientID: "C-1006"}, Company{ClientID: "C-1007"})
	s, inv := MustService(t, MustWorld(t), store, ServiceConfig{Mapping: MustLoadExampleMapping(t), Providers: []Provider{}})
	rep, err := s.Import(context.Background(), bytes.NewReader(MustReadTestdata(t, "bureau_export.csv")),
		ImportOptions{CSV: exportParams, Actor: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	// Lines 6 to 9 fail on their values (see csv_test.go); line 4 names a client that does not exist.
	if rep.Received != 8 || rep.Imported != 3 || rep.Rejected != 5 || !rep.Applied || rep.Provider != ImportProvider {
		t.Errorf("report %+v", rep)
	}
	if got, want := fieldList(rep.Errors), "4 client_id,6 client_id,7 limit,7 date,8 grade,8 limit,8 status,9 client_id"; got != want {
		t.Errorf("errors %s, want %s", got, want)
	}
	if got := inv.list(); mustJSON(t, got) != `["C-1001","C-1002","C-1004"]` {
		t.Errorf("invalidated %v", got)
	}
	st := store.latest("C-1004", ImportProvider)
	if st == nil || st.snap == nil || *st.snap.Grade != 8 || *st.snap.RecommendedLimit != 2_000_50 ||
		!st.snap.FetchedAt.Equal(time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("imported snapshot %+v", st)
	}
	v, ok, err := s.View(context.Background(), "C-1001")
	if err != nil || !ok || *v.Grade != 1 || v.Stale || mustJSON(t, v.Sources) != `["import"]` {
		t.Errorf("view of an imported client %+v, %v, %v", v, ok, err)
	}
}

func TestServiceImportAtomic(t *testing.T) {
	store := newMemServiceStore(Company{ClientID: "C-1001"}, Company{ClientID: "C-1002"})
	s, inv := MustService(t, MustWorld(t), store, ServiceConfig{Providers: []Provider{}})
	tests := []struct {
		name, file, fields string
		rejected           int
	}{
		{name: "a bad value", file: "client_id,grade,date\nC-1001,3,2025-01-10\nC-1002,11,2025-01-10\n", fields: "3 grade", rejected: 1},
		{name: "an unknown client", file: "client_id,grade\nC-1001,3\nC-404,2\n", fields: "3 client_id", rejected: 1},
		{name: "a date in the future", file: "client_id,grade,date\nC-1001,3,2025-02-02\n", fields: "2 date", rejected: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := s.Import(context.Background(), strings.NewReader(tt.file), ImportOptions{Atomic: true, Actor: "tester"})
			if fault.Code(err) != fault.Invalid {
				t.Fatalf("err = %v, want invalid", err)
			}
			if rep.Applied || rep.Imported != 0 || rep.Rejected != tt.rejected || fieldList(rep.Errors) != tt.fields {
				t.Errorf("report %+v", rep)
			}
			if store.saves != 0 || len(inv.list()) != 0 {
				t.Errorf("an atomic import with a rejected row stored something")
			}
		})
	}
	rep, err := s.Import(context.Background(), strings.NewReader("client_id,grade\nC-1001,3\nC-1002,2\n"), ImportOptions{Atomic: true})
	if err != nil || !rep.Applied || rep.Imported != 2 || rep.Rejected != 0 || len(rep.Errors) != 0 {
		t.Errorf("clean atomic import: %+v, %v", rep, err)
	}
}

func TestServiceImportRefusesBadOptions(t *testing.T) {
	s, _ := MustService(t, MustWorld(t), newMemServiceStore(Company{ClientID: "C-1"}), ServiceConfig{Providers: []Provider{}})
	tests := []struct {
		name  string
		opts  ImportOptions
		file  string
		code  string
		field string
	}{
		{"a register's name", ImportOptions{CSV: CSVParams{Provider: "bodacc"}}, "client_id,grade\nC-1,2\n", fault.Invalid, "provider"},
		{"not an identifier", ImportOptions{CSV: CSVParams{Provider: "Bureau X"}}, "client_id,grade\nC-1,2\n", fault.Invalid, "provider"},
		{"an unknown field in the map", ImportOptions{CSV: CSVParams{Map: "rating=Note"}}, "client_id,Note\nC-1,2\n", fault.Invalid, "map"},
		{"a mapped column missing", ImportOptions{CSV: CSVParams{Map: "grade=Note"}}, "client_id,grade\nC-1,2\n", fault.Invalid, "map"},
		{"an empty file", ImportOptions{}, "", fault.Invalid, "file"},
		{"letters without a bureau mapping", ImportOptions{}, "client_id,grade\nC-1,B\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := s.Import(context.Background(), strings.NewReader(tt.file), tt.opts)
			if tt.code == "" {
				// Not a broken file: the row is rejected on its grade.
				if err != nil || rep.Rejected != 1 || fieldList(rep.Errors) != "2 grade" {
					t.Errorf("report %+v, %v", rep, err)
				}
				return
			}
			var fe *fault.Error
			if fault.Code(err) != tt.code || !errors.As(err, &fe) || len(fe.Fields) == 0 || fe.Fields[0].Field != tt.field {
				t.Errorf("err = %v, want %s on %s", err, tt.code, tt.field)
			}
		})
	}
}

// TestCountRejectedCapsTheList: every rejected line is counted, at most
// ledger.MaxReportedErrors errors are listed.
func TestCountRejectedCapsTheList(t *testing.T) {
	var errs []fault.FieldError
	for i := ledger.MaxReportedErrors + 10; i > 0; i-- {
		errs = append(errs, fault.FieldError{Line: i + 1, Field: "grade", Message: "bad"}, fault.FieldError{Line: i + 1, Field: "limit", Message: "bad"})
	}
	n, listed := countRejected(errs)
	if n != ledger.MaxReportedErrors+10 || len(listed) != ledger.MaxReportedErrors || listed[0].Line != 2 || listed[1].Line != 2 {
		t.Errorf("counted %d, listed %d starting at line %d", n, len(listed), listed[0].Line)
	}
}
