package sanctions

import (
	"math"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Weights of the tokens that carry little identity whatever their frequency.
const (
	legalWeight   = 0.5 // a legal form: equivalent across forms and present on most companies
	initialWeight = 1.0 // an initial: one letter out of twenty-six
)

// Index is an immutable search structure over the loaded entries. It is safe for concurrent
// use; when a list changes, build a new Index and swap it whole.
//
// Every distinct normalised word of every listed name is a vocabulary word with a posting list of
// the names holding it. A query word finds its vocabulary words exactly, by one-edit deletion
// variants, and by shared character trigrams, so candidates come from a few posting lists and
// never from a scan of all names.
type Index struct {
	entries []Entry
	byRef   map[EntryRef]int32
	names   []indexedName

	vocab    []vocabWord
	vocabID  map[string]int32
	postings [][]posting // by vocabulary id; legal forms have none (matched directly, they are everywhere)
	// compounds maps the concatenation of two or three adjacent words of a name ("alqaeda",
	// "bashiruddin") to where they occur, so that a query written as one word finds them.
	compounds map[string][]posting
	// deletions maps each vocabulary word, and each of its one-character deletions, to the
	// words it comes from: two words at one edit share a key.
	deletions map[string][]int32
	// trigrams maps the padded character trigrams of vocabulary words to the words.
	trigrams map[string][]int32
	maxIDF   float64

	pool sync.Pool // *scratch
}

type vocabWord struct {
	key    string
	kind   tokenKind
	weight float64 // inverse document frequency over entries
}

// indexedName is one normalised name of one entry.
type indexedName struct {
	entry    int32
	name     int32 // index in the entry's Names
	toks     []token
	ids      []int32   // vocabulary ids of toks
	weights  []float64 // weight of each token
	total    float64   // sum of weights
	minor    float64   // weight of its initials and legal forms
	strength NameStrength
}

type posting struct {
	name int32
	pos  uint8 // first token
	span uint8 // number of tokens (compounds span 2 or 3)
}

// NewIndex indexes the entries' names. The entries are copied (shallowly) and must not be
// modified afterwards.
func NewIndex(entries []Entry) *Index {
	ix := &Index{
		entries:   append([]Entry(nil), entries...),
		byRef:     make(map[EntryRef]int32, len(entries)),
		vocabID:   make(map[string]int32),
		compounds: make(map[string][]posting),
	}
	lastEntry := []int32{}
	df := []int{}
	intern := func(t token, entry int32) int32 {
		id, ok := ix.vocabID[t.key]
		if !ok {
			id = int32(len(ix.vocab))
			ix.vocabID[t.key] = id
			ix.vocab = append(ix.vocab, vocabWord{key: t.key, kind: t.kind})
			ix.postings = append(ix.postings, nil)
			lastEntry = append(lastEntry, -1)
			df = append(df, 0)
		}
		if lastEntry[id] != entry {
			lastEntry[id] = entry
			df[id]++
		}
		return id
	}
	for ei := range ix.entries {
		e := &ix.entries[ei]
		ix.byRef[e.Ref()] = int32(ei)
		order := make([]int, len(e.Names))
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(a, b int) bool {
			return strengthRank(e.Names[order[a]].Strength) < strengthRank(e.Names[order[b]].Strength)
		})
		seen := map[string]bool{}
		for _, ni := range order {
			toks := normalizeName(e.Names[ni].Name, e.Type)
			if len(toks) == 0 {
				continue
			}
			sig := tokenSignature(toks)
			if seen[sig] {
				continue // the same name once more, in another case or punctuation
			}
			seen[sig] = true
			n := indexedName{entry: int32(ei), name: int32(ni), toks: toks, strength: e.Names[ni].Strength}
			n.ids = make([]int32, len(toks))
			for i, t := range toks {
				n.ids[i] = intern(t, int32(ei))
			}
			ix.names = append(ix.names, n)
		}
	}
	ix.maxIDF = math.Log(1 + float64(max(1, len(ix.entries)))) // an empty index still weighs words
	for id := range ix.vocab {
		v := &ix.vocab[id]
		switch v.kind {
		case kindLegal:
			v.weight = legalWeight
		case kindInitial:
			v.weight = initialWeight
		default:
			v.weight = math.Log(1 + float64(len(ix.entries))/float64(df[id]))
		}
	}
	for ni := range ix.names {
		n := &ix.names[ni]
		n.weights = make([]float64, len(n.toks))
		for i, id := range n.ids {
			n.weights[i] = ix.vocab[id].weight
			n.total += n.weights[i]
			if k := n.toks[i].kind; k == kindInitial || k == kindLegal {
				n.minor += n.weights[i]
			}
			if k := n.toks[i].kind; k != kindLegal {
				ix.postings[id] = appendPosting(ix.postings[id], posting{name: int32(ni), pos: uint8(i), span: 1})
			}
		}
		for i := range n.toks {
			for span := 2; span <= 3 && i+span <= len(n.toks); span++ {
				key, ok := concatWords(n.toks[i : i+span])
				if !ok {
					break
				}
				ix.compounds[key] = appendPosting(ix.compounds[key], posting{name: int32(ni), pos: uint8(i), span: uint8(span)})
			}
		}
	}
	ix.buildFuzzy()
	return ix
}

// appendPosting skips an exact repeat. A word twice in one name ("BECERRA BECERRA, Alvaro")
// keeps both positions, so that a query repeating it matches both.
func appendPosting(ps []posting, p posting) []posting {
	if n := len(ps); n > 0 && ps[n-1] == p {
		return ps
	}
	return append(ps, p)
}

// buildFuzzy indexes the vocabulary words for fuzzy lookup.
func (ix *Index) buildFuzzy() {
	ix.deletions = make(map[string][]int32, len(ix.vocab)*6)
	ix.trigrams = make(map[string][]int32, len(ix.vocab))
	for id, v := range ix.vocab {
		if !fuzzyKey(v) {
			continue
		}
		forEachDeletion(v.key, func(k string) {
			l := ix.deletions[k]
			if n := len(l); n == 0 || l[n-1] != int32(id) {
				ix.deletions[k] = append(l, int32(id))
			}
		})
		forEachTrigram(v.key, func(g string) {
			l := ix.trigrams[g]
			if n := len(l); n == 0 || l[n-1] != int32(id) {
				ix.trigrams[g] = append(l, int32(id))
			}
		})
	}
}

// fuzzyKey reports whether a vocabulary word takes part in fuzzy lookup.
func fuzzyKey(v vocabWord) bool {
	return v.kind == kindWord && len(v.key) >= minFuzzyLen && !hasDigit(v.key)
}

// forEachDeletion calls f with s and every string made by deleting one character of s.
func forEachDeletion(s string, f func(string)) {
	f(s)
	prev := -1
	for i, r := range s {
		if prev >= 0 && s[prev:i] == string(r) {
			prev = i
			continue // deleting either of two equal neighbours gives the same string
		}
		prev = i
		w := len(string(r))
		f(s[:i] + s[i+w:])
	}
}

// forEachTrigram calls f with the trigrams of "^" + s + "$".
func forEachTrigram(s string, f func(string)) {
	p := []rune("^" + s + "$")
	for i := 0; i+3 <= len(p); i++ {
		f(string(p[i : i+3]))
	}
}

// concatWords joins adjacent plain words and initials ("b r c" reads "brc"); ok is false if a
// token is a number, a legal form or a word with digits.
func concatWords(toks []token) (string, bool) {
	var b strings.Builder
	for _, t := range toks {
		if (t.kind != kindWord && t.kind != kindInitial) || hasDigit(t.key) {
			return "", false
		}
		b.WriteString(t.key)
	}
	return b.String(), true
}

func tokenSignature(toks []token) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.key
		if t.kind == kindLegal {
			parts[i] = t.text
		}
	}
	return strings.Join(parts, " ")
}

// Len is the number of indexed entries.
func (ix *Index) Len() int { return len(ix.entries) }

// NameCount is the number of distinct normalised names indexed.
func (ix *Index) NameCount() int { return len(ix.names) }

// Entry returns the entry with the given reference, if loaded.
func (ix *Index) Entry(ref EntryRef) (Entry, bool) {
	i, ok := ix.byRef[ref]
	if !ok {
		return Entry{}, false
	}
	return ix.entries[i], true
}

// Counts returns the number of entries per source.
func (ix *Index) Counts() map[Source]int {
	c := map[Source]int{}
	for i := range ix.entries {
		c[ix.entries[i].Source]++
	}
	return c
}

// weightOf is the weight of a token as seen from the query side: its own frequency when the
// lists know it, the weight of the closest listed spelling for a misspelt word, and the highest
// weight for a word the lists never use.
func (ix *Index) weightOf(t token, closest int32) float64 {
	switch t.kind {
	case kindLegal:
		return legalWeight
	case kindInitial:
		return initialWeight
	}
	if id, ok := ix.vocabID[t.key]; ok {
		return ix.vocab[id].weight
	}
	if closest >= 0 {
		return ix.vocab[closest].weight
	}
	// A word no list uses is as rare as can be, but a short one ("ud", "xi") is more likely a
	// particle or a syllable than a surname: its weight grows with its length up to four letters.
	return ix.maxIDF * min(1, float64(utf8.RuneCountInString(t.key))/4)
}
