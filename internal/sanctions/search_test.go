package sanctions

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/credorisk/credo/internal/fault"
)

// MustSmallIndex indexes a handful of hand-written entries.
func MustSmallIndex(tb testing.TB) *Index {
	tb.Helper()
	person := func(id, name string, country string, year int) Entry {
		e := Entry{Source: SourceOFAC, SourceID: id, Type: TypePerson, Names: []Name{{name, StrengthPrimary}}}
		if country != "" {
			e.Countries = []string{country}
		}
		if year != 0 {
			e.BirthDates = []BirthDate{{Year: year}}
		}
		return e
	}
	entity := func(id string, names ...string) Entry {
		e := Entry{Source: SourceUN, SourceID: id, Type: TypeEntity}
		for i, n := range names {
			s := StrengthStrong
			if i == 0 {
				s = StrengthPrimary
			}
			e.Names = append(e.Names, Name{n, s})
		}
		return e
	}
	return NewIndex([]Entry{
		person("1", "HABBASH, George", "PS", 1926),
		person("2", "PUTIN, Vladimir Vladimirovich", "RU", 1952),
		entity("3", "SNOW STORM 2 SHIPPING LLC"),
		entity("4", "ACME TRADING GMBH", "ACME HANDEL"),
		person("5", "AL-ASSAD, Bashar Hafez", "SY", 1965),
		{Source: SourceEU, SourceID: "6", Type: TypeVessel, Names: []Name{{"VLADIMIR", StrengthPrimary}}},
		entity("7", "AL QAEDA"),
		{Source: SourceUK, SourceID: "8", Type: TypePerson, Names: []Name{{"KHALIL, Omar", StrengthPrimary}, {"ABU OMAR", StrengthWeak}}},
		entity("9", "B R C S.A."),
		entity("10", "J.P. MORGAN TRADING"),
	})
}

// MustScore returns the score of the entry for the query, 0 when it is not returned.
func MustScore(tb testing.TB, ix *Index, q Query, ref string) (float64, *Match) {
	tb.Helper()
	q.MinScore = 0.01
	ms, err := ix.Search(q)
	if err != nil {
		tb.Fatalf("Search(%+v): %v", q, err)
	}
	for i := range ms {
		if ms[i].Entry.Ref().String() == ref {
			return ms[i].Score, &ms[i]
		}
	}
	return 0, nil
}

func TestSearchScores(t *testing.T) {
	ix := MustSmallIndex(t)
	tests := []struct {
		name     string
		q        Query
		ref      string
		min, max float64
	}{
		{"watchman's false positive", Query{Name: "George Bush"}, "ofac-1", 0, 0.6},
		{"the real one", Query{Name: "George Habbash"}, "ofac-1", 1, 1},
		{"surname first", Query{Name: "Vladimir Putin"}, "ofac-2", 0.9, 1},
		{"typo", Query{Name: "Vladimr Putin"}, "ofac-2", 0.88, 0.99},
		{"cyrillic", Query{Name: "Владимир Путин"}, "ofac-2", 0.9, 1},
		{"only the given name", Query{Name: "Vladimir Ivanov"}, "ofac-2", 0, 0.5},
		{"numbers agree", Query{Name: "Snow Storm 2 Shipping"}, "un-3", 0.95, 1},
		{"numbers disagree", Query{Name: "Snow Storm 1 Shipping"}, "un-3", 0, 0.5},
		{"legal forms are equivalent", Query{Name: "Acme Trading LLC"}, "un-4", 1, 1},
		{"legal form left out", Query{Name: "Acme Trading"}, "un-4", 0.95, 1},
		{"alias", Query{Name: "Acme Handel"}, "un-4", 1, 1},
		{"joined words", Query{Name: "ALQAEDA"}, "un-7", 1, 1},
		{"weak alias scores lower", Query{Name: "Abu Omar"}, "uk-8", 0.9, 0.96},
		{"one-word name inside a long query", Query{Name: "Vladimir Sergeyevich Kuznetsov"}, "eu-6", 0, 0.5},
		{"initials only", Query{Name: "B R C SA"}, "un-9", 1, 1},
		{"initials written as one word", Query{Name: "BRC SARL"}, "un-9", 1, 1},
		{"dotted initials", Query{Name: "J P Morgan Trading"}, "un-10", 1, 1},
		{"dotted initials joined", Query{Name: "JPMorgan Trading"}, "un-10", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := MustScore(t, ix, tt.q, tt.ref)
			if got < tt.min || got > tt.max {
				t.Errorf("score %.4f, want [%.2f, %.2f]", got, tt.min, tt.max)
			}
		})
	}
}

func TestSearchEmptyIndex(t *testing.T) {
	ix := NewIndex(nil)
	ms, err := ix.Search(Query{Name: "Anyone"})
	if err != nil || len(ms) != 0 || ix.Len() != 0 {
		t.Errorf("got %v, %v", ms, err)
	}
	if s, _, err := ix.Compare(Query{Name: "Anyone"}, "Anyone", ""); err != nil || s != 1 {
		t.Errorf("Compare on an empty index: %.4f, %v", s, err)
	}
}

func TestSearchAdjustments(t *testing.T) {
	ix := MustSmallIndex(t)
	base, _ := MustScore(t, ix, Query{Name: "Bashar Assad"}, "ofac-5")
	tests := []struct {
		name  string
		q     Query
		delta float64
	}{
		{"same type", Query{Type: TypePerson}, 0},
		{"person against a company", Query{Type: TypeEntity}, typeMismatchPerson},
		{"country listed", Query{Country: "SY"}, countryMatch},
		{"country in lower case", Query{Country: "sy"}, countryMatch},
		{"other country", Query{Country: "FR"}, countryMismatch},
		{"birth year", Query{BirthYear: 1966}, birthYearMatch},
		{"birth year near", Query{BirthYear: 1962}, birthYearNear},
		{"birth year far", Query{BirthYear: 1990}, birthYearFar},
		{"all agree", Query{Type: TypePerson, Country: "SY", BirthYear: 1965}, countryMatch + birthYearMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			q.Name = "Bashar Assad"
			got, m := MustScore(t, ix, q, "ofac-5")
			want := math.Min(1, math.Max(0, base+tt.delta))
			if math.Abs(got-want) > 0.0002 {
				t.Errorf("score %.4f, want %.4f (base %.4f %+.2f)", got, want, base, tt.delta)
			}
			var sum float64
			for _, a := range m.Explanation.Adjustments {
				sum += a.Delta
			}
			if math.Abs(sum-tt.delta) > 1e-9 {
				t.Errorf("explained adjustments %+v sum to %+.2f, want %+.2f", m.Explanation.Adjustments, sum, tt.delta)
			}
		})
	}
}

func TestSearchExplains(t *testing.T) {
	ix := MustSmallIndex(t)
	_, m := MustScore(t, ix, Query{Name: "Vladimr Putin Jr"}, "ofac-2")
	if m == nil {
		t.Fatal("not found")
	}
	ex := m.Explanation
	want := []TokenMatch{
		{Query: "vladimr", Name: "vladimir", Similarity: round4(jaroWinkler("vladimr", "vladimir")), How: "fuzzy"},
		{Query: "putin", Name: "putin", Similarity: 1, How: "exact"},
	}
	if !slices.Equal(ex.Tokens, want) {
		t.Errorf("tokens %+v, want %+v", ex.Tokens, want)
	}
	if !slices.Equal(ex.UnmatchedQuery, []string{"jr"}) || !slices.Equal(ex.UnmatchedName, []string{"vladimirovich"}) {
		t.Errorf("unmatched %v / %v", ex.UnmatchedQuery, ex.UnmatchedName)
	}
	if ex.NormalizedName != "vladimir vladimirovich putin" || m.MatchedName != "PUTIN, Vladimir Vladimirovich" {
		t.Errorf("names %q %q", ex.NormalizedName, m.MatchedName)
	}
	if ex.NameScore != m.Score || ex.QueryCoverage <= 0.5 || ex.NameCoverage >= 1 {
		t.Errorf("scores: %+v vs %.4f", ex, m.Score)
	}
}

func TestSearchQueryValidation(t *testing.T) {
	ix := MustSmallIndex(t)
	tests := []struct {
		q     Query
		field string
	}{
		{Query{Name: "x", Type: "robot"}, "type"},
		{Query{Name: "x", Country: "France"}, "country"},
		{Query{Name: "x", Country: "ZZ"}, "country"},
		{Query{Name: "x", BirthYear: 1200}, "birth_year"},
		{Query{Name: "x", Limit: -1}, "limit"},
		{Query{Name: "x", Limit: MaxLimit + 1}, "limit"},
		{Query{Name: "x", MinScore: 1.5}, "min_score"},
		{Query{Name: "x", MinScore: -0.1}, "min_score"},
	}
	for _, tt := range tests {
		_, err := ix.Search(tt.q)
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Code != fault.Invalid || len(fe.Fields) != 1 || fe.Fields[0].Field != tt.field {
			t.Errorf("Search(%+v) = %v, want a validation error on %s", tt.q, err, tt.field)
		}
	}
}

func TestSearchLimitAndOrder(t *testing.T) {
	ix, _ := MustRealIndex(t)
	for _, limit := range []int{1, 3, 10, 100} {
		ms, err := ix.Search(Query{Name: "Mohammed Ali", Limit: limit, MinScore: 0.3})
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != limit {
			t.Errorf("limit %d: got %d", limit, len(ms))
		}
		seen := map[EntryRef]bool{}
		for i, m := range ms {
			if m.Score < 0.3 || (i > 0 && m.Score > ms[i-1].Score) || seen[m.Entry.Ref()] {
				t.Fatalf("limit %d: result %d (%s %.4f) out of order, below the minimum or repeated", limit, i, m.Entry.Ref(), m.Score)
			}
			seen[m.Entry.Ref()] = true
		}
	}
	none, err := ix.Search(Query{Name: "Zyxwvutsr Qponmlkj"})
	if err != nil || len(none) != 0 {
		t.Errorf("a name on no list: %v %v", refs(none), err)
	}
}

// The index finds candidates through its posting lists; Compare scores a pair directly. For the
// primary names of real entries, under the recall mutations, the indexed search must return
// the entry with at least the direct score (it keeps the best of all the entry's names).
func TestSearchAgreesWithCompare(t *testing.T) {
	ix, entries := MustRealIndex(t)
	r := rand.New(rand.NewPCG(11, 12))
	checked, equal := 0, 0
	for n := 0; n < 600; n++ {
		e := &entries[r.IntN(len(entries))]
		m := mutations[r.IntN(len(mutations))]
		q, ok := m.apply(r, e, e.PrimaryName())
		if !ok {
			continue
		}
		direct, _, err := ix.Compare(Query{Name: q}, e.PrimaryName(), e.Type)
		if err != nil {
			t.Fatal(err)
		}
		if direct < 0.5 {
			continue
		}
		ms, err := ix.Search(Query{Name: q, Limit: MaxLimit, MinScore: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		got := 0.0
		for _, mt := range ms {
			if mt.Entry.Ref() == e.Ref() {
				got = mt.Score
			}
		}
		checked++
		if got < direct-0.0001 {
			t.Errorf("%q: indexed %.4f < direct %.4f against %q (%s)", q, got, direct, e.PrimaryName(), e.Ref())
		}
		if math.Abs(got-direct) <= 0.0001 {
			equal++
		}
	}
	if checked < 400 || equal < checked*9/10 {
		t.Errorf("%d pairs checked, %d equal: the two paths drifted apart", checked, equal)
	}
}

// The index is read by many goroutines at once; results do not depend on it.
func TestSearchConcurrent(t *testing.T) {
	ix, entries := MustRealIndex(t)
	queries := benchQueries(entries, 200)
	want := make([]string, len(queries))
	for i, q := range queries {
		ms, err := ix.Search(Query{Name: q})
		if err != nil {
			t.Fatal(err)
		}
		want[i] = refs(ms)
	}
	var wg sync.WaitGroup
	errs := make(chan string, len(queries)*4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := range queries {
				k := (i + g*50) % len(queries)
				ms, err := ix.Search(Query{Name: queries[k]})
				if err != nil || refs(ms) != want[k] {
					errs <- queries[k]
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for q := range errs {
		t.Errorf("concurrent search of %q differs", q)
	}
}
