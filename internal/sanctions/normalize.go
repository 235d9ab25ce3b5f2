package sanctions

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/credorisk/credo/internal/fault"
)

// MaxNameLength bounds a screened name in characters: the longest names on the lists are about
// 300 characters, and the bound keeps one query's cost predictable.
const MaxNameLength = 512

// maxQueryTokens bounds the words of a screened name; the matcher tracks tokens in 64-bit sets.
const maxQueryTokens = 32

// maxNameTokens bounds the words kept from a listed name, for the same reason.
const maxNameTokens = 64

type tokenKind uint8

const (
	kindWord    tokenKind = iota // a word of two or more characters
	kindNumber                   // digits only: must agree exactly ("Snow Storm 1" is not "Snow Storm 2")
	kindInitial                  // a single letter: matches a word starting with it, weakly
	kindLegal                    // a company legal form: all legal forms are equivalent
)

// token is one unit of a normalised name.
type token struct {
	key  string // the form compared
	text string // what it stood for, for explanations (a legal form keeps its phrase)
	kind tokenKind
}

// stopWords carry no identity: articles, prepositions and conjunctions of the languages the
// lists are written in. They are dropped unless nothing else is left.
var stopWords = map[string]bool{
	"the": true, "of": true, "and": true, "for": true, "de": true, "del": true, "della": true,
	"der": true, "den": true, "des": true, "du": true, "da": true, "di": true, "do": true,
	"dos": true, "das": true, "la": true, "le": true, "les": true, "los": true, "las": true,
	"van": true, "von": true, "y": true, "et": true, "und": true,
}

// Normalize returns the normalised form of a name as the matcher sees it: folded to lower-case
// Latin letters, "SURNAME, Given" reordered, legal forms replaced by one marker, stop words
// dropped. It is exported for explanations and tests.
func Normalize(name string) string {
	toks := normalizeName(name, "")
	keys := make([]string, len(toks))
	for i, t := range toks {
		keys[i] = t.key
	}
	return strings.Join(keys, " ")
}

// validateName checks a screened name before normalisation and returns a validation error that
// names the field.
func validateName(field, name string) error {
	if !utf8.ValidString(name) {
		return fault.Validation("invalid name", fault.Field(field, "must be valid UTF-8"))
	}
	if strings.TrimSpace(name) == "" {
		return fault.Validation("invalid name", fault.Field(field, "must not be empty"))
	}
	if n := utf8.RuneCountInString(name); n > MaxNameLength {
		return fault.Validation("invalid name", fault.Field(field, "must be at most %d characters, got %d", MaxNameLength, n))
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fault.Validation("invalid name", fault.Field(field, "must not contain control characters (found U+%04X)", r))
		}
	}
	return nil
}

// normalizeName folds, tokenises and cleans a name. typ is the party's type when known: a person
// keeps words that look like legal forms, a company does not reorder around its comma.
func normalizeName(name string, typ EntryType) []token {
	toks := tokenize(foldName(name), typ)
	if len(toks) == 0 {
		return nil
	}
	if typ != TypePerson {
		toks = markLegalForms(toks)
	}
	kept := toks[:0:0]
	for _, t := range toks {
		if t.kind == kindWord && stopWords[t.key] {
			continue
		}
		kept = append(kept, t)
	}
	if len(kept) == 0 {
		kept = toks // a name made only of stop words ("THE") is still a name
	}
	if len(kept) > maxNameTokens {
		kept = kept[:maxNameTokens]
	}
	return kept
}

// foldName lower-cases a name and reduces it to Latin letters where a mapping exists: Cyrillic and
// special Latin letters through the tables, then Unicode compatibility decomposition (x/text norm)
// with the combining marks removed, so that "Müller", "MULLER" and "Мюллер" meet.
func foldName(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	s = norm.NFC.String(s) // a decomposed "й" would lose its breve before transliteration
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = unicode.ToLower(r)
		if t, ok := transliterate(r); ok {
			b.WriteString(t)
			continue
		}
		b.WriteRune(r)
	}
	d := norm.NFKD.String(b.String())
	b.Reset()
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// isApostrophe lists the quote marks found inside names ("O'BRIEN", "So'ng", "Sa’ad"); they join
// rather than split, because the lists write the same names without them.
func isApostrophe(r rune) bool {
	switch r {
	case '\'', '’', '‘', 'ʼ', 'ʻ', '`', '´':
		return true
	}
	return false
}

// rawToken is a token as cut from the folded text, with the punctuation around it.
type rawToken struct {
	s           string
	dotAfter    bool // followed directly by "." and nothing else before the next token
	commaBefore bool // a comma separates it from the previous token
}

// tokenize cuts folded text into tokens: letters and digits form words, apostrophes vanish,
// everything else separates. Dotted single letters ("S.A.", "L.L.C.") collapse into one word, and
// a single comma ("PUTIN, Vladimir") puts the given names first unless the party is known to be
// a company or what follows the comma is a legal form.
func tokenize(s string, typ EntryType) []token {
	var raw []rawToken
	var cur strings.Builder
	sep := ""
	comma := false
	flush := func() {
		if cur.Len() == 0 {
			return
		}
		if len(raw) > 0 {
			raw[len(raw)-1].dotAfter = sep == "."
		}
		raw = append(raw, rawToken{s: cur.String(), commaBefore: comma && len(raw) > 0})
		cur.Reset()
		sep, comma = "", false
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur.WriteRune(r)
		case isApostrophe(r):
			// joins
		default:
			if cur.Len() > 0 {
				flush()
			}
			sep += string(r)
			if r == ',' {
				comma = true
			}
		}
	}
	flush()
	if len(raw) > 0 {
		raw[len(raw)-1].dotAfter = sep == "."
	}
	raw = collapseDotted(raw)
	toks := make([]token, 0, len(raw))
	split := -1
	commas := 0
	for i, r := range raw {
		if r.commaBefore {
			commas++
			split = i
		}
		toks = append(toks, classify(r.s))
	}
	if commas == 1 && typ != TypeEntity && typ != TypeVessel && typ != TypeAircraft {
		head, tail := toks[:split], toks[split:]
		if !allLegal(tail) {
			toks = append(append(make([]token, 0, len(toks)), tail...), head...)
		}
	}
	return toks
}

// allLegal reports whether toks is a chain of legal forms ("co ltd", "sa de cv").
func allLegal(toks []token) bool {
	for len(toks) > 0 {
		n := matchLegalPrefix(toks)
		if n == 0 {
			return false
		}
		toks = toks[n:]
	}
	return true
}

// collapseDotted merges runs of single letters written with dots ("s.a." -> "sa", "j.p." -> "jp").
func collapseDotted(raw []rawToken) []rawToken {
	out := raw[:0:0]
	for i := 0; i < len(raw); i++ {
		r := raw[i]
		if utf8.RuneCountInString(r.s) == 1 && r.dotAfter {
			j := i
			s := r.s
			for j+1 < len(raw) && raw[j].dotAfter && utf8.RuneCountInString(raw[j+1].s) == 1 && !raw[j+1].commaBefore {
				j++
				s += raw[j].s
			}
			if j > i {
				out = append(out, rawToken{s: s, commaBefore: r.commaBefore, dotAfter: raw[j].dotAfter})
				i = j
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

func classify(s string) token {
	t := token{key: s, text: s, kind: kindWord}
	digits := true
	for _, r := range s {
		if !unicode.IsDigit(r) {
			digits = false
			break
		}
	}
	switch {
	case digits:
		t.kind = kindNumber
	case utf8.RuneCountInString(s) == 1:
		t.kind = kindInitial
	}
	return t
}

// hasDigit reports whether a token mixes digits in ("m23"): such tokens only match exactly.
func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}
