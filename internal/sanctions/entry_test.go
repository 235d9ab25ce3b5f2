package sanctions

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

func TestNamesHash(t *testing.T) {
	base := Entry{Names: []Name{{"PUTIN, Vladimir", StrengthPrimary}, {"Vladimir Putin", StrengthStrong}}}
	tests := []struct {
		name  string
		names []Name
		same  bool
	}{
		{"same names", []Name{{"PUTIN, Vladimir", StrengthPrimary}, {"Vladimir Putin", StrengthStrong}}, true},
		{"other order", []Name{{"Vladimir Putin", StrengthStrong}, {"PUTIN, Vladimir", StrengthPrimary}}, true},
		{"case and spacing", []Name{{"putin,  vladimir", StrengthPrimary}, {"VLADIMIR PUTIN", StrengthStrong}}, true},
		{"alias added", []Name{{"PUTIN, Vladimir", StrengthPrimary}, {"Vladimir Putin", StrengthStrong}, {"V. Putin", StrengthWeak}}, false},
		{"name changed", []Name{{"PUTIN, Vladimir V.", StrengthPrimary}, {"Vladimir Putin", StrengthStrong}}, false},
		{"alias removed", []Name{{"PUTIN, Vladimir", StrengthPrimary}}, false},
	}
	h := NamesHash(&base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Entry{Names: tt.names}
			if got := NamesHash(&e) == h; got != tt.same {
				t.Errorf("same hash = %v, want %v", got, tt.same)
			}
		})
	}
}

func TestEntryRef(t *testing.T) {
	tests := []struct {
		in   string
		want EntryRef
		ok   bool
	}{
		{"ofac-306", EntryRef{SourceOFAC, "306"}, true},
		{"uk-RUS9001", EntryRef{SourceUK, "RUS9001"}, true},
		{"eu-EU.1-2", EntryRef{SourceEU, "EU.1-2"}, true},
		{"xx-1", EntryRef{}, false},
		{"ofac-", EntryRef{}, false},
		{"ofac", EntryRef{}, false},
	}
	for _, tt := range tests {
		got, err := ParseEntryRef(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseEntryRef(%q) = %v, %v", tt.in, got, err)
		}
		if tt.ok && got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}

// Entries are stored as JSONB and returned by the API: snake_case, dates as YYYY-MM-DD.
func TestEntryJSON(t *testing.T) {
	d := ledger.DateOf(2012, 12, 31)
	e := Entry{Source: SourceUN, SourceID: "6907993", Type: TypePerson, Names: []Name{{"ERIC BADEGE", StrengthPrimary}},
		Countries: []string{"CD"}, BirthDates: []BirthDate{{Year: 1971}}, Programs: []string{"DRC"}, ListedOn: &d, ListVersion: "v1"}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"source":"un","source_id":"6907993","type":"person","names":[{"name":"ERIC BADEGE","strength":"primary"}],` +
		`"countries":["CD"],"birth_dates":[{"year":1971}],"programs":["DRC"],"listed_on":"2012-12-31","list_version":"v1"}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	var back Entry
	if err := json.Unmarshal(b, &back); err != nil || !entriesEqual(&back, &e) || *back.ListedOn != d {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}

func TestContentHash(t *testing.T) {
	h := func(parts ...string) string {
		t.Helper()
		var files []io.Reader
		for _, p := range parts {
			files = append(files, strings.NewReader(p))
		}
		s, err := ContentHash(files...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if h("a,b", "c") != h("a,b", "c") {
		t.Error("not deterministic")
	}
	if h("a,b", "c") == h("a", ",bc") {
		t.Error("moving bytes from one file to the next keeps the hash")
	}
	if h("a,b", "c") == h("c", "a,b") {
		t.Error("file order ignored")
	}
	if len(h("x")) != 64 {
		t.Error("not a hex sha256")
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestContentHashReadError(t *testing.T) {
	if _, err := ContentHash(strings.NewReader("ok"), failingReader{}); err == nil || !strings.Contains(err.Error(), "file 2") {
		t.Errorf("err = %v", err)
	}
}

func TestCheckReplacement(t *testing.T) {
	tests := []struct {
		prev, next int
		ok         bool
	}{
		{0, 100, true},   // first load
		{0, 0, false},    // never an empty list
		{100, 0, false},  // a failed download
		{100, 49, false}, // suspiciously short
		{100, 50, true},  // half is still plausible (a big delisting)
		{100, 130, true}, // growth
	}
	for _, tt := range tests {
		err := CheckReplacement(tt.prev, tt.next)
		if (err == nil) != tt.ok {
			t.Errorf("CheckReplacement(%d, %d) = %v", tt.prev, tt.next, err)
		}
		if err != nil && fault.Code(err) != fault.Invalid {
			t.Errorf("code %q", fault.Code(err))
		}
	}
}

func TestCountryCode(t *testing.T) {
	tests := map[string]string{
		"Korea, North": "KP", "Democratic People's Republic of Korea": "KP", "Russia": "RU",
		"Russian Federation": "RU", "RUSSIE": "RU", "Fédération de Russie": "RU", "Iran (Islamic Republic of)": "IR",
		"Congo, Democratic Republic of the": "CD", "Congo": "CG", "Burma": "MM", "Türkiye": "TR",
		"United Kingdom of Great Britain and Northern Ireland": "GB", "Cote d'Ivoire": "CI", "Côte d’Ivoire": "CI",
		"Saint Kitts and Nevis": "KN", "Allemagne": "DE", "Haïti": "HT", "FR": "FR", "Palestinian": "PS",
	}
	for in, want := range tests {
		if got, ok := CountryCode(in); !ok || got != want {
			t.Errorf("CountryCode(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "na", "fr", "former Soviet Union", "Atlantis"} {
		if got, ok := CountryCode(in); ok {
			t.Errorf("CountryCode(%q) = %q, want no code", in, got)
		}
	}
}
