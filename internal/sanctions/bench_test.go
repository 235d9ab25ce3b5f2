package sanctions

import (
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"
)

// benchQueries is a fixed mix of what the service screens: names of listed parties as people type
// them (the recall mutations), and ordinary client and director names that are on no list.
func benchQueries(entries []Entry, n int) []string {
	r := rand.New(rand.NewPCG(42, 1))
	first := []string{"John", "Marie", "Pierre", "Anna", "Mohamed", "Li", "Carlos", "Olga", "Hans", "Fatima", "Jean-Luc", "Sofia"}
	last := []string{"Smith", "Dupont", "Martin", "Garcia", "Müller", "Rossi", "Nowak", "Ivanova", "Haddad", "Chen", "Lefèvre", "Kowalski"}
	words := []string{"Logistique", "Trading", "Industrie", "Transports", "Bâtiment", "Consulting", "Foods", "Steel", "Textiles", "Energy", "Services", "Nord"}
	forms := []string{"SARL", "SAS", "GmbH", "Ltd", "LLC", "S.A.", "SpA", "BV"}
	out := make([]string, 0, n)
	for len(out) < n {
		switch r.IntN(10) {
		case 0, 1: // an ordinary director
			out = append(out, first[r.IntN(len(first))]+" "+last[r.IntN(len(last))])
		case 2, 3: // an ordinary client company
			out = append(out, last[r.IntN(len(last))]+" "+words[r.IntN(len(words))]+" "+forms[r.IntN(len(forms))])
		default: // a listed party, mistyped or rewritten
			e := &entries[r.IntN(len(entries))]
			m := mutations[r.IntN(len(mutations))]
			if q, ok := m.apply(r, e, e.PrimaryName()); ok {
				out = append(out, q)
			}
		}
	}
	return out
}

// BenchmarkSearch screens one name against OFAC and UN together (about 23,000 distinct names)
// and reports the latency percentiles of single queries. Run with -cpu 1.
func BenchmarkSearch(b *testing.B) {
	ix, entries := MustRealIndex(b)
	queries := benchQueries(entries, 2000)
	for _, q := range queries[:200] { // warm the scratch pool and caches
		if _, err := ix.Search(Query{Name: q}); err != nil {
			b.Fatal(err)
		}
	}
	durations := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := queries[i%len(queries)]
		t0 := time.Now()
		if _, err := ix.Search(Query{Name: q}); err != nil {
			b.Fatal(err)
		}
		durations = append(durations, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(durations)
	pct := func(p float64) float64 {
		return float64(durations[int(p*float64(len(durations)-1))].Nanoseconds()) / 1e6
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}

// BenchmarkIndexBuild builds the index over OFAC, UN and the EU, UK and French fixtures, and
// reports the heap the index holds once built.
func BenchmarkIndexBuild(b *testing.B) {
	entries := MustAllEntries(b)
	var names int
	for i := range entries {
		names += len(entries[i].Names)
	}
	b.ReportMetric(float64(names), "names")
	b.ResetTimer()
	var ix *Index
	for i := 0; i < b.N; i++ {
		ix = NewIndex(entries)
	}
	b.StopTimer()
	ix = nil // measure one index, not two
	heap := heapAfter(func() { ix = NewIndex(entries) })
	runtime.KeepAlive(ix)
	b.ReportMetric(heap/1e6, "heap-MB")
}

// heapAfter measures how much live heap build leaves behind.
func heapAfter(build func()) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return float64(after.HeapInuse) - float64(before.HeapInuse)
}

// MustAllEntries parses every list available to the tests: the real OFAC and UN files and the
// EU, UK and French fixtures.
func MustAllEntries(tb testing.TB) []Entry {
	tb.Helper()
	all := append(MustParseOFAC(tb), MustParseUN(tb)...)
	for _, f := range fixtureParsers {
		entries, err := f.parse(MustOpen(tb, "testdata/"+f.file))
		if err != nil {
			tb.Fatalf("%s: %v", f.file, err)
		}
		all = append(all, entries...)
	}
	return all
}

// BenchmarkNormalize measures the normaliser alone on list names.
func BenchmarkNormalize(b *testing.B) {
	_, entries := MustRealIndex(b)
	var names []string
	for i := range entries {
		for _, n := range entries[i].Names {
			names = append(names, n.Name)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = normalizeName(names[i%len(names)], "")
	}
}
