package sanctions

import "slices"

// Candidate generation: the posting-list walk of one query, the bounds that order and prune the
// names it reaches, and the running top of the results.

// scratch holds one query's working memory, reused through a pool.
type scratch struct {
	seen    []uint32 // by vocabulary id: lookup stamp
	stamp   uint32
	count   []uint16 // by vocabulary id: shared trigrams
	touched []int32
	acc     []float32 // by name: sum of the query weight of its hits, a loose upper bound
	accN    []float32 // by name: sum of the name weight of its hits, a loose upper bound
	head    []int32   // by name: first hit, -1 for none
	names   []int32   // names with hits
	hits    []hitRec
}

type hitRec struct {
	next int32
	e    edge
}

func (ix *Index) getScratch() *scratch {
	if st, ok := ix.pool.Get().(*scratch); ok {
		return st
	}
	st := &scratch{
		seen:  make([]uint32, len(ix.vocab)),
		count: make([]uint16, len(ix.vocab)),
		acc:   make([]float32, len(ix.names)),
		accN:  make([]float32, len(ix.names)),
		head:  make([]int32, len(ix.names)),
	}
	for i := range st.head {
		st.head[i] = -1
	}
	return st
}

func (ix *Index) putScratch(st *scratch) {
	for _, n := range st.names {
		st.head[n], st.acc[n], st.accN[n] = -1, 0, 0
	}
	st.names, st.hits = st.names[:0], st.hits[:0]
	if st.stamp > 1<<31 {
		clear(st.seen)
		st.stamp = 0
	}
	ix.pool.Put(st)
}

func (st *scratch) addHit(name int32, e edge, qw, nw float64) {
	if st.head[name] < 0 {
		st.names = append(st.names, name)
	}
	st.hits = append(st.hits, hitRec{next: st.head[name], e: e})
	st.head[name] = int32(len(st.hits) - 1)
	st.acc[name] += float32(qw)
	st.accN[name] += float32(nw)
}

// collect walks the posting lists of every matched vocabulary word and of every compound.
func (ix *Index) collect(p *queryPlan, st *scratch) {
	for _, s := range p.spans {
		for _, m := range s.matches {
			qw, nw := s.weight*m.sim, ix.vocab[m.id].weight*m.sim
			for _, ps := range ix.postings[m.id] {
				st.addHit(ps.name, edge{qs: uint8(s.start), qn: uint8(s.n), ns: ps.pos, nn: 1, sim: m.sim, how: m.how}, qw, nw)
			}
		}
		if s.n != 1 || p.toks[s.start].kind != kindWord {
			continue
		}
		for _, ps := range ix.compounds[s.key] {
			n := &ix.names[ps.name]
			nw := 0.0
			for j := ps.pos; j < ps.pos+ps.span; j++ {
				nw += n.weights[j]
			}
			st.addHit(ps.name, edge{qs: uint8(s.start), qn: 1, ns: ps.pos, nn: ps.span, sim: 1, how: "joined"}, s.weight, nw)
		}
	}
}

// upperBound is the highest name score a name's hits allow: each query and name token credited
// once with its best similarity (initials and legal forms as if matched), put through the score
// formula of align. The one-to-one pairing of align can only do worse, so candidates taken in
// decreasing bound can stop as soon as the bound falls below what the results already hold.
func (ix *Index) upperBound(p *queryPlan, st *scratch, ni int32) float64 {
	n := &ix.names[ni]
	var qbest [maxQueryTokens]float64
	var nbest [maxNameTokens]float64
	for h := st.head[ni]; h >= 0; h = st.hits[h].next {
		e := &st.hits[h].e
		for i := e.qs; i < e.qs+e.qn; i++ {
			qbest[i] = max(qbest[i], e.sim)
		}
		for j := e.ns; j < e.ns+e.nn; j++ {
			nbest[j] = max(nbest[j], e.sim)
		}
	}
	qw, nw, words := 0.0, 0.0, 0
	for i, t := range p.toks {
		if t.kind == kindInitial || t.kind == kindLegal {
			qbest[i] = 1
		}
		qw += p.weights[i] * qbest[i]
	}
	for j, t := range n.toks {
		if t.kind == kindInitial || t.kind == kindLegal {
			nbest[j] = 1
		} else if nbest[j] > 0 {
			words++
		}
		nw += n.weights[j] * nbest[j]
	}
	return boundScore(min(1, qw/p.total), min(1, nw/n.total), words >= minNameSideWords)
}

// boundScore is the score formula of align without its reducing factors: given upper bounds of
// the query and name coverages, it bounds the score.
func boundScore(qb, nb float64, nameSide bool) float64 {
	ub := qb * (1 - queryLambda*(1-nb))
	if nameSide {
		ub = max(ub, nb*(1-nameLambda*(1-qb)))
	}
	return ub
}

// topScores tracks the best score of the entries currently in the results, to know the score a
// candidate must beat.
type topScores struct {
	entries []int32
	scores  []float64 // descending
}

// floor is the score to beat: the limit-th best so far, or 0 while the results are not full.
func (t *topScores) floor(limit int) float64 {
	if len(t.scores) < limit {
		return 0
	}
	return t.scores[limit-1]
}

// set records an entry's improved best score.
func (t *topScores) set(entry int32, score float64, limit int) {
	if i := slices.Index(t.entries, entry); i >= 0 {
		t.entries = slices.Delete(t.entries, i, i+1)
		t.scores = slices.Delete(t.scores, i, i+1)
	}
	i, _ := slices.BinarySearchFunc(t.scores, score, func(a, b float64) int {
		if a > b {
			return -1
		}
		if a < b {
			return 1
		}
		return 0
	})
	t.entries = slices.Insert(t.entries, i, entry)
	t.scores = slices.Insert(t.scores, i, score)
	if len(t.scores) > limit {
		t.entries, t.scores = t.entries[:limit], t.scores[:limit]
	}
}
