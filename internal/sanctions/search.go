package sanctions

import (
	"slices"
	"strings"

	"github.com/credorisk/credo/internal/fault"
)

// Search bounds and defaults.
const (
	DefaultLimit    = 10
	MaxLimit        = 100
	DefaultMinScore = 0.70
)

// Adjustments applied when both the query and the entry know the fact.
const (
	typeMismatchPerson = -0.15 // a person against a company, vessel or aircraft, or the reverse
	typeMismatchOther  = -0.10 // a company against a vessel or an aircraft
	countryMatch       = 0.03
	countryMismatch    = -0.05
	birthYearMatch     = 0.05  // within a year of a listed birth date
	birthYearNear      = -0.05 // two to four years off
	birthYearFar       = -0.15 // five years or more off every listed date
	maxBonus           = countryMatch + birthYearMatch
)

// errNotLoaded answers a search before any list is loaded: screening against nothing would
// clear everybody.
var errNotLoaded = fault.Errorf(fault.Unavailable, "sanctions lists are not loaded")

// Query is one name screening request.
type Query struct {
	Name      string    `json:"name"`
	Type      EntryType `json:"type,omitempty"`
	Country   string    `json:"country,omitempty"` // ISO alpha-2
	BirthYear int       `json:"birth_year,omitempty"`
	Limit     int       `json:"limit,omitempty"`     // 0: DefaultLimit
	MinScore  float64   `json:"min_score,omitempty"` // 0: DefaultMinScore
}

// Match is one listed entry found for a query, with the name that matched best.
type Match struct {
	Entry        Entry        `json:"entry"` // shares its slices with the index: read only
	MatchedName  string       `json:"matched_name"`
	NameStrength NameStrength `json:"name_strength"`
	Score        float64      `json:"score"`
	Explanation  Explanation  `json:"explanation"`
}

// Explanation says why a name scored what it did.
type Explanation struct {
	NormalizedQuery string       `json:"normalized_query"`
	NormalizedName  string       `json:"normalized_name"`
	Tokens          []TokenMatch `json:"tokens"`
	UnmatchedQuery  []string     `json:"unmatched_query,omitempty"`
	UnmatchedName   []string     `json:"unmatched_name,omitempty"`
	QueryCoverage   float64      `json:"query_coverage"` // weighted share of the query matched
	NameCoverage    float64      `json:"name_coverage"`  // weighted share of the listed name matched
	NameScore       float64      `json:"name_score"`     // the score from the names alone
	NumberConflict  bool         `json:"number_conflict,omitempty"`
	WeakAlias       bool         `json:"weak_alias,omitempty"`
	Adjustments     []Adjustment `json:"adjustments,omitempty"`
}

// TokenMatch pairs query words with listed words. How is exact, fuzzy (spelling variant or
// typo), joined (written as one word on one side), initial or legal_form.
type TokenMatch struct {
	Query      string  `json:"query"`
	Name       string  `json:"name"`
	Similarity float64 `json:"similarity"`
	How        string  `json:"how"`
}

// Adjustment is a change of the name score from a fact known on both sides.
type Adjustment struct {
	Reason string  `json:"reason"`
	Delta  float64 `json:"delta"`
}

// check validates the query and returns its effective limit and minimum score.
func (q *Query) check() (int, float64, error) {
	var fields []fault.FieldError
	if err := validateName("name", q.Name); err != nil {
		return 0, 0, err
	}
	if q.Type != "" && !q.Type.Valid() {
		fields = append(fields, fault.Field("type", "must be one of person, entity, vessel, aircraft"))
	}
	if q.Country != "" && !isCountryCode(q.Country) {
		fields = append(fields, fault.Field("country", "must be an ISO 3166 alpha-2 code such as FR"))
	}
	if q.BirthYear != 0 && (q.BirthYear < 1850 || q.BirthYear > 2100) {
		fields = append(fields, fault.Field("birth_year", "must be a year between 1850 and 2100"))
	}
	limit := q.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		fields = append(fields, fault.Field("limit", "must be between 1 and %d", MaxLimit))
	}
	minScore := q.MinScore
	switch {
	case minScore == 0:
		minScore = DefaultMinScore
	case minScore < 0 || minScore > 1:
		fields = append(fields, fault.Field("min_score", "must be between 0 and 1"))
	}
	if len(fields) > 0 {
		return 0, 0, fault.Validation("invalid screening query", fields...)
	}
	return limit, minScore, nil
}

// queryTokens normalises the query name and checks what is left of it.
func queryTokens(q *Query) ([]token, error) {
	toks := normalizeName(q.Name, q.Type)
	if len(toks) == 0 {
		return nil, fault.Validation("invalid name", fault.Field("name", "must contain letters or digits"))
	}
	if len(toks) > maxQueryTokens {
		return nil, fault.Validation("invalid name", fault.Field("name", "must have at most %d words, got %d", maxQueryTokens, len(toks)))
	}
	return toks, nil
}

type scored struct {
	name  int32
	a     alignment
	score float64
	adj   []Adjustment
}

// Search ranks the listed entries whose names match the query. Each entry appears once, with
// the name that scored best; the score includes the type, country and birth-year adjustments.
func (ix *Index) Search(q Query) ([]Match, error) {
	if ix == nil {
		return nil, errNotLoaded
	}
	limit, minScore, err := q.check()
	if err != nil {
		return nil, err
	}
	toks, err := queryTokens(&q)
	if err != nil {
		return nil, err
	}
	st := ix.getScratch()
	defer ix.putScratch(st)
	p := ix.plan(toks, st)
	ix.collect(p, st)

	type cand struct {
		name int32
		ub   float64
	}
	qMinor := 0.0 // query initials and legal forms count as matched in the bounds
	for i, t := range p.toks {
		if t.kind == kindInitial || t.kind == kindLegal {
			qMinor += p.weights[i]
		}
	}
	cands := make([]cand, 0, 64)
	for _, ni := range st.names {
		// The sums over all hits bound the coverages loosely but for free; the score formula
		// grows with both, so a name they rule out is ruled out.
		n := &ix.names[ni]
		qb := min(1, (float64(st.acc[ni])+qMinor)/p.total)
		nb := min(1, (float64(st.accN[ni])+n.minor)/n.total)
		if boundScore(qb, nb, true)+maxBonus < minScore {
			continue
		}
		if ub := ix.upperBound(p, st, ni); ub+maxBonus >= minScore {
			cands = append(cands, cand{ni, ub})
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if a.ub != b.ub {
			if a.ub > b.ub {
				return -1
			}
			return 1
		}
		return int(a.name - b.name)
	})

	best := map[int32]scored{}
	var top topScores
	var edges []edge
	for _, c := range cands {
		if c.ub+maxBonus < top.floor(limit) {
			break // no remaining name can enter the results
		}
		n := &ix.names[c.name]
		edges = edges[:0]
		for h := st.head[c.name]; h >= 0; h = st.hits[h].next {
			edges = append(edges, st.hits[h].e)
		}
		a := align(p, n, edges)
		score, adj := adjust(&q, &ix.entries[n.entry], a.score)
		if score < minScore {
			continue
		}
		if b, ok := best[n.entry]; !ok || score > b.score {
			best[n.entry] = scored{name: c.name, a: a, score: score, adj: adj}
			top.set(n.entry, score, limit)
		}
	}
	return ix.rank(p, best, limit), nil
}

// rank orders the best match of each entry: score, then name strength, then list and id, so that
// equal scores come out in a stable order.
func (ix *Index) rank(p *queryPlan, best map[int32]scored, limit int) []Match {
	order := make([]int32, 0, len(best))
	for e := range best {
		order = append(order, e)
	}
	srcRank := func(s Source) int { return slices.Index(Sources, s) }
	slices.SortFunc(order, func(a, b int32) int {
		sa, sb := best[a], best[b]
		if sa.score != sb.score {
			if sa.score > sb.score {
				return -1
			}
			return 1
		}
		na, nb := &ix.names[sa.name], &ix.names[sb.name]
		if ra, rb := strengthRank(na.strength), strengthRank(nb.strength); ra != rb {
			return ra - rb
		}
		ea, eb := &ix.entries[a], &ix.entries[b]
		if ea.Source != eb.Source {
			return srcRank(ea.Source) - srcRank(eb.Source)
		}
		return strings.Compare(ea.SourceID, eb.SourceID)
	})
	if len(order) > limit {
		order = order[:limit]
	}
	out := make([]Match, 0, len(order))
	for _, ei := range order {
		s := best[ei]
		n := &ix.names[s.name]
		e := ix.entries[ei]
		ex := explain(p, n, s.a)
		ex.Adjustments = s.adj
		out = append(out, Match{
			Entry:        e,
			MatchedName:  e.Names[n.name].Name,
			NameStrength: n.strength,
			Score:        round4(s.score),
			Explanation:  ex,
		})
	}
	return out
}

// adjust applies what the query and the entry both know: type, country, birth year.
func adjust(q *Query, e *Entry, score float64) (float64, []Adjustment) {
	var adj []Adjustment
	add := func(reason string, d float64) {
		adj = append(adj, Adjustment{Reason: reason, Delta: d})
		score += d
	}
	if q.Type != "" && e.Type != "" && q.Type != e.Type {
		if q.Type == TypePerson || e.Type == TypePerson {
			add("type "+string(q.Type)+" against listed "+string(e.Type), typeMismatchPerson)
		} else {
			add("type "+string(q.Type)+" against listed "+string(e.Type), typeMismatchOther)
		}
	}
	if q.Country != "" && len(e.Countries) > 0 {
		c := strings.ToUpper(q.Country)
		if slices.Contains(e.Countries, c) {
			add("country "+c+" listed", countryMatch)
		} else {
			add("country "+c+" not among "+strings.Join(e.Countries, ", "), countryMismatch)
		}
	}
	if q.BirthYear != 0 && len(e.BirthDates) > 0 {
		d := -1
		for _, b := range e.BirthDates {
			lo, hi := b.yearRange()
			dist := 0
			if q.BirthYear < lo {
				dist = lo - q.BirthYear
			} else if q.BirthYear > hi {
				dist = q.BirthYear - hi
			}
			if d < 0 || dist < d {
				d = dist
			}
		}
		switch {
		case d <= 1:
			add("birth year within a year of a listed date", birthYearMatch)
		case d >= 5:
			add("birth year five years or more from every listed date", birthYearFar)
		default:
			add("birth year two to four years from the listed dates", birthYearNear)
		}
	}
	return min(max(score, 0), 1), adj
}

// Compare scores one query against one name that need not be in the index, with the index's
// word statistics: it is how the quality report scores the pairs of OFAC's own search tool, and
// it checks the indexed search. typ is the listed party's type, "" when unknown.
func (ix *Index) Compare(q Query, name string, typ EntryType) (float64, Explanation, error) {
	if ix == nil {
		return 0, Explanation{}, errNotLoaded
	}
	if _, _, err := q.check(); err != nil {
		return 0, Explanation{}, err
	}
	toks, err := queryTokens(&q)
	if err != nil {
		return 0, Explanation{}, err
	}
	if err := validateName("name", name); err != nil {
		return 0, Explanation{}, err
	}
	st := ix.getScratch()
	defer ix.putScratch(st)
	p := ix.plan(toks, st)
	n := indexedName{toks: normalizeName(name, typ), strength: StrengthPrimary}
	n.weights = make([]float64, len(n.toks))
	for i, t := range n.toks {
		closest := int32(-1)
		if _, known := ix.vocabID[t.key]; !known && t.kind == kindWord {
			best := 0.0
			for _, m := range ix.lookupWord(t.key, t.kind, st) {
				if m.sim > best {
					best, closest = m.sim, m.id
				}
			}
		}
		n.weights[i] = ix.weightOf(t, closest)
		n.total += n.weights[i]
	}
	a := align(p, &n, bruteEdges(p, &n))
	return round4(a.score), explain(p, &n, a), nil
}
