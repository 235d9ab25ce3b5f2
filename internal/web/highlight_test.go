package web

import (
	"html/template"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		src  string
		want []token
	}{
		{"package credo.credit", []token{{tokKeyword, "package"}, {tokPlain, " credo"}, {tokOp, "."}, {tokPlain, "credit"}}},
		{`x := count(input.a) # note`, []token{{tokPlain, "x "}, {tokOp, ":="}, {tokPlain, " "}, {tokCall, "count"}, {tokOp, "("},
			{tokPlain, "input"}, {tokOp, "."}, {tokPlain, "a"}, {tokOp, ")"}, {tokPlain, " "}, {tokComment, "# note"}}},
		{`{"code": "A\"B", "n": 1.5e-3}`, []token{{tokOp, "{"}, {tokKey, `"code"`}, {tokOp, ":"}, {tokPlain, " "}, {tokString, `"A\"B"`},
			{tokOp, ","}, {tokPlain, " "}, {tokKey, `"n"`}, {tokOp, ":"}, {tokPlain, " "}, {tokNumber, "1.5e-3"}, {tokOp, "}"}}},
		{`s := "a" # "not a string"`, []token{{tokPlain, "s "}, {tokOp, ":="}, {tokPlain, " "}, {tokString, `"a"`}, {tokPlain, " "}, {tokComment, `# "not a string"`}}},
		{`m := {"k" := 1}`, []token{{tokPlain, "m "}, {tokOp, ":="}, {tokPlain, " "}, {tokOp, "{"}, {tokString, `"k"`}, {tokPlain, " "}, {tokOp, ":="},
			{tokPlain, " "}, {tokNumber, "1"}, {tokOp, "}"}}},
		{"r := `raw\nstring` if true", []token{{tokPlain, "r "}, {tokOp, ":="}, {tokPlain, " "}, {tokString, "`raw\nstring`"}, {tokPlain, " "},
			{tokKeyword, "if"}, {tokPlain, " "}, {tokKeyword, "true"}}},
		{`"unterminated`, []token{{tokString, `"unterminated`}}},
		{"é := 1", []token{{tokPlain, "é "}, {tokOp, ":="}, {tokPlain, " "}, {tokNumber, "1"}}},
	}
	for _, tt := range tests {
		got := tokenize(tt.src)
		if len(got) != len(tt.want) {
			t.Errorf("%q: %q, want %q", tt.src, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%q token %d: %q, want %q", tt.src, i, got[i], tt.want[i])
			}
		}
	}
}

// TestTokenizeKeepsEverything checks the tokens of the real policies add up to their sources:
// colouring never loses or adds a character.
func TestTokenizeKeepsEverything(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "policies", "*"))
	n := 0
	for _, f := range files {
		if !strings.HasSuffix(f, ".rego") && !strings.HasSuffix(f, ".json") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		for _, tk := range tokenize(string(b)) {
			sb.WriteString(tk.text)
		}
		if sb.String() != string(b) {
			t.Errorf("%s: the tokens do not add up to the file", f)
		}
		lines := highlightLines(string(b))
		if want := strings.Count(string(b), "\n") + 1; len(lines) != want {
			t.Errorf("%s: %d highlighted lines, want %d", f, len(lines), want)
		}
		n++
	}
	if n < 3 {
		t.Fatalf("found %d policy files", n)
	}
}

var tags = regexp.MustCompile(`<[^>]+>`)

func TestHighlightLines(t *testing.T) {
	src := "a := `x\ny` # <b>\n\"<s>\""
	got := highlightLines(src)
	want := []template.HTML{
		`a <span class="t-o">:=</span> <span class="t-s">` + "`x" + `</span>`,
		`<span class="t-s">y` + "`" + `</span> <span class="t-c"># &lt;b&gt;</span>`,
		`<span class="t-s">&#34;&lt;s&gt;&#34;</span>`,
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines: %q", len(got), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %s, want %s", i+1, got[i], want[i])
		}
	}
	lines := codeLines(src, map[int][]string{2: {"bad"}})
	if lines[1].N != 2 || len(lines[1].Errors) != 1 || lines[0].Errors != nil {
		t.Errorf("code lines %+v", lines)
	}
	// The text of the coloured lines is the source.
	var plain []string
	for _, l := range got {
		plain = append(plain, strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#34;", `"`, "&amp;", "&").Replace(tags.ReplaceAllString(string(l), "")))
	}
	if strings.Join(plain, "\n") != src {
		t.Errorf("the lines' text is %q", strings.Join(plain, "\n"))
	}
}

func TestBarChart(t *testing.T) {
	svg := string(barChart("c", `Aged <balance> & "more"`, []bar{{"Current", 300, "€3.00"}, {"1 to 30", 150, "€1.50"}, {"Over 90", 0, "€0.00"}}))
	if !strings.Contains(svg, `<title id="c-t">Aged &lt;balance&gt; &amp; &#34;more&#34;</title>`) || !strings.Contains(svg, `role="img" aria-labelledby="c-t"`) {
		t.Fatalf("title not escaped or not labelled: %s", svg)
	}
	heights := regexp.MustCompile(`height="([0-9.]+)"><title>`).FindAllStringSubmatch(svg, -1)
	if len(heights) != 3 || heights[0][1] != "176.0" || heights[1][1] != "88.0" || heights[2][1] != "0.0" {
		t.Errorf("bar heights %v, want proportional to 300:150:0 with the tallest at 176", heights)
	}
	if !strings.Contains(svg, `<title>1 to 30: €1.50</title>`) || !strings.Contains(svg, ">€3<") {
		t.Errorf("bar tooltip or short figure missing: %s", svg)
	}
	empty := string(barChart("e", "none", []bar{{"a", 0, "0"}}))
	if !strings.Contains(empty, `height="0.0"`) {
		t.Errorf("all-zero chart: %s", empty)
	}
	many := make([]bar, 13)
	for i := range many {
		many[i] = bar{"w", 1, "€1.00"}
	}
	if s := string(barChart("m", "weeks", many)); strings.Contains(s, `class="value"`) {
		t.Error("thirteen narrow bars carry figures that cannot fit")
	}
}

func TestShortFigure(t *testing.T) {
	for in, want := range map[string]string{"€1,234.56": "€1,234", "1\u202f234,56\u00a0€": "1\u202f234\u00a0€", "-€0.05": "-€0", "42": "42", "12.5%": "12.5%"} {
		if got := shortFigure(in); got != want {
			t.Errorf("shortFigure(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLineChart(t *testing.T) {
	svg := string(lineChart("h", "Score history", []point{{1, 600, "a", "1 Nov"}, {2, 560, "b", ""}, {3, 640, "c<", "3 Nov"}}))
	if n := strings.Count(svg, `<circle`); n != 3 {
		t.Errorf("%d points", n)
	}
	// Y runs from 540 to 660 over 24..200: 600 is at 112, the highest point at the top.
	if !strings.Contains(svg, `points="48.0,112.0 338.0,170.7 628.0,53.3"`) || !strings.Contains(svg, "<title>c&lt;</title>") {
		t.Errorf("line chart: %s", svg)
	}
	if one := string(lineChart("o", "one", []point{{5, 600, "only", "5 Nov"}})); !strings.Contains(one, `cx="338.0"`) {
		t.Errorf("a single point is not centred: %s", one)
	}
	if none := string(lineChart("n", "none", nil)); strings.Contains(none, "<polyline") {
		t.Errorf("no points drew a line: %s", none)
	}
}

func TestStaticAssets(t *testing.T) {
	tc := MustConsole(t)
	for name, ctype := range map[string]string{"console.css": "text/css", "console.js": "javascript"} {
		a, ok := staticAssets[name]
		if !ok {
			t.Fatalf("%s is not embedded", name)
		}
		p := tc.get(staticURL(name), nil)
		if p.Status != http.StatusOK || p.Body != string(a.body) || p.Header.Get("Cache-Control") != "public, max-age=86400" ||
			!strings.Contains(p.Header.Get("Content-Type"), ctype) {
			t.Errorf("%s: %d, %q, %q", name, p.Status, p.Header.Get("Content-Type"), p.Header.Get("Cache-Control"))
		}
		if !strings.Contains(staticURL(name), "?v="+a.hash) {
			t.Errorf("%s address has no content hash: %s", name, staticURL(name))
		}
	}
	if p := tc.get("/console/static/nothing.js", nil); p.Status != http.StatusNotFound {
		t.Errorf("unknown asset: %d", p.Status)
	}
	login := tc.get("/console/login", nil)
	login.MustContain(t, staticURL("console.css"), staticURL("console.js"))
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
		if login.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if csp := login.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
	if cc := login.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("a page's Cache-Control is %q", cc)
	}
	// Nothing in the assets or templates loads from another host.
	for _, src := range []string{string(staticAssets["console.css"].body), string(staticAssets["console.js"].body), login.Body} {
		if strings.Contains(src, "http://") || strings.Contains(src, "https://") || strings.Contains(src, "//cdn") {
			t.Errorf("an asset refers to another host")
		}
	}
}
