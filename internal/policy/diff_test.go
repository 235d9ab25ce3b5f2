package policy

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestUnifiedDiff(t *testing.T) {
	lines := func(n int, prefix string) string {
		var b strings.Builder
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&b, "%s%d\n", prefix, i)
		}
		return b.String()
	}
	ten := lines(10, "l")
	tests := []struct {
		name   string
		a, b   *string
		change string
		want   string
	}{
		{"unchanged", new(ten), new(ten), "", ""},
		{"one line changed in the middle", new(ten), new(strings.Replace(ten, "l5\n", "five\n", 1)), "modified",
			"--- v1/f.rego\n+++ v2/f.rego\n@@ -2,7 +2,7 @@\n l2\n l3\n l4\n-l5\n+five\n l6\n l7\n l8\n"},
		{"a line added at the top", new(ten), new("l0\n" + ten), "modified",
			"--- v1/f.rego\n+++ v2/f.rego\n@@ -1,3 +1,4 @@\n+l0\n l1\n l2\n l3\n"},
		{"the last line removed", new(ten), new(lines(9, "l")), "modified",
			"--- v1/f.rego\n+++ v2/f.rego\n@@ -7,4 +7,3 @@\n l7\n l8\n l9\n-l10\n"},
		{"two changes far apart make two hunks", new(lines(20, "l")), new(strings.NewReplacer("l2\n", "two\n", "l18\n", "eighteen\n").Replace(lines(20, "l"))), "modified",
			"--- v1/f.rego\n+++ v2/f.rego\n@@ -1,5 +1,5 @@\n l1\n-l2\n+two\n l3\n l4\n l5\n@@ -15,6 +15,6 @@\n l15\n l16\n l17\n-l18\n+eighteen\n l19\n l20\n"},
		{"two changes six lines apart make one hunk", new(ten), new(strings.NewReplacer("l2\n", "two\n", "l9\n", "nine\n").Replace(ten)), "modified",
			"--- v1/f.rego\n+++ v2/f.rego\n@@ -1,10 +1,10 @@\n l1\n-l2\n+two\n l3\n l4\n l5\n l6\n l7\n l8\n-l9\n+nine\n l10\n"},
		{"added file", nil, new("a\nb\n"), "added", "--- /dev/null\n+++ v2/f.rego\n@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{"removed file", new("a\n"), nil, "removed", "--- v1/f.rego\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n"},
		{"newline added at the end", new("a\nb"), new("a\nb\n"), "modified",
			"--- v1/f.rego\n+++ v2/f.rego\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fd, got := diffFile("f.rego", 1, 2, tc.a, tc.b)
			if got != tc.want {
				t.Fatalf("diff:\n%s\nwant:\n%s", got, tc.want)
			}
			if tc.want != "" && fd.Change != tc.change {
				t.Fatalf("change %q, want %q", fd.Change, tc.change)
			}
			if added, removed := strings.Count(got, "\n+")-strings.Count(got, "\n+++"), strings.Count(got, "\n-")-strings.Count(got, "\n---"); tc.want != "" && (fd.Added != added || fd.Removed != removed) {
				t.Fatalf("counts +%d -%d, the diff shows +%d -%d", fd.Added, fd.Removed, added, removed)
			}
		})
	}
}

// lcs is the length of a longest common subsequence, by dynamic programming: the reference the
// Myers search must reach.
func lcs(a, b []string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
			} else {
				cur[j+1] = max(cur[j], prev[j+1])
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func TestDiffLinesIsAShortestEditScript(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gen := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = string(rune('a'+r.IntN(4))) + "\n"
		}
		return out
	}
	for i := range 500 {
		a, b := gen(r.IntN(30)), gen(r.IntN(30))
		edits := diffLines(a, b)
		var gotA, gotB []string
		kept := 0
		for _, e := range edits {
			if e.op != '+' {
				gotA = append(gotA, e.text)
			}
			if e.op != '-' {
				gotB = append(gotB, e.text)
			}
			if e.op == ' ' {
				kept++
			}
		}
		if strings.Join(gotA, "") != strings.Join(a, "") || strings.Join(gotB, "") != strings.Join(b, "") {
			t.Fatalf("case %d: the edits do not turn %q into %q: %v", i, a, b, edits)
		}
		if want := lcs(a, b); kept != want {
			t.Fatalf("case %d: %d lines kept, a longest common subsequence has %d", i, kept, want)
		}
	}
}

func TestDiffLinesPastTheSearchBoundIsStillCorrect(t *testing.T) {
	a, b := make([]string, 1500), make([]string, 1500)
	for i := range a {
		a[i], b[i] = fmt.Sprintf("a%d\n", i), fmt.Sprintf("b%d\n", i)
	}
	a[700], b[700] = "same\n", "same\n"
	edits := diffLines(a, b)
	var gotA, gotB strings.Builder
	for _, e := range edits {
		if e.op != '+' {
			gotA.WriteString(e.text)
		}
		if e.op != '-' {
			gotB.WriteString(e.text)
		}
	}
	if gotA.String() != strings.Join(a, "") || gotB.String() != strings.Join(b, "") {
		t.Fatal("the fallback does not turn a into b")
	}
}

func TestDiffVersionsPrintsDataCanonically(t *testing.T) {
	from := Version{Version: 1, Modules: map[string]string{"a.rego": "x\n", "b.rego": "y\n"},
		Data: []byte(`{"tables":{"b":2,"a":500000.00}}`)}
	to := Version{Version: 2, Modules: map[string]string{"a.rego": "x\n", "c.rego": "z\n"},
		Data: []byte("{\n \"tables\": {\"a\": 500000.00,\n \"b\": 3}}")}
	rep := diffVersions(from, to)
	var files []string
	for _, f := range rep.Files {
		files = append(files, f.File+":"+f.Change)
	}
	if got := strings.Join(files, " "); got != "b.rego:removed c.rego:added data.json:modified" {
		t.Fatalf("files %s", got)
	}
	if !strings.HasSuffix(rep.Diff, "--- v1/data.json\n+++ v2/data.json\n@@ -1,6 +1,6 @@\n {\n   \"tables\": {\n     \"a\": 500000.00,\n-    \"b\": 2\n+    \"b\": 3\n   }\n }\n") {
		t.Fatalf("data diff:\n%s", rep.Diff)
	}
	if same := diffVersions(from, Version{Version: 3, Modules: from.Modules, Data: []byte(`{"tables": {"a": 500000.00, "b": 2}}`)}); len(same.Files) != 0 || same.Diff != "" {
		t.Fatalf("reformatted data shows as a change: %+v", same)
	}
}
