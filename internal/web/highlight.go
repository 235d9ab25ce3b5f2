package web

import (
	"html"
	"html/template"
	"strings"
)

// A small tokenizer for Rego and JSON, enough to colour a policy: comments, strings (raw ones
// may span lines), numbers, keywords, builtin calls and operators. static/console.js holds the
// same rules for the editor, which colours as the person types.

// token classes, as CSS classes.
const (
	tokPlain   = ""
	tokComment = "c"
	tokString  = "s"
	tokKey     = "y" // a string or name followed by ':' (an object key)
	tokNumber  = "n"
	tokKeyword = "k"
	tokCall    = "f" // a name followed by '(' (a builtin or a function)
	tokOp      = "o"
)

type token struct {
	class, text string
}

var regoKeywords = map[string]bool{
	"package": true, "import": true, "default": true, "not": true, "with": true, "as": true, "some": true,
	"every": true, "in": true, "if": true, "contains": true, "else": true, "true": true, "false": true, "null": true,
}

func isIdentStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isIdentPart(c byte) bool { return isIdentStart(c) || isDigit(c) }

// tokenize splits src into tokens whose texts concatenate back to src.
func tokenize(src string) []token {
	var out []token
	emit := func(class, text string) {
		if n := len(out); n > 0 && out[n-1].class == class && (class == tokPlain || class == tokOp) {
			out[n-1].text += text
			return
		}
		out = append(out, token{class, text})
	}
	for i := 0; i < len(src); {
		c := src[i]
		j := i + 1
		switch {
		case c == '#':
			for j < len(src) && src[j] != '\n' {
				j++
			}
			emit(tokComment, src[i:j])
		case c == '"':
			for j < len(src) && src[j] != '"' && src[j] != '\n' {
				if src[j] == '\\' && j+1 < len(src) && src[j+1] != '\n' {
					j++
				}
				j++
			}
			if j < len(src) && src[j] == '"' {
				j++
			}
			emit(stringClass(src, j), src[i:j])
		case c == '`':
			for j < len(src) && src[j] != '`' {
				j++
			}
			if j < len(src) {
				j++
			}
			emit(tokString, src[i:j])
		case isDigit(c):
			for j < len(src) && (isDigit(src[j]) || src[j] == '.' || src[j] == 'e' || src[j] == 'E' ||
				(src[j] == '+' || src[j] == '-') && (src[j-1] == 'e' || src[j-1] == 'E')) {
				j++
			}
			emit(tokNumber, src[i:j])
		case isIdentStart(c):
			for j < len(src) && isIdentPart(src[j]) {
				j++
			}
			word := src[i:j]
			switch {
			case regoKeywords[word]:
				emit(tokKeyword, word)
			case next(src, j) == '(':
				emit(tokCall, word)
			default:
				emit(tokPlain, word)
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\n' || src[j] == '\r') {
				j++
			}
			emit(tokPlain, src[i:j])
		case c >= 0x80:
			for j < len(src) && src[j] >= 0x80 {
				j++
			}
			emit(tokPlain, src[i:j])
		default:
			emit(tokOp, src[i:j])
		}
		i = j
	}
	return out
}

// next is the first byte after i that is not a space or a tab (0 at the end).
func next(src string, i int) byte {
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	if i < len(src) {
		return src[i]
	}
	return 0
}

// stringClass tells an object key (a string followed by ':', not ':=') from a value.
func stringClass(src string, end int) string {
	if next(src, end) == ':' {
		i := end
		for src[i] != ':' {
			i++
		}
		if i+1 >= len(src) || src[i+1] != '=' {
			return tokKey
		}
	}
	return tokString
}

// highlightLines colours src and returns one HTML fragment per line (a token that spans lines,
// such as a raw string, is closed at each line's end and opened again on the next).
func highlightLines(src string) []template.HTML {
	var lines []template.HTML
	var cur strings.Builder
	for _, t := range tokenize(src) {
		parts := strings.Split(t.text, "\n")
		for k, part := range parts {
			if k > 0 {
				lines = append(lines, template.HTML(cur.String()))
				cur.Reset()
			}
			part = strings.TrimSuffix(part, "\r")
			if part == "" {
				continue
			}
			if t.class == tokPlain {
				cur.WriteString(html.EscapeString(part))
				continue
			}
			cur.WriteString(`<span class="t-` + t.class + `">` + html.EscapeString(part) + `</span>`)
		}
	}
	return append(lines, template.HTML(cur.String()))
}

// codeLine is one line of a shown file: its number, its coloured text, and the diagnostics
// reported at it.
type codeLine struct {
	N      int
	HTML   template.HTML
	Errors []string
}

// codeLines numbers the highlighted lines of src and attaches diagnostics by line.
func codeLines(src string, errs map[int][]string) []codeLine {
	hl := highlightLines(src)
	out := make([]codeLine, len(hl))
	for i, h := range hl {
		out[i] = codeLine{N: i + 1, HTML: h, Errors: errs[i+1]}
	}
	return out
}
