package sanctions

import (
	"slices"
	"strings"
	"testing"
)

// MustFind returns the entry with the given source id.
func MustFind(tb testing.TB, entries []Entry, id string) *Entry {
	tb.Helper()
	for i := range entries {
		if entries[i].SourceID == id {
			return &entries[i]
		}
	}
	tb.Fatalf("entry %s not found", id)
	return nil
}

// hasName reports whether the entry carries the name with the strength.
func hasName(e *Entry, name string, s NameStrength) bool {
	return slices.Contains(e.Names, Name{Name: name, Strength: s})
}

func countTypes(entries []Entry) map[EntryType]int {
	c := map[EntryType]int{}
	for i := range entries {
		c[entries[i].Type]++
	}
	return c
}

// The 2019 sdn.csv holds 7,379 rows: `wc -l` says 7,378 because the last row has no line end.
func TestParseOFACReal(t *testing.T) {
	entries := MustParseOFAC(t)
	if len(entries) != 7379 {
		t.Fatalf("got %d entries, want the 7379 rows of sdn.csv", len(entries))
	}
	wantTypes := map[EntryType]int{TypePerson: 3845, TypeEntity: 2994, TypeVessel: 323, TypeAircraft: 217}
	if got := countTypes(entries); !mapsEqual(got, wantTypes) {
		t.Errorf("types = %v, want %v", got, wantTypes)
	}
	var strong, weak, withDOB, withCountry int
	for i := range entries {
		e := &entries[i]
		if e.Source != SourceOFAC || len(e.Programs) == 0 {
			t.Fatalf("entry %s: source %q programs %v", e.SourceID, e.Source, e.Programs)
		}
		for _, n := range e.Names {
			switch n.Strength {
			case StrengthStrong:
				strong++
			case StrengthWeak:
				weak++
			}
		}
		if len(e.BirthDates) > 0 {
			withDOB++
		}
		if len(e.Countries) > 0 {
			withCountry++
		}
	}
	// alt.csv has 9,682 rows, some repeating a name of their party; the remarks hold 2,037
	// a.k.a./f.k.a. items.
	if strong < 9000 || strong > 9682 {
		t.Errorf("%d strong aliases, want about the 9,682 rows of alt.csv", strong)
	}
	if weak < 1900 || weak > 2037 {
		t.Errorf("%d weak aliases, want about the 2,037 a.k.a. items of the remarks", weak)
	}
	if withDOB < 3000 || withCountry < 6000 {
		t.Errorf("%d entries with a birth date, %d with a country: remarks or addresses not read", withDOB, withCountry)
	}

	tests := []struct {
		id    string
		check func(t *testing.T, e *Entry)
	}{
		{"306", func(t *testing.T, e *Entry) {
			if e.Type != TypeEntity || !hasName(e, "BANCO NACIONAL DE CUBA", StrengthPrimary) ||
				!hasName(e, "NATIONAL BANK OF CUBA", StrengthStrong) || !hasName(e, "BNC", StrengthWeak) {
				t.Errorf("names/type: %+v %v", e.Names, e.Type)
			}
			for _, c := range []string{"CH", "ES", "JP", "PA"} {
				if !slices.Contains(e.Countries, c) {
					t.Errorf("countries %v lack %s (add.csv)", e.Countries, c)
				}
			}
			if !slices.Equal(e.Programs, []string{"CUBA"}) {
				t.Errorf("programs %v", e.Programs)
			}
		}},
		{"26235", func(t *testing.T, e *Entry) {
			if e.Type != TypePerson || e.PrimaryName() != "MALKEVICH, Alexander Aleksandrovich" {
				t.Errorf("got %v %q", e.Type, e.PrimaryName())
			}
			if !slices.Equal(e.BirthDates, []BirthDate{{Year: 1975, Month: 6, Day: 14}}) {
				t.Errorf("birth dates %v", e.BirthDates)
			}
			if !slices.Equal(e.Countries, []string{"RU"}) {
				t.Errorf("countries %v", e.Countries)
			}
		}},
		{"6905", func(t *testing.T, e *Entry) { // nationality and a.k.a. in remarks
			if !hasName(e, "TARIQ", StrengthWeak) || !slices.Contains(e.Countries, "PS") {
				t.Errorf("names %v countries %v", e.Names, e.Countries)
			}
		}},
		{"2686", func(t *testing.T, e *Entry) { // several programmes, alternative birth dates
			if !slices.Equal(e.Programs, []string{"SDGT", "SDT", "SYRIA"}) || len(e.BirthDates) != 4 {
				t.Errorf("programs %v births %v", e.Programs, e.BirthDates)
			}
		}},
		{"7782", func(t *testing.T, e *Entry) { // DOB circa
			if !slices.Equal(e.BirthDates, []BirthDate{{Year: 1951, Circa: true}}) {
				t.Errorf("birth dates %v", e.BirthDates)
			}
		}},
		{"15496", func(t *testing.T, e *Entry) { // DOB range
			if !slices.Equal(e.BirthDates, []BirthDate{{Year: 1929, ToYear: 1930}}) {
				t.Errorf("birth dates %v", e.BirthDates)
			}
		}},
		{"12300", func(t *testing.T, e *Entry) { // remarks continued in sdn_comments.csv
			if !strings.Contains(e.Remarks, "Linked To: PROMO RAIZ S.A.S.; Linked To: RED MUNDIAL INMOBILIARIA") {
				t.Errorf("remarks not joined with sdn_comments.csv: ...%s", e.Remarks[max(0, len(e.Remarks)-300):])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) { tt.check(t, MustFind(t, entries, tt.id)) })
	}
}

func TestParseUNReal(t *testing.T) {
	entries := MustParseUN(t)
	wantTypes := map[EntryType]int{TypePerson: 730, TypeEntity: 273}
	if got := countTypes(entries); !mapsEqual(got, wantTypes) {
		t.Errorf("types = %v, want %v", got, wantTypes)
	}
	var weak, ranges, unmapped int
	for i := range entries {
		e := &entries[i]
		for _, n := range e.Names {
			if n.Strength == StrengthWeak {
				weak++
			}
		}
		for _, b := range e.BirthDates {
			if b.ToYear > 0 {
				ranges++
			}
		}
		if e.ListedOn == nil {
			t.Errorf("%s: no listing date", e.SourceID)
		}
		if e.Type == TypePerson && len(e.Countries) == 0 {
			unmapped++
		}
	}
	if weak < 500 {
		t.Errorf("%d weak aliases; the file has 615 of Low quality", weak)
	}
	if ranges != 31 {
		t.Errorf("%d birth-year ranges, want the 31 BETWEEN dates", ranges)
	}
	if unmapped > 150 {
		t.Errorf("%d individuals without any country: nationality names not mapped", unmapped)
	}
	tests := []struct {
		id    string
		check func(t *testing.T, e *Entry)
	}{
		{"6907993", func(t *testing.T, e *Entry) {
			if e.PrimaryName() != "ERIC BADEGE" || e.Type != TypePerson || e.ListedOn.String() != "2012-12-31" {
				t.Errorf("got %q %v %v", e.PrimaryName(), e.Type, e.ListedOn)
			}
			if !slices.Equal(e.BirthDates, []BirthDate{{Year: 1971}}) || !slices.Contains(e.Countries, "CD") || !slices.Contains(e.Countries, "RW") {
				t.Errorf("births %v countries %v", e.BirthDates, e.Countries)
			}
			if !slices.Equal(e.Programs, []string{"DRC"}) || !strings.HasPrefix(e.Remarks, "Reference CDi.001.") {
				t.Errorf("programs %v remarks %q", e.Programs, e.Remarks)
			}
		}},
		{"6907994", func(t *testing.T, e *Entry) {
			if e.PrimaryName() != "FRANK KAKOLELE BWAMBALE" || !hasName(e, "FRANK KAKORERE", StrengthStrong) || !hasName(e, "AIGLE BLANC", StrengthStrong) {
				t.Errorf("names %+v", e.Names)
			}
		}},
		{"6908028", func(t *testing.T, e *Entry) {
			if e.Type != TypeEntity || e.PrimaryName() != "M23" || !hasName(e, "Mouvement du 23 mars", StrengthStrong) {
				t.Errorf("got %v %+v", e.Type, e.Names)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) { tt.check(t, MustFind(t, entries, tt.id)) })
	}
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
