package scoring

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/credorisk/credo/models"
)

// MustReadTestdata returns the bytes of testdata/name.
func MustReadTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// MustParse parses a model that must be valid.
func MustParse(t testing.TB, name string, data []byte) *Model {
	t.Helper()
	m, err := Parse(name, data)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return m
}

// MustTestModel returns the small model of testdata/valid.yaml.
func MustTestModel(t testing.TB) *Model {
	t.Helper()
	return MustParse(t, "valid.yaml", MustReadTestdata(t, "valid.yaml"))
}

// MustEdit returns valid.yaml with old replaced by new once; it fails when old is absent, so a
// stale edit cannot turn a test into one that checks the unchanged file.
func MustEdit(t testing.TB, old, new string) []byte {
	t.Helper()
	src := string(MustReadTestdata(t, "valid.yaml"))
	if !strings.Contains(src, old) {
		t.Fatalf("valid.yaml has no %q", old)
	}
	return []byte(strings.Replace(src, old, new, 1))
}

// MustModels loads every embedded model.
func MustModels(t testing.TB) []*Model {
	t.Helper()
	ms, err := LoadModels(models.FS)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// MustDefaultModel returns the model the service uses when CREDO_MODEL is empty.
func MustDefaultModel(t testing.TB) *Model {
	t.Helper()
	m, err := Select(MustModels(t), "")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// lineOf returns the explanation line of feature.
func lineOf(t testing.TB, r Result, feature string) Line {
	t.Helper()
	for _, l := range r.Lines {
		if l.Feature == feature {
			return l
		}
	}
	t.Fatalf("no line for %s", feature)
	return Line{}
}
