package scoring

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/credorisk/credo/internal/fault"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"2026.1", "2026.2", -1},
		{"2026.2", "2026.10", -1},
		{"2026.10", "2026.9", 1},
		{"2026.1", "2026.1", 0},
		{"2026.1", "2026.1.0", 0},
		{"2026.1.1", "2026.1", 1},
		{"2025.12", "2026.1", -1},
		{"x", "2026.1", -1},
		{"2026.1", "x", 1},
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// MustModelFS returns a file system holding valid.yaml under each name, with the version given.
func MustModelFS(t *testing.T, files map[string]string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, version := range files {
		fsys[name] = &fstest.MapFile{Data: MustEdit(t, `version: "1.0"`, "version: "+version)}
	}
	return fsys
}

func TestLoadModelsAndSelect(t *testing.T) {
	fsys := MustModelFS(t, map[string]string{
		"scorecard-2026.10.yaml": "2026.10", // unquoted: must not be read as 2026.1
		"scorecard-2026.2.yaml":  `"2026.2"`,
		"scorecard-2026.1.yaml":  `"2026.1"`,
	})
	fsys["README.md"] = &fstest.MapFile{Data: []byte("not a model")}
	ms, err := LoadModels(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.Version())
	}
	if strings.Join(got, " ") != "2026.1 2026.2 2026.10" {
		t.Errorf("versions %v, want ascending", got)
	}
	tests := []struct {
		name, want string
	}{
		{"", "2026.10"},
		{"  ", "2026.10"},
		{"2026.2", "2026.2"},
		{"2026.1", "2026.1"},
		{"scorecard-2026.2", "2026.2"},
		{"scorecard-2026.2.yaml", "2026.2"},
		{"models/scorecard-2026.10.yaml", "2026.10"},
		{"2026.02", "2026.2"},
		{"2026.2.0", "2026.2"},
	}
	for _, tt := range tests {
		m, err := Select(ms, tt.name)
		if err != nil || m.Version() != tt.want {
			t.Errorf("Select(%q) = %v %v, want %s", tt.name, m, err, tt.want)
		}
	}
	_, err = Select(ms, "2027.1")
	if fault.Code(err) != fault.NotFound || !strings.Contains(err.Error(), "available: 2026.1, 2026.2, 2026.10") {
		t.Errorf("unknown model: %v", err)
	}
	if _, err := Select(nil, ""); fault.Code(err) != fault.NotFound {
		t.Errorf("no models: %v", err)
	}
}

func TestLoadModelsRefuses(t *testing.T) {
	good := MustReadTestdata(t, "valid.yaml")
	tests := []struct {
		name string
		fsys fstest.MapFS
		want []string
	}{
		{"no model", fstest.MapFS{}, []string{"no scorecard file"}},
		{"version differs from the file name", MustModelFS(t, map[string]string{"scorecard-2026.2.yaml": `"2026.3"`}),
			[]string{`scorecard-2026.2.yaml:3: version: is "2026.3" but the file name says "2026.2"`}},
		{"badly named file", fstest.MapFS{"model.yaml": {Data: good}},
			[]string{"model.yaml:1: a model file must be named scorecard-<version>.yaml"}},
		{"one broken file among good ones", fstest.MapFS{
			"scorecard-2026.1.yaml": {Data: MustEdit(t, `version: "1.0"`, `version: "2026.1"`)},
			"scorecard-2026.2.yaml": {Data: []byte(strings.Replace(string(MustEdit(t, `version: "1.0"`, `version: "2026.2"`)),
				"{from: 10, points: 10}", "{from: 12, points: 10}", 1))},
		}, []string{"scorecard-2026.2.yaml:23: characteristics[0].bins: gap"}},
		{"two broken files", fstest.MapFS{
			"scorecard-1.yaml": {Data: []byte("version: [")},
			"scorecard-2.yaml": {Data: []byte("")},
		}, []string{"scorecard-1.yaml:1: YAML syntax", "scorecard-2.yaml:1: the file is empty"}},
		{"same version twice", MustModelFS(t, map[string]string{"scorecard-2026.1.yaml": `"2026.1"`, "scorecard-2026.1.0.yaml": `"2026.1.0"`}),
			[]string{"scorecard-2026.1.0.yaml and scorecard-2026.1.yaml have the same version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := LoadModels(tt.fsys)
			if err == nil || ms != nil {
				t.Fatalf("accepted: %v", ms)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}
