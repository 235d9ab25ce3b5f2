package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/util"

	"github.com/credorisk/credo/internal/decision"
)

// DiffContext is the number of unchanged lines shown around each change, as diff -u does.
const DiffContext = 3

// maxEditDistance bounds the Myers search (its memory grows with the square of the distance):
// past it, a file is shown as wholly replaced, which is still a correct diff.
const maxEditDistance = 1000

// FileDiff summarises the changes to one file.
type FileDiff struct {
	File string `json:"file"`
	// Change is added, removed or modified.
	Change  string `json:"change"`
	Added   int    `json:"added"`
	Removed int    `json:"removed"`
}

// DiffReport is the difference between two versions: modules, then data.json pretty-printed
// canonically (keys sorted, two-space indent), as one unified diff from Against to Version.
type DiffReport struct {
	Version int        `json:"version"`
	Against int        `json:"against"`
	Files   []FileDiff `json:"files"`
	Diff    string     `json:"diff"`
}

// diffVersions compares two versions file by file; unchanged files are left out.
func diffVersions(from, to Version) DiffReport {
	rep := DiffReport{Version: to.Version, Against: from.Version, Files: []FileDiff{}}
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range from.Modules {
			if !yield(n) {
				return
			}
		}
		for n := range to.Modules {
			if _, dup := from.Modules[n]; !dup && !yield(n) {
				return
			}
		}
	})
	var out strings.Builder
	add := func(name string, a, b *string) {
		fd, text := diffFile(name, from.Version, to.Version, a, b)
		if text == "" {
			return
		}
		rep.Files = append(rep.Files, fd)
		out.WriteString(text)
	}
	for _, n := range names {
		a, inA := from.Modules[n]
		b, inB := to.Modules[n]
		add(n, ptrIf(a, inA), ptrIf(b, inB))
	}
	da, db := prettyData(from.Data), prettyData(to.Data)
	add(decision.DataFile, &da, &db)
	rep.Diff = out.String()
	return rep
}

func ptrIf(s string, ok bool) *string {
	if !ok {
		return nil
	}
	return &s
}

// prettyData renders data tables canonically so that a reformatted data.json shows no change
// and a changed value shows on its own line. Numbers keep their text.
func prettyData(data []byte) string {
	var v any
	if err := util.UnmarshalJSON(data, &v); err != nil {
		return string(data) // stored versions were validated; show the text rather than nothing
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return string(data)
	}
	return buf.String()
}

// diffFile is the unified diff of one file from version va to vb; a nil side is a file that does
// not exist there. It returns "" when nothing changed.
func diffFile(name string, va, vb int, a, b *string) (FileDiff, string) {
	fd := FileDiff{File: name, Change: "modified"}
	fromName, toName := fmt.Sprintf("v%d/%s", va, name), fmt.Sprintf("v%d/%s", vb, name)
	var at, bt string
	switch {
	case a == nil && b == nil:
		return fd, ""
	case a == nil:
		fd.Change, fromName, bt = "added", "/dev/null", *b
	case b == nil:
		fd.Change, toName, at = "removed", "/dev/null", *a
	default:
		at, bt = *a, *b
	}
	if a != nil && b != nil && at == bt {
		return fd, ""
	}
	edits := diffLines(splitLines(at), splitLines(bt))
	for _, e := range edits {
		switch e.op {
		case '+':
			fd.Added++
		case '-':
			fd.Removed++
		}
	}
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", fromName, toName)
	writeHunks(&out, edits, DiffContext)
	return fd, out.String()
}

// splitLines cuts text into lines that keep their "\n", so a last line without one differs from
// the same line with one, and shows as such.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// edit is one line of a diff: ' ' kept, '-' removed, '+' added.
type edit struct {
	op   byte
	text string
}

// diffLines is a shortest edit script from a to b (Myers, "An O(ND) Difference Algorithm"),
// after taking off the common head and tail.
func diffLines(a, b []string) []edit {
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	out := make([]edit, 0, len(a)+len(b))
	for _, l := range a[:head] {
		out = append(out, edit{' ', l})
	}
	out = append(out, myers(a[head:len(a)-tail], b[head:len(b)-tail])...)
	for _, l := range a[len(a)-tail:] {
		out = append(out, edit{' ', l})
	}
	return out
}

func myers(a, b []string) []edit {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return replaceAll(a, b)
	}
	maxD := min(n+m, maxEditDistance)
	off := maxD + 1
	v := make([]int, 2*maxD+3)
	// trace[d] holds v[-d..d] as it was before round d: enough to walk back.
	var trace [][]int
	for d := 0; d <= maxD; d++ {
		trace = append(trace, slices.Clone(v[off-d:off+d+1]))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1] // down: an insertion
			} else {
				x = v[off+k-1] + 1 // right: a deletion
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(a, b, trace, d)
			}
		}
	}
	return replaceAll(a, b)
}

// backtrack walks the trace from (n, m) back to (0, 0), collecting the edits in reverse.
func backtrack(a, b []string, trace [][]int, d int) []edit {
	x, y := len(a), len(b)
	var rev []edit
	for ; d > 0; d-- {
		v := trace[d] // v[-d..d] before round d, i.e. after round d-1: v[k] is at index k+d
		at := func(k int) int { return v[k+d] }
		k := x - y
		var prevK int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			rev = append(rev, edit{' ', a[x-1]})
			x, y = x-1, y-1
		}
		if x == prevX {
			rev = append(rev, edit{'+', b[y-1]})
			y--
		} else {
			rev = append(rev, edit{'-', a[x-1]})
			x--
		}
	}
	for x > 0 && y > 0 {
		rev = append(rev, edit{' ', a[x-1]})
		x, y = x-1, y-1
	}
	slices.Reverse(rev)
	return rev
}

func replaceAll(a, b []string) []edit {
	out := make([]edit, 0, len(a)+len(b))
	for _, l := range a {
		out = append(out, edit{'-', l})
	}
	for _, l := range b {
		out = append(out, edit{'+', l})
	}
	return out
}

// writeHunks writes the edits as unified-diff hunks with ctx lines of context, merging changes
// closer than 2*ctx unchanged lines into one hunk.
func writeHunks(out *strings.Builder, edits []edit, ctx int) {
	// aBefore[i], bBefore[i]: lines of each side before edit i.
	aBefore, bBefore := make([]int, len(edits)+1), make([]int, len(edits)+1)
	var changes []int
	for i, e := range edits {
		aBefore[i+1], bBefore[i+1] = aBefore[i], bBefore[i]
		if e.op != '+' {
			aBefore[i+1]++
		}
		if e.op != '-' {
			bBefore[i+1]++
		}
		if e.op != ' ' {
			changes = append(changes, i)
		}
	}
	for h := 0; h < len(changes); {
		lo := max(changes[h]-ctx, 0)
		last := changes[h]
		for h++; h < len(changes) && changes[h]-last-1 <= 2*ctx; h++ {
			last = changes[h]
		}
		hi := min(last+1+ctx, len(edits))
		fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(aBefore[lo], aBefore[hi]-aBefore[lo]), hunkRange(bBefore[lo], bBefore[hi]-bBefore[lo]))
		for _, e := range edits[lo:hi] {
			out.WriteByte(e.op)
			out.WriteString(e.text)
			if !strings.HasSuffix(e.text, "\n") {
				out.WriteString("\n\\ No newline at end of file\n")
			}
		}
	}
}

// hunkRange is a side's range as GNU diff writes it: the first line and the count, the count
// left out when it is 1, and the line before when it is 0.
func hunkRange(before, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", before)
	case 1:
		return fmt.Sprintf("%d", before+1)
	}
	return fmt.Sprintf("%d,%d", before+1, count)
}
