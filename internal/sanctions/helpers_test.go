package sanctions

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// dataDir is the team's shared reference data, relative to this package.
var dataDir = filepath.Join("..", "..", "..", "shared", "data", "sanctions")

// MustOpen opens a file of the shared data or of testdata, failing the test if it is missing.
func MustOpen(tb testing.TB, path string) *os.File {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	tb.Cleanup(func() { f.Close() })
	return f
}

// MustParseOFAC parses the real 2019 OFAC SDN files.
func MustParseOFAC(tb testing.TB) []Entry {
	tb.Helper()
	dir := filepath.Join(dataDir, "ofac")
	entries, err := ParseOFAC(MustOpen(tb, filepath.Join(dir, "sdn.csv")), MustOpen(tb, filepath.Join(dir, "alt.csv")),
		MustOpen(tb, filepath.Join(dir, "add.csv")), MustOpen(tb, filepath.Join(dir, "sdn_comments.csv")))
	if err != nil {
		tb.Fatalf("ParseOFAC: %v", err)
	}
	return entries
}

// MustParseUN parses the real UN consolidated list.
func MustParseUN(tb testing.TB) []Entry {
	tb.Helper()
	entries, err := ParseUN(MustOpen(tb, filepath.Join(dataDir, "un", "consolidated.xml")))
	if err != nil {
		tb.Fatalf("ParseUN: %v", err)
	}
	return entries
}

var (
	realOnce    sync.Once
	realEntries []Entry
	realIndex   *Index
)

// MustRealIndex builds, once per test binary, the index over the real OFAC and UN lists.
func MustRealIndex(tb testing.TB) (*Index, []Entry) {
	tb.Helper()
	realOnce.Do(func() {
		realEntries = append(MustParseOFAC(tb), MustParseUN(tb)...)
		realIndex = NewIndex(realEntries)
	})
	if realIndex == nil {
		tb.Fatal("the real index could not be built")
	}
	return realIndex, realEntries
}
