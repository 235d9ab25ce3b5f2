package sanctions

import (
	"slices"
	"strings"
)

// Scoring constants; README.md explains them with examples.
const (
	// queryLambda is how much the listed name's own unmatched words lower a match that covers
	// the whole query: "PUTIN" against "PUTIN, Vladimir Vladimirovich" stays high (OFAC's tool
	// gives 100), but a name matched on one of its five words is not a full match.
	queryLambda = 0.10
	// nameLambda plays the same role when the listed name is covered by a longer query
	// ("Vladimir Vladimirovich Putin" against "PUTIN, Vladimir"): the query's extra words may
	// belong to somebody else, so they count a little more.
	nameLambda = 0.25
	// minNameSideWords is how many words of a listed name the query must match for the name-side
	// coverage to count at all: a one-word alias ("BILAL") inside a long query is no evidence.
	minNameSideWords = 2
	// numberConflictFactor scales a match whose numbers disagree ("Snow Storm 1" / "2").
	numberConflictFactor = 0.5
	// weakAliasFactor scales a match on an alias the list itself calls weak or low quality.
	weakAliasFactor = 0.95
)

// queryPlan is a normalised query with, for each span of its words, the vocabulary words it
// matches.
type queryPlan struct {
	toks    []token
	weights []float64
	total   float64
	spans   []qspan
}

// qspan is one query word, or two or three adjacent words read as one ("al qaeda" as "alqaeda").
type qspan struct {
	start, n int
	key      string
	weight   float64
	matches  []vmatch
}

type vmatch struct {
	id  int32
	sim float64
	how string
}

// edge is one candidate pairing of query tokens with name tokens.
type edge struct {
	qs, qn, ns, nn uint8
	sim            float64
	how            string
}

// alignment is the best one-to-one pairing of query and name tokens and the score it gives.
type alignment struct {
	pairs          []edge
	qsim, nsim     []float64
	qcov, ncov     float64
	nameWords      int
	numberConflict bool
	score          float64 // before the country, birth and type adjustments
}

// align pairs tokens greedily, best similarity first (a compound before its parts at equal
// similarity), then scores the pairing. Greedy is exact enough here: names have a handful of
// words and a word rarely has two good partners.
func align(p *queryPlan, n *indexedName, edges []edge) alignment {
	for i := range p.toks {
		for j := range n.toks {
			qt, nt := &p.toks[i], &n.toks[j]
			if qt.kind == kindInitial || qt.kind == kindLegal || nt.kind == kindInitial || nt.kind == kindLegal {
				if s, how := similarity(qt, nt); s > 0 {
					edges = append(edges, edge{qs: uint8(i), qn: 1, ns: uint8(j), nn: 1, sim: s, how: how})
				}
			}
		}
	}
	slices.SortFunc(edges, func(a, b edge) int {
		switch {
		case a.sim != b.sim:
			if a.sim > b.sim {
				return -1
			}
			return 1
		case a.qn+a.nn != b.qn+b.nn:
			return int(b.qn+b.nn) - int(a.qn+a.nn)
		case a.qs != b.qs:
			return int(a.qs) - int(b.qs)
		}
		return int(a.ns) - int(b.ns)
	})
	a := alignment{qsim: make([]float64, len(p.toks)), nsim: make([]float64, len(n.toks))}
	var qUsed, nUsed uint64
	for _, e := range edges {
		qm := spanMask(e.qs, e.qn)
		nm := spanMask(e.ns, e.nn)
		if qUsed&qm != 0 || nUsed&nm != 0 {
			continue
		}
		qUsed |= qm
		nUsed |= nm
		a.pairs = append(a.pairs, e)
		for i := e.qs; i < e.qs+e.qn; i++ {
			a.qsim[i] = initialCredit(e, p.toks[i].kind, p.weights[i])
		}
		for j := e.ns; j < e.ns+e.nn; j++ {
			a.nsim[j] = initialCredit(e, n.toks[j].kind, n.weights[j])
		}
	}
	var qw, nw float64
	qNumberLeft, nNumberLeft := false, false
	for i, t := range p.toks {
		qw += p.weights[i] * a.qsim[i]
		if t.kind == kindNumber && a.qsim[i] == 0 {
			qNumberLeft = true
		}
	}
	for j, t := range n.toks {
		nw += n.weights[j] * a.nsim[j]
		if a.nsim[j] > 0 && (t.kind == kindWord || t.kind == kindNumber) {
			a.nameWords++
		}
		if t.kind == kindNumber && a.nsim[j] == 0 {
			nNumberLeft = true
		}
	}
	if p.total > 0 {
		a.qcov = qw / p.total
	}
	if n.total > 0 {
		a.ncov = nw / n.total
	}
	score := a.qcov * (1 - queryLambda*(1-a.ncov))
	if a.nameWords >= minNameSideWords {
		score = max(score, a.ncov*(1-nameLambda*(1-a.qcov)))
	}
	if qNumberLeft && nNumberLeft {
		a.numberConflict = true
		score *= numberConflictFactor
	}
	if n.strength == StrengthWeak {
		score *= weakAliasFactor
	}
	a.score = min(score, 1)
	return a
}

// initialCredit is the similarity credited to one side of a pairing. A word paired with an
// initial ("PUTIN" with "P.") earns no more than the initial itself weighs: an initial says
// little, and must not make a rare surname look matched.
func initialCredit(e edge, kind tokenKind, weight float64) float64 {
	if e.how != "initial" || kind == kindInitial || weight <= initialWeight {
		return e.sim
	}
	return e.sim * initialWeight / weight
}

func spanMask(start, n uint8) uint64 {
	return (uint64(1)<<n - 1) << start
}

// bruteEdges compares every query span with every name token and compound directly. It gives the
// same pairs as the index lookups, and serves to score a name that is not indexed (Compare).
func bruteEdges(p *queryPlan, n *indexedName) []edge {
	var edges []edge
	for _, s := range p.spans {
		for j := range n.toks {
			nt := &n.toks[j]
			if nt.kind == kindInitial || nt.kind == kindLegal {
				continue
			}
			var sim float64
			var how string
			if s.n == 1 {
				sim, how = similarity(&p.toks[s.start], nt)
			} else if nt.kind == kindWord && !hasDigit(nt.key) {
				sim, how = compoundSimilarity(s.key, nt.key)
			}
			if sim > 0 {
				edges = append(edges, edge{qs: uint8(s.start), qn: uint8(s.n), ns: uint8(j), nn: 1, sim: sim, how: how})
			}
		}
		if s.n != 1 || p.toks[s.start].kind != kindWord {
			continue
		}
		for j := range n.toks {
			for span := 2; span <= 3 && j+span <= len(n.toks); span++ {
				key, ok := concatWords(n.toks[j : j+span])
				if !ok {
					break
				}
				if key == s.key {
					edges = append(edges, edge{qs: uint8(s.start), qn: 1, ns: uint8(j), nn: uint8(span), sim: 1, how: "joined"})
				}
			}
		}
	}
	return edges
}

// plan takes the normalised query tokens and finds, for each span, the vocabulary words it
// matches, and the weight of each query token.
func (ix *Index) plan(toks []token, st *scratch) *queryPlan {
	p := &queryPlan{toks: toks, weights: make([]float64, len(toks))}
	for i := range toks {
		t := &toks[i]
		closest := int32(-1)
		if t.kind != kindLegal {
			// An initial finds the names holding the same initial ("B R C S.A."); its pairing
			// with whole words is made in align.
			matches := ix.lookupWord(t.key, t.kind, st)
			best := 0.0
			for _, m := range matches {
				if m.sim > best {
					best, closest = m.sim, m.id
				}
			}
			p.spans = append(p.spans, qspan{start: i, n: 1, key: t.key, matches: matches})
		}
		p.weights[i] = ix.weightOf(*t, closest)
		p.total += p.weights[i]
	}
	for i := range toks {
		for n := 2; n <= 3 && i+n <= len(toks); n++ {
			key, ok := concatWords(toks[i : i+n])
			if !ok {
				break
			}
			var matches []vmatch
			for _, m := range ix.lookupWordNear(key, st) {
				if m.sim >= minCompoundSim {
					m.how = "joined"
					matches = append(matches, m)
				}
			}
			p.spans = append(p.spans, qspan{start: i, n: n, key: key, matches: matches})
		}
	}
	for k := range p.spans {
		s := &p.spans[k]
		for i := s.start; i < s.start+s.n; i++ {
			s.weight += p.weights[i]
		}
	}
	return p
}

// lookupWordNear is lookupWord without the trigram stage, for query words read together: their
// bar is high (minCompoundSim), which a word one edit away reaches and a word sharing a third
// of the trigrams of a long concatenation rarely does.
func (ix *Index) lookupWordNear(key string, st *scratch) []vmatch {
	return ix.lookupWordStages(key, kindWord, st, false)
}

// lookupWord finds the vocabulary words similar to key: itself, those one deletion away on
// either side, and those sharing enough trigrams; each is kept if its similarity passes.
func (ix *Index) lookupWord(key string, kind tokenKind, st *scratch) []vmatch {
	return ix.lookupWordStages(key, kind, st, true)
}

func (ix *Index) lookupWordStages(key string, kind tokenKind, st *scratch, trigrams bool) []vmatch {
	var out []vmatch
	exact, ok := ix.vocabID[key]
	if ok {
		out = append(out, vmatch{id: exact, sim: 1, how: "exact"})
	}
	if kind != kindWord || len(key) < minFuzzyLen || hasDigit(key) {
		return out
	}
	st.stamp++
	if ok {
		st.seen[exact] = st.stamp
	}
	try := func(id int32) {
		if st.seen[id] == st.stamp {
			return
		}
		st.seen[id] = st.stamp
		if s, how := wordSimilarity(key, ix.vocab[id].key); s > 0 {
			out = append(out, vmatch{id: id, sim: s, how: how})
		}
	}
	forEachDeletion(key, func(k string) {
		for _, id := range ix.deletions[k] {
			try(id)
		}
	})
	if len(key) < 5 || !trigrams {
		return out
	}
	// Trigram counting: a word sharing at least a third of the query's trigrams is compared.
	need := 0
	forEachTrigram(key, func(string) { need++ })
	need = max(2, need/3)
	st.touched = st.touched[:0]
	forEachTrigram(key, func(g string) {
		for _, id := range ix.trigrams[g] {
			if st.count[id] == 0 {
				st.touched = append(st.touched, id)
			}
			st.count[id]++
		}
	})
	for _, id := range st.touched {
		if int(st.count[id]) >= need {
			try(id)
		}
		st.count[id] = 0
	}
	return out
}

// explain renders an alignment for people.
func explain(p *queryPlan, n *indexedName, a alignment) Explanation {
	ex := Explanation{
		NormalizedQuery: joinText(p.toks),
		NormalizedName:  joinText(n.toks),
		QueryCoverage:   round4(a.qcov),
		NameCoverage:    round4(a.ncov),
		NameScore:       round4(a.score),
		NumberConflict:  a.numberConflict,
		WeakAlias:       n.strength == StrengthWeak,
		Tokens:          []TokenMatch{}, // [] rather than null in JSON
	}
	pairs := append([]edge(nil), a.pairs...)
	slices.SortFunc(pairs, func(x, y edge) int { return int(x.qs) - int(y.qs) })
	for _, e := range pairs {
		ex.Tokens = append(ex.Tokens, TokenMatch{
			Query:      joinText(p.toks[e.qs : e.qs+e.qn]),
			Name:       joinText(n.toks[e.ns : e.ns+e.nn]),
			Similarity: round4(e.sim),
			How:        e.how,
		})
	}
	for i, t := range p.toks {
		if a.qsim[i] == 0 {
			ex.UnmatchedQuery = append(ex.UnmatchedQuery, t.text)
		}
	}
	for j, t := range n.toks {
		if a.nsim[j] == 0 {
			ex.UnmatchedName = append(ex.UnmatchedName, t.text)
		}
	}
	return ex
}

func joinText(toks []token) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.text
	}
	return strings.Join(parts, " ")
}

func round4(x float64) float64 {
	return float64(int64(x*10000+0.5)) / 10000
}
