package sanctions

import (
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"
)

// mutation turns a listed name into a query that a person might type for that party. ok is false
// when the mutation does not apply to the name (no middle name to drop, no word long enough for
// a typo).
type mutation struct {
	name  string
	apply func(r *rand.Rand, e *Entry, name string) (string, bool)
}

// mutations are the query variants of the recall target.
var mutations = []mutation{
	{"typo", mutateTypo},
	{"swapped order", mutateSwap},
	{"dropped middle name", mutateDropMiddle},
	{"accents", mutateAccents},
	{"changed legal form", mutateLegalForm},
	{"case", mutateCase},
}

// mutateTypo makes one edit (substitution, deletion, insertion or transposition of neighbours)
// in one word of at least five letters: shorter words are mostly particles ("AL", "BIN") where
// one letter makes another word.
func mutateTypo(r *rand.Rand, _ *Entry, name string) (string, bool) {
	words := strings.Fields(name)
	var long []int
	for i, w := range words {
		if utf8.RuneCountInString(w) >= 5 && isAlphaWord(w) {
			long = append(long, i)
		}
	}
	if len(long) == 0 {
		return "", false
	}
	wi := long[r.IntN(len(long))]
	w := []rune(words[wi])
	pos := 1 + r.IntN(len(w)-2) // not the first letter, as in most real typos
	letter := rune('a' + r.IntN(26))
	if unicode.IsUpper(w[pos]) {
		letter = unicode.ToUpper(letter)
	}
	switch r.IntN(4) {
	case 0:
		if w[pos] == letter || unicode.ToLower(w[pos]) == unicode.ToLower(letter) {
			letter = 'x'
		}
		w[pos] = letter
	case 1:
		w = append(w[:pos], w[pos+1:]...)
	case 2:
		w = append(w[:pos], append([]rune{letter}, w[pos:]...)...)
	default:
		w[pos], w[pos+1] = w[pos+1], w[pos]
	}
	words[wi] = string(w)
	return strings.Join(words, " "), true
}

func isAlphaWord(w string) bool {
	for _, r := range w {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// mutateSwap writes a person's "SURNAME, Given" as "Given SURNAME", and otherwise swaps the
// first and last words of a person's name, or the first two words of another party's name (the
// legal form stays last, where people write it).
func mutateSwap(_ *rand.Rand, e *Entry, name string) (string, bool) {
	words := strings.Fields(name)
	if e.Type == TypePerson {
		if head, tail, ok := strings.Cut(name, ", "); ok && !strings.Contains(tail, ",") {
			return tail + " " + head, true
		}
		if len(words) < 2 {
			return "", false
		}
		words[0], words[len(words)-1] = words[len(words)-1], words[0]
		return strings.Join(words, " "), true
	}
	base, tail := splitLegalTail(name)
	words = strings.Fields(base)
	if len(words) < 2 {
		return "", false
	}
	words[0], words[1] = strings.TrimSuffix(words[1], ","), words[0]
	return strings.TrimSpace(strings.Join(words, " ") + " " + tail), true
}

// splitLegalTail cuts a company name before its trailing legal form ("VALPARK, S.A. DE C.V."
// gives "VALPARK" and "S.A. DE C.V."). It drops as many trailing words as the legal phrase has
// tokens, which holds for the forms the lists use.
func splitLegalTail(name string) (string, string) {
	toks := tokenize(foldName(name), TypeEntity)
	words := strings.Fields(name)
	n := matchLegalSuffix(toks)
	if n == 0 || n >= len(toks) || n >= len(words) {
		return name, ""
	}
	keep := len(words) - n
	return strings.TrimRight(strings.Join(words[:keep], " "), " ,"), strings.Join(words[keep:], " ")
}

// mutateDropMiddle drops one given name of a person with at least three names.
func mutateDropMiddle(r *rand.Rand, e *Entry, name string) (string, bool) {
	if e.Type != TypePerson {
		return "", false
	}
	if head, tail, ok := strings.Cut(name, ", "); ok {
		given := strings.Fields(tail)
		if len(given) < 2 {
			return "", false
		}
		i := 1 + r.IntN(len(given)-1)
		given = append(given[:i], given[i+1:]...)
		return head + ", " + strings.Join(given, " "), true
	}
	words := strings.Fields(name)
	if len(words) < 3 {
		return "", false
	}
	i := 1 + r.IntN(len(words)-2)
	return strings.Join(append(words[:i], words[i+1:]...), " "), true
}

var accented = map[rune][]rune{
	'a': []rune("áàâäã"), 'e': []rune("éèêë"), 'i': []rune("íìîï"), 'o': []rune("óòôöõ"),
	'u': []rune("úùûü"), 'c': []rune("ç"), 'n': []rune("ñ"), 's': []rune("š"), 'z': []rune("ž"),
}

// mutateAccents puts diacritics on about a third of the letters that can carry one.
func mutateAccents(r *rand.Rand, _ *Entry, name string) (string, bool) {
	out := []rune(name)
	changed := false
	for i, c := range out {
		lower := unicode.ToLower(c)
		if v, ok := accented[lower]; ok && r.IntN(3) == 0 {
			a := v[r.IntN(len(v))]
			if unicode.IsUpper(c) {
				a = unicode.ToUpper(a)
			}
			out[i], changed = a, true
		}
	}
	return string(out), changed
}

// legalFormVariants are forms a company name is written with in queries.
var legalFormVariants = []string{"LLC", "LTD", "GmbH", "SARL", "SAS", "S.A.", "OOO", "JSC", "Inc.", "Co., Ltd.", "PJSC", "AG"}

// mutateLegalForm replaces the legal form at the end of a company name with another one, or adds
// one when there is none.
func mutateLegalForm(r *rand.Rand, e *Entry, name string) (string, bool) {
	if e.Type != TypeEntity {
		return "", false
	}
	base, _ := splitLegalTail(name)
	form := legalFormVariants[r.IntN(len(legalFormVariants))]
	return base + " " + form, true
}

// mutateCase writes the name in lower case or in title case.
func mutateCase(r *rand.Rand, _ *Entry, name string) (string, bool) {
	if r.IntN(2) == 0 {
		return strings.ToLower(name), true
	}
	words := strings.Fields(strings.ToLower(name))
	for i, w := range words {
		rs := []rune(w)
		rs[0] = unicode.ToUpper(rs[0])
		words[i] = string(rs)
	}
	return strings.Join(words, " "), true
}
