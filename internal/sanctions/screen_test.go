package sanctions

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/fault"
)

// screenEntries is a small list: a company, a person, and an entry whose names the next list
// version changes.
func screenEntries(version string, renamed bool) []Entry {
	third := []Name{{"ORION MARITIME HOLDINGS", StrengthPrimary}}
	if renamed {
		third = append(third, Name{"ORION SHIPPING", StrengthStrong})
	}
	entries := []Entry{
		{Source: SourceOFAC, SourceID: "100", Type: TypeEntity, Names: []Name{{"NORTHERN MERIDIAN TRADING LLC", StrengthPrimary}}, Countries: []string{"RU"}},
		{Source: SourceUN, SourceID: "200", Type: TypePerson, Names: []Name{{"KRASNOV, Anatoly Sergeyevich", StrengthPrimary}}, BirthDates: []BirthDate{{Year: 1966}}},
		{Source: SourceEU, SourceID: "300", Type: TypeEntity, Names: third},
	}
	for i := range entries {
		entries[i].ListVersion = version
	}
	return entries
}

var (
	northern = EntryRef{SourceOFAC, "100"}
	krasnov  = EntryRef{SourceUN, "200"}
	orion    = EntryRef{SourceEU, "300"}
	t0       = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
)

// MustScreen screens a party and fails the test on error.
func MustScreen(tb testing.TB, ix *Index, p Party, prev []Disposition) Result {
	tb.Helper()
	res, err := ScreenParty(ix, p, prev)
	if err != nil {
		tb.Fatalf("ScreenParty: %v", err)
	}
	return res
}

// MustDispose records a disposition on a screening's hit.
func MustDispose(tb testing.TB, res Result, ref EntryRef, v Verdict, at time.Time) Disposition {
	tb.Helper()
	for _, h := range append(res.Hits, res.Cleared...) {
		if h.Entry == ref {
			d, err := NewDisposition(res.ClientID, h, v, "reviewed: "+string(v), "credit.manager@example.com", at)
			if err != nil {
				tb.Fatal(err)
			}
			return d
		}
	}
	tb.Fatalf("no hit on %s in %+v", ref, res)
	return Disposition{}
}

func hitRefs(hs []Hit) []EntryRef {
	var out []EntryRef
	for _, h := range hs {
		out = append(out, h.Entry)
	}
	return out
}

func TestScreenParty(t *testing.T) {
	v1 := NewIndex(screenEntries("v1", false))
	client := Party{ClientID: "C-1", Name: "Northern Meridian Trading OOO", Country: "RU",
		Directors: []Director{{Name: "Anatoly Krasnov", BirthYear: 1966}, {Name: "Marie Dupont"}}}

	first := MustScreen(t, v1, client, nil)
	if first.Status != StatusPotentialMatch || !slices.Equal(hitRefs(first.Hits), []EntryRef{northern, krasnov}) {
		t.Fatalf("first screening: %s %v", first.Status, hitRefs(first.Hits))
	}
	h := first.Hits[0]
	if h.ID != "ofac-100" || h.Subject != "client" || h.Status != HitOpen || h.ListVersion != "v1" || h.Score < ReviewThreshold || h.Explanation == nil {
		t.Errorf("client hit: %+v", h)
	}
	if d := first.Hits[1]; d.Subject != "director" || d.SubjectName != "Anatoly Krasnov" || d.EntryName != "KRASNOV, Anatoly Sergeyevich" {
		t.Errorf("director hit: %+v", d)
	}

	tests := []struct {
		name        string
		ix          *Index
		prev        []Disposition
		wantStatus  Status
		wantHits    []EntryRef
		wantCleared []EntryRef
		wantGone    []EntryRef
	}{
		{"no decision yet", v1, nil, StatusPotentialMatch, []EntryRef{northern, krasnov}, nil, nil},
		{"both cleared", v1, []Disposition{
			MustDispose(t, first, northern, VerdictFalsePositive, t0),
			MustDispose(t, first, krasnov, VerdictFalsePositive, t0),
		}, StatusClear, nil, []EntryRef{northern, krasnov}, nil},
		{"one cleared", v1, []Disposition{MustDispose(t, first, krasnov, VerdictFalsePositive, t0)},
			StatusPotentialMatch, []EntryRef{northern}, []EntryRef{krasnov}, nil},
		{"confirmed", v1, []Disposition{MustDispose(t, first, northern, VerdictConfirmed, t0)},
			StatusConfirmed, []EntryRef{northern, krasnov}, nil, nil},
		{"latest decision wins", v1, []Disposition{
			MustDispose(t, first, northern, VerdictConfirmed, t0),
			MustDispose(t, first, northern, VerdictFalsePositive, t0.Add(time.Hour)),
			MustDispose(t, first, krasnov, VerdictFalsePositive, t0),
		}, StatusClear, nil, []EntryRef{northern, krasnov}, nil},
		{"another client's decision does not count", v1, []Disposition{
			withClient(MustDispose(t, first, northern, VerdictFalsePositive, t0), "C-2"),
		}, StatusPotentialMatch, []EntryRef{northern, krasnov}, nil, nil},
		{"confirmed entry delisted", NewIndex(screenEntries("v2", false)[1:]), []Disposition{
			MustDispose(t, first, northern, VerdictConfirmed, t0),
		}, StatusPotentialMatch, []EntryRef{krasnov}, nil, []EntryRef{northern}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := MustScreen(t, tt.ix, client, tt.prev)
			if res.Status != tt.wantStatus || !slices.Equal(hitRefs(res.Hits), tt.wantHits) ||
				!slices.Equal(hitRefs(res.Cleared), tt.wantCleared) || !slices.Equal(res.Delisted, tt.wantGone) {
				t.Errorf("got %s hits %v cleared %v delisted %v", res.Status, hitRefs(res.Hits), hitRefs(res.Cleared), res.Delisted)
			}
		})
	}
}

func withClient(d Disposition, id string) Disposition {
	d.ClientID = id
	return d
}

// A cleared false positive is not raised again, unless the entry's names change.
func TestScreenFalsePositiveMemory(t *testing.T) {
	client := Party{ClientID: "C-9", Name: "Orion Maritime Holdings SA"}
	v1 := NewIndex(screenEntries("v1", false))
	first := MustScreen(t, v1, client, nil)
	if first.Status != StatusPotentialMatch {
		t.Fatalf("first: %+v", first)
	}
	cleared := MustDispose(t, first, orion, VerdictFalsePositive, t0)

	same := MustScreen(t, NewIndex(screenEntries("v2", false)), client, []Disposition{cleared})
	if same.Status != StatusClear || len(same.Cleared) != 1 || same.Cleared[0].Status != HitCleared || same.Cleared[0].ListVersion != "v2" {
		t.Errorf("new version, same names: %+v", same)
	}

	renamed := MustScreen(t, NewIndex(screenEntries("v3", true)), client, []Disposition{cleared})
	if renamed.Status != StatusPotentialMatch || len(renamed.Hits) != 1 {
		t.Fatalf("names changed: %+v", renamed)
	}
	h := renamed.Hits[0]
	if h.Status != HitOpen || h.Disposition == nil || h.Disposition.NamesHash == h.NamesHash {
		t.Errorf("the reopened hit should carry the outdated disposition: %+v", h)
	}
}

// A confirmed identity stands even when the entry's names change and no longer score.
func TestScreenConfirmedSticks(t *testing.T) {
	client := Party{ClientID: "C-7", Name: "Orion Maritime Holdings"}
	first := MustScreen(t, NewIndex(screenEntries("v1", false)), client, nil)
	confirmed := MustDispose(t, first, orion, VerdictConfirmed, t0)
	entries := screenEntries("v2", false)
	entries[2].Names = []Name{{"ZENITH BULK CARRIERS", StrengthPrimary}}
	res := MustScreen(t, NewIndex(entries), client, []Disposition{confirmed})
	if res.Status != StatusConfirmed || len(res.Hits) != 1 || res.Hits[0].Status != HitConfirmed || res.Hits[0].EntryName != "ZENITH BULK CARRIERS" {
		t.Errorf("got %+v", res)
	}
}

// A clear screening says so with an empty list, not a null.
func TestScreenClearJSON(t *testing.T) {
	res := MustScreen(t, NewIndex(screenEntries("v1", false)), Party{ClientID: "C-3", Name: "Boulangerie Martin SARL"}, nil)
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"client_id":"C-3","status":"clear","hits":[]}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

// Without lists there is no screening: nobody is cleared against an empty list.
func TestScreenWithoutLists(t *testing.T) {
	var ix *Index
	if _, err := ScreenParty(ix, Party{ClientID: "C", Name: "ACME"}, nil); fault.Code(err) != fault.Unavailable {
		t.Errorf("ScreenParty: %v", err)
	}
	if _, err := ix.Search(Query{Name: "ACME"}); fault.Code(err) != fault.Unavailable {
		t.Errorf("Search: %v", err)
	}
	if _, _, err := ix.Compare(Query{Name: "ACME"}, "ACME", ""); fault.Code(err) != fault.Unavailable {
		t.Errorf("Compare: %v", err)
	}
}

func TestScreenPartyValidation(t *testing.T) {
	ix := NewIndex(screenEntries("v1", false))
	tests := []struct {
		p     Party
		field string
	}{
		{Party{Name: "ACME"}, "client_id"},
		{Party{ClientID: "C", Name: ""}, "name"},
		{Party{ClientID: "C", Name: "ACME", Country: "XX"}, "country"},
		{Party{ClientID: "C", Name: "ACME", Directors: []Director{{Name: "ok"}, {Name: "bad\x00name"}}}, "directors[1].name"},
		{Party{ClientID: "C", Name: "ACME", Directors: []Director{{Name: "Jean", BirthYear: 3000}}}, "directors[0].birth_year"},
	}
	for _, tt := range tests {
		_, err := ScreenParty(ix, tt.p, nil)
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Code != fault.Invalid || len(fe.Fields) != 1 || fe.Fields[0].Field != tt.field {
			t.Errorf("ScreenParty(%+v) = %v, want a validation error on %s", tt.p, err, tt.field)
		}
	}
}

func TestNewDisposition(t *testing.T) {
	h := Hit{Entry: northern, NamesHash: "abc"}
	tests := []struct {
		name    string
		verdict Verdict
		note    string
		by      string
		fields  []string
	}{
		{"valid", VerdictFalsePositive, "Different registration number", "cm@example.com", nil},
		{"unknown verdict", "maybe", "x", "cm", []string{"verdict"}},
		{"no note", VerdictConfirmed, "  ", "cm", []string{"note"}},
		{"note too long", VerdictConfirmed, strings.Repeat("n", maxNoteLength+1), "cm", []string{"note"}},
		{"no reviewer", VerdictConfirmed, "same passport", "", []string{"decided_by"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := NewDisposition("C-1", h, tt.verdict, tt.note, tt.by, t0.In(time.FixedZone("CET", 3600)))
			if tt.fields == nil {
				if err != nil || d.NamesHash != "abc" || d.Entry != northern || d.ClientID != "C-1" || d.DecidedAt.Location() != time.UTC {
					t.Errorf("got %+v, %v", d, err)
				}
				return
			}
			var fe *fault.Error
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v", err)
			}
			var got []string
			for _, f := range fe.Fields {
				got = append(got, f.Field)
			}
			if !slices.Equal(got, tt.fields) {
				t.Errorf("fields %v, want %v", got, tt.fields)
			}
		})
	}
}
