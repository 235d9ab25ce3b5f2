package sanctions

import "strings"

// legalFormPhrases are company legal forms as they read after folding (dots of "S.A." collapsed,
// so "sa"), longest first within each family. All of them are treated as one equivalent token:
// "ACME LLC", "ACME Ltd" and "ООО ACME" name the same company as far as screening goes, and the
// legal form says too little about identity to weigh in a score.
var legalFormPhrases = []string{
	// Latin America
	"s de rl de cv", "s de r l de cv", "sa de cv", "sapi de cv", "sab de cv", "s de rl", "sa de cv sofom",
	"ltda", "cia ltda", "eirl", "sas", "sac", "saa", "sca", "scs",
	// Russian and CIS forms, abbreviated and spelled out
	"ooo", "oao", "zao", "pao", "ao", "jsc", "ojsc", "cjsc", "pjsc", "tov", "too", "fgup", "gup",
	"obshchestvo s ogranichennoy otvetstvennostyu", "obshchestvo s ogranichennoi otvetstvennostiu",
	"aktsionernoe obshchestvo", "aktsionernoye obshchestvo", "otkrytoe aktsionernoe obshchestvo",
	"zakrytoe aktsionernoe obshchestvo", "publichnoe aktsionernoe obshchestvo",
	"open joint stock company", "closed joint stock company", "public joint stock company",
	"joint stock company", "limited liability company", "limited liability partnership",
	// English-speaking forms
	"company limited", "co ltd", "pte ltd", "pvt ltd", "private limited", "pty ltd", "sdn bhd", "bhd",
	"llc", "llp", "lp", "ltd", "limited", "plc", "inc", "incorporated", "corp", "corporation", "co", "company",
	"pte", "pty", "pvt",
	// Europe
	"gmbh", "gmbh co kg", "ag", "kg", "kgaa", "ug", "sa", "sarl", "sasu", "snc", "srl", "spa", "sl", "slu",
	"bv", "nv", "oy", "oyj", "ab", "aps", "sp z oo", "sp zoo", "kft", "zrt", "doo", "sro", "spol s ro",
	"ad", "ead", "ood", "eood", "se", "ehf", "lda",
	// Middle East and Asia
	"fze", "fzco", "fzc", "fz llc", "fzllc", "sal", "sae", "saoc", "wll", "kk", "tbk",
}

// legalForms maps each phrase (as a token sequence) to true, and longestLegalForm bounds the scan.
var (
	legalForms       = map[string]bool{}
	longestLegalForm int
)

func init() {
	for _, p := range legalFormPhrases {
		legalForms[p] = true
		if n := len(strings.Fields(p)); n > longestLegalForm {
			longestLegalForm = n
		}
	}
}

// legalFormKey is the single token every legal form becomes.
const legalFormKey = "#legal"

// markLegalForms turns legal-form phrases at the end and at the start of a company name into one
// legal-form token each. It looks only at the edges because that is where legal forms sit, and
// "Sa" or "Ao" inside a name is more likely a name. It always leaves at least one other word.
func markLegalForms(toks []token) []token {
	// From the end, repeatedly: "ANGLO-CARIBBEAN CO., LTD." ends with "co" then "ltd".
	var tail []token
	for {
		n := matchLegalSuffix(toks)
		if n == 0 || n == len(toks) {
			break
		}
		tail = append([]token{legalToken(toks[len(toks)-n:])}, tail...)
		toks = toks[:len(toks)-n]
	}
	var head []token
	for {
		n := matchLegalPrefix(toks)
		if n == 0 || n == len(toks) {
			break
		}
		head = append(head, legalToken(toks[:n]))
		toks = toks[n:]
	}
	out := make([]token, 0, len(head)+len(toks)+len(tail))
	out = append(out, head...)
	out = append(out, toks...)
	return append(out, tail...)
}

// matchLegalSuffix returns the length of the legal form ending toks, 0 if none. At the end of
// a name a misspelt legal form ("LIMITJED") is recognised too.
func matchLegalSuffix(toks []token) int {
	for n := min(longestLegalForm, len(toks)); n >= 1; n-- {
		if isLegalPhrase(toks[len(toks)-n:]) {
			return n
		}
	}
	if len(toks) > 0 && isFuzzyLegal(toks[len(toks)-1]) {
		return 1
	}
	return 0
}

// matchLegalPrefix returns the length of the legal form starting toks, 0 if none. Only exact
// forms count at the start, where a word like "CORPORACION" belongs to the name.
func matchLegalPrefix(toks []token) int {
	for n := min(longestLegalForm, len(toks)); n >= 1; n-- {
		if isLegalPhrase(toks[:n]) {
			return n
		}
	}
	return 0
}

// fuzzyLegalWords are the spelled-out legal forms long enough to be recognised with a typo
// ("LIMITJED", "CMOPANY"): misread as a rare word, a misspelt legal form would outweigh the name.
var fuzzyLegalWords = []string{"limited", "company", "corporation", "incorporated", "gesellschaft", "obshchestvo"}

// isFuzzyLegal reports whether a word is a misspelling of a spelled-out legal form.
func isFuzzyLegal(t token) bool {
	if t.kind != kindWord || len(t.key) < 6 || legalForms[t.key] {
		return false
	}
	for _, w := range fuzzyLegalWords {
		if s, _ := wordSimilarity(t.key, w); s >= 0.9 {
			return true
		}
	}
	return false
}

func isLegalPhrase(toks []token) bool {
	var b strings.Builder
	for i, t := range toks {
		if t.kind != kindWord && t.kind != kindInitial {
			return false
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.key)
	}
	return legalForms[b.String()]
}

func legalToken(toks []token) token {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.key
	}
	return token{key: legalFormKey, text: strings.Join(parts, " "), kind: kindLegal}
}
