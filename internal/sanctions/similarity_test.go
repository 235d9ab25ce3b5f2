package sanctions

import (
	"math"
	"testing"
)

// Reference values of Jaro-Winkler from Winkler's papers and common implementations.
func TestJaroWinkler(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"martha", "marhta", 0.9611},
		{"dwayne", "duane", 0.84},
		{"dixon", "dicksonx", 0.8133},
		{"abc", "abc", 1},
		{"abc", "xyz", 0},
		{"", "abc", 0},
		{"bush", "habbash", 0.4643},
		{"müller", "müler", 0.9611}, // runes, not bytes
	}
	for _, tt := range tests {
		if got := jaroWinkler(tt.a, tt.b); math.Abs(got-tt.want) > 0.0001 {
			t.Errorf("jaroWinkler(%q, %q) = %.4f, want %.4f", tt.a, tt.b, got, tt.want)
		}
		if got, back := jaroWinkler(tt.a, tt.b), jaroWinkler(tt.b, tt.a); math.Abs(got-back) > 1e-9 {
			t.Errorf("jaroWinkler is not symmetric on %q, %q: %.4f / %.4f", tt.a, tt.b, got, back)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"dragan", "drrgan", 2, 1},
		{"putin", "putni", 2, 1}, // transposition of neighbours
		{"ganaderias", "gnaderias", 2, 1},
		{"mahmood", "mahmud", 2, 2},
		{"bush", "habbash", 2, 3}, // over the limit
		{"abc", "abc", 2, 0},
		{"", "ab", 2, 2},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b, tt.limit); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestTokenSimilarity(t *testing.T) {
	word := func(s string) token { return classify(s) }
	legal := func(s string) token { return token{key: legalFormKey, text: s, kind: kindLegal} }
	tests := []struct {
		name    string
		a, b    token
		min     float64
		max     float64
		wantHow string
	}{
		{"exact", word("putin"), word("putin"), 1, 1, "exact"},
		{"typo", word("putin"), word("putni"), 0.9, 0.99, "fuzzy"},
		{"one typo raised", word("dragan"), word("drrgan"), typoSim, typoSim, "fuzzy"},
		{"different words", word("bush"), word("habbash"), 0, 0, ""},
		{"below the bar", word("obrien"), word("orion"), 0, 0, ""},
		{"short words exact only", word("ali"), word("aly"), 0, 0, ""},
		{"numbers must agree", word("1"), word("2"), 0, 0, ""},
		{"mixed tokens must agree", word("m23"), word("m24"), 0, 0, ""},
		{"initial", word("j"), word("john"), initialSim, initialSim, "initial"},
		{"wrong initial", word("k"), word("john"), 0, 0, ""},
		{"two initials", word("j"), word("k"), 0, 0, ""},
		{"legal forms equivalent", legal("llc"), legal("gmbh"), 1, 1, "legal_form"},
		{"legal form against word", legal("llc"), word("acme"), 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, how := similarity(&tt.a, &tt.b)
			if s < tt.min || s > tt.max || how != tt.wantHow {
				t.Errorf("similarity = %.4f %q, want [%.2f, %.2f] %q", s, how, tt.min, tt.max, tt.wantHow)
			}
		})
	}
}
