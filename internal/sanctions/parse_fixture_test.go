package sanctions

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixtureParsers pairs each single-file parser with its fixture.
var fixtureParsers = []struct {
	src   Source
	file  string
	parse func(io.Reader) ([]Entry, error)
}{
	{SourceEU, "eu_fsf_sample.xml", ParseEU},
	{SourceUK, "uk_sanctions_list_sample.xml", ParseUK},
	{SourceFR, "fr_registre_gels_sample.json", ParseFR},
}

// MustReadFile reads a fixture.
func MustReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func TestParseFixtures(t *testing.T) {
	tests := []struct {
		name  string
		parse func(io.Reader) ([]Entry, error)
		file  string
		want  []Entry
	}{
		{"eu", ParseEU, "eu_fsf_sample.xml", []Entry{
			{Source: SourceEU, SourceID: "900101", Type: TypePerson,
				Names:     []Name{{"Igor Petrovich Volkonsky", StrengthPrimary}, {"Игорь Петрович Волконский", StrengthStrong}, {"Igor the Prince", StrengthWeak}},
				Countries: []string{"RU"}, BirthDates: []BirthDate{{Year: 1961, Month: 9, Day: 14}}, Programs: []string{"UKR"},
				Remarks: "EU reference EU.9001.01. Fictional person built from the FSF schema for tests."},
			{Source: SourceEU, SourceID: "900202", Type: TypeEntity,
				Names:     []Name{{"Northern Meridian Shipping LLC", StrengthPrimary}, {"ООО Северный Меридиан", StrengthStrong}},
				Countries: []string{"RU"}, Programs: []string{"RUS"}, Remarks: "EU reference EU.9002.02."},
			{Source: SourceEU, SourceID: "900303", Type: TypePerson,
				Names:     []Name{{"Abdel Karim Benhaddou", StrengthPrimary}, {"Abu Karim", StrengthWeak}},
				Countries: []string{"MA"}, BirthDates: []BirthDate{{Year: 1970, ToYear: 1974, Circa: true}}, Programs: []string{"TAQA"},
				Remarks: "EU reference EU.9003.03. UN reference QDi.999."},
		}},
		{"uk", ParseUK, "uk_sanctions_list_sample.xml", []Entry{
			{Source: SourceUK, SourceID: "RUS9001", Type: TypePerson,
				Names: []Name{{"Anatoly Sergeyevich KRASNOV", StrengthPrimary}, {"Anatolii Sergeevich KRASNOV", StrengthStrong},
					{"Tolya", StrengthWeak}, {"Анатолий Сергеевич Краснов", StrengthStrong}},
				Countries: []string{"RU"}, BirthDates: []BirthDate{{Year: 1966}, {Year: 1967, Month: 11, Day: 3}},
				Programs: []string{"The Russia (Sanctions) (EU Exit) Regulations 2019"},
				Remarks:  "Fictional person built from the UK Sanctions List schema for tests."},
			{Source: SourceUK, SourceID: "RUS9002", Type: TypeEntity,
				Names:     []Name{{"BALTIC ALLOY TRADING LIMITED", StrengthPrimary}, {"BATL", StrengthStrong}},
				Countries: []string{"AE"}, Programs: []string{"The Russia (Sanctions) (EU Exit) Regulations 2019"}},
			{Source: SourceUK, SourceID: "RUS9003", Type: TypeVessel,
				Names: []Name{{"POLAR STAR 7", StrengthPrimary}}, Programs: []string{"The Russia (Sanctions) (EU Exit) Regulations 2019"}},
		}},
		{"fr", ParseFR, "fr_registre_gels_sample.json", []Entry{
			{Source: SourceFR, SourceID: "90001", Type: TypePerson,
				Names:     []Name{{"Jean-Émile DUVALIER-MARTIN", StrengthPrimary}, {"Jean Emile Duvalier", StrengthStrong}, {"Le Baron", StrengthWeak}},
				Countries: []string{"HT"}, BirthDates: []BirthDate{{Year: 1975, Month: 10, Day: 7}},
				Programs: []string{"Arrêté du 12/01/2024 portant application de l'article L. 562-2 du code monétaire et financier"},
				Remarks:  "Personne fictive construite d'après le schéma du registre, pour les tests."},
			{Source: SourceFR, SourceID: "90002", Type: TypeEntity,
				Names:     []Name{{"Société Fictive de Négoce SARL", StrengthPrimary}, {"SFN", StrengthStrong}},
				Countries: []string{"RU"}, Programs: []string{"(UE) 2022/332 du 25/02/2022"}, Remarks: "EU reference EU.9387.41."},
			{Source: SourceFR, SourceID: "90003", Type: TypeVessel,
				Names: []Name{{"ETOILE DU NORD", StrengthPrimary}}, Remarks: "UN reference KPe.999."},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.parse(bytes.NewReader(MustReadFile(t, filepath.Join("testdata", tt.file))))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d entries, want %d", len(got), len(tt.want))
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				g.ListedOn = nil // checked below
				if !entriesEqual(&g, &w) {
					t.Errorf("entry %d:\n got %+v\nwant %+v", i, g, w)
				}
			}
		})
	}
}

// Listing dates: EU designationDate (or the earliest regulation), UK DateDesignated, none in the
// French publication.
func TestParseFixtureListingDates(t *testing.T) {
	tests := []struct {
		parse func(io.Reader) ([]Entry, error)
		file  string
		want  []string
	}{
		{ParseEU, "eu_fsf_sample.xml", []string{"2022-02-28", "2014-07-31", "2011-03-22"}},
		{ParseUK, "uk_sanctions_list_sample.xml", []string{"2022-03-15", "2023-02-24", "2025-05-09"}},
		{ParseFR, "fr_registre_gels_sample.json", []string{"", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := tt.parse(bytes.NewReader(MustReadFile(t, filepath.Join("testdata", tt.file))))
			if err != nil {
				t.Fatal(err)
			}
			for i, e := range got {
				s := ""
				if e.ListedOn != nil {
					s = e.ListedOn.String()
				}
				if s != tt.want[i] {
					t.Errorf("entry %s listed on %q, want %q", e.SourceID, s, tt.want[i])
				}
			}
		})
	}
}

func entriesEqual(a, b *Entry) bool {
	return a.Source == b.Source && a.SourceID == b.SourceID && a.Type == b.Type &&
		slices.Equal(a.Names, b.Names) && slices.Equal(a.Countries, b.Countries) &&
		slices.Equal(a.BirthDates, b.BirthDates) && slices.Equal(a.Programs, b.Programs) &&
		a.Remarks == b.Remarks && (a.ListedOn == nil) == (b.ListedOn == nil)
}

// Every format's transliterated and alias names are searchable once indexed.
func TestFixturesSearchable(t *testing.T) {
	var all []Entry
	for _, f := range fixtureParsers {
		entries, err := f.parse(bytes.NewReader(MustReadFile(t, filepath.Join("testdata", f.file))))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, entries...)
	}
	ix := NewIndex(all)
	tests := []struct {
		query string
		want  string
	}{
		{"Igor Volkonsky", "eu-900101"},
		{"Игорь Волконский", "eu-900101"},
		{"Northern Meridian Shipping OOO", "eu-900202"},
		{"KRASNOV Anatolii", "uk-RUS9001"},
		{"Baltic Alloy Trading LLC", "uk-RUS9002"},
		{"Jean Emile Duvalier Martin", "fr-90001"},
		{"societe fictive de negoce", "fr-90002"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			ms, err := ix.Search(Query{Name: tt.query})
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) == 0 || ms[0].Entry.Ref().String() != tt.want {
				t.Fatalf("got %v, want %s first", refs(ms), tt.want)
			}
		})
	}
}

func refs(ms []Match) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Entry.Ref().String()+" "+m.MatchedName)
	}
	return strings.Join(s, "; ")
}
