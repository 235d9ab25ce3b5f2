package sanctions

import "unicode/utf8"

// Token similarity constants; README.md explains how they were chosen.
const (
	// minTokenSim is the lowest Jaro-Winkler similarity that counts as two spellings of one word.
	// Below it ("bush" and "habbash" score 0.46, "obrien" and "orion" 0.84) the words are different and contribute nothing,
	// which is what keeps "George Bush" away from "George Habbash".
	minTokenSim = 0.86
	// minFuzzyLen is the shortest word compared fuzzily: shorter words ("al", "bin", "kim") only
	// match exactly, since one letter changes them into another common word.
	minFuzzyLen = 4
	// typoSim is the similarity granted to words one or two typos apart (see wordSimilarity).
	typoSim = 0.88
	// initialSim is what an initial earns against a word starting with that letter.
	initialSim = 0.8
	// minCompoundSim is the stricter bar for query words read together ("jong un" as "jongun"):
	// concatenations are long, and Jaro-Winkler forgives long strings more.
	minCompoundSim = 0.90
)

// compoundSimilarity compares adjacent query words read as one with a listed word.
func compoundSimilarity(joined, word string) (float64, string) {
	s, _ := wordSimilarity(joined, word)
	if s < minCompoundSim {
		return 0, ""
	}
	return s, "joined"
}

// similarity compares two tokens and says how they matched. It is 0 when they do not.
func similarity(a, b *token) (float64, string) {
	switch {
	case a.kind == kindLegal || b.kind == kindLegal:
		if a.kind == b.kind {
			if a.text == b.text {
				return 1, "exact"
			}
			return 1, "legal_form"
		}
		return 0, ""
	case a.kind == kindNumber || b.kind == kindNumber || hasDigit(a.key) || hasDigit(b.key):
		if a.key == b.key {
			return 1, "exact"
		}
		return 0, ""
	case a.key == b.key:
		return 1, "exact"
	case a.kind == kindInitial || b.kind == kindInitial:
		if a.kind == b.kind {
			return 0, ""
		}
		ra, _ := utf8.DecodeRuneInString(a.key)
		rb, _ := utf8.DecodeRuneInString(b.key)
		if ra == rb {
			return initialSim, "initial"
		}
		return 0, ""
	}
	return wordSimilarity(a.key, b.key)
}

// wordSimilarity compares two words of letters.
func wordSimilarity(a, b string) (float64, string) {
	if a == b {
		return 1, "exact"
	}
	if len(a) < minFuzzyLen || len(b) < minFuzzyLen {
		return 0, ""
	}
	s := jaroWinkler(a, b)
	// One typo in a word of five letters or more is a strong sign of the same word even where
	// Jaro-Winkler, which counts a substitution near the start heavily, says less ("drrgan" and
	// "dragan" score 0.858); two typos need eight letters.
	// One or two edits keep Jaro-Winkler above 0.8 on words of five letters or more, so the
	// edit distance is only computed where it can change the answer.
	if s < typoSim && s >= 0.78 && abs(len(a)-len(b)) <= 2 && min(len(a), len(b)) >= 5 {
		if d := editDistance(a, b, 2); d == 1 || d == 2 && min(len(a), len(b)) >= 8 {
			s = typoSim
		}
	}
	if s < minTokenSim {
		return 0, ""
	}
	return s, "fuzzy"
}

// editDistance is the optimal-string-alignment distance (Levenshtein with transpositions of
// neighbours), computed only up to limit: any larger distance returns limit+1.
func editDistance(a, b string, limit int) int {
	if isASCII(a) && isASCII(b) {
		return osaDistance([]byte(a), []byte(b), limit)
	}
	return osaDistance([]rune(a), []rune(b), limit)
}

func osaDistance[T byte | rune](ra, rb []T, limit int) int {
	if abs(len(ra)-len(rb)) > limit {
		return limit + 1
	}
	var buf [3][48]int
	var prev2, prev, cur []int
	if len(rb) < len(buf[0]) {
		prev2, prev, cur = buf[0][:len(rb)+1], buf[1][:len(rb)+1], buf[2][:len(rb)+1]
	} else {
		prev2, prev, cur = make([]int, len(rb)+1), make([]int, len(rb)+1), make([]int, len(rb)+1)
	}
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(rb)], limit+1)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// jaroWinkler is the Jaro similarity with Winkler's bonus for a common prefix (up to four
// characters, scale 0.1), the usual measure for personal names: it forgives typos and
// transpositions and rewards agreement at the start, where names differ least by accident.
func jaroWinkler(a, b string) float64 {
	if isASCII(a) && isASCII(b) {
		return jwCore([]byte(a), []byte(b))
	}
	return jwCore([]rune(a), []rune(b))
}

// jwCore runs Jaro-Winkler over two sequences; generic so that ASCII names compare as bytes.
func jwCore[T byte | rune](a, b []T) float64 {
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 0
	}
	window := max(la, lb)/2 - 1
	if window < 0 {
		window = 0
	}
	var bufA, bufB [64]bool
	var matchA, matchB []bool
	if la <= len(bufA) && lb <= len(bufB) {
		matchA, matchB = bufA[:la], bufB[:lb]
	} else {
		matchA, matchB = make([]bool, la), make([]bool, lb)
	}
	matches := 0
	for i := 0; i < la; i++ {
		lo, hi := max(0, i-window), min(lb-1, i+window)
		for j := lo; j <= hi; j++ {
			if !matchB[j] && a[i] == b[j] {
				matchA[i], matchB[j] = true, true
				matches++
				break
			}
		}
	}
	if matches == 0 {
		return 0
	}
	transpositions := 0
	j := 0
	for i := 0; i < la; i++ {
		if !matchA[i] {
			continue
		}
		for !matchB[j] {
			j++
		}
		if a[i] != b[j] {
			transpositions++
		}
		j++
	}
	m := float64(matches)
	jaro := (m/float64(la) + m/float64(lb) + (m-float64(transpositions)/2)/m) / 3
	if jaro <= 0.7 {
		return jaro
	}
	prefix := 0
	for prefix < min(4, la, lb) && a[prefix] == b[prefix] {
		prefix++
	}
	return jaro + float64(prefix)*0.1*(1-jaro)
}
