package decision

import (
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
)

// DefaultResidualCacheSize is the number of client states an engine keeps when
// Options.ResidualCacheSize is 0. A client state with its residual takes about 100 KB (measured
// on the default policy), so the default cache holds about 100 MB at most.
const DefaultResidualCacheSize = 1024

// ResidualStats says how an engine's evaluations were served, for metrics.
type ResidualStats struct {
	// Residual evaluations were served by a pre-evaluated residual; Full ones by the whole policy
	// (a client state seen once, a residual still being built, or a fallback).
	Residual, Full int64
	// Built residuals; Fallbacks are client states whose pre-evaluation failed or could not stand
	// alone (see engine_residual.go), decided by full evaluation while they stay cached.
	Built, Fallbacks int64
	// Evicted client states, least recently used first; Entries are cached now.
	Evicted int64
	Entries int
}

// clientState is one known part of the input (every section but now, today, quote, exposure),
// kept with its OPA terms and, once built, its residual.
type clientState struct {
	key   string
	known [][2]*ast.Term // the known sections, key and value
	seen  atomic.Int64
	// residual is nil until built; then its query, or a nil query for a fallback.
	residual   atomic.Pointer[residualResult]
	prev, next *clientState // LRU list, most recent first
}

type residualResult struct {
	q   *query
	err error
}

// input is the complete input document: the state's known sections and the request's.
func (s *clientState) input(request [][2]*ast.Term) *ast.Term {
	pairs := make([][2]*ast.Term, 0, len(s.known)+len(request))
	pairs = append(pairs, s.known...)
	pairs = append(pairs, request...)
	return ast.NewTerm(ast.NewObject(pairs...))
}

// knownObject is the known part as the partial evaluator takes it.
func (s *clientState) knownObject() ast.Object { return ast.NewObject(s.known...) }

// stateCache is a bounded LRU of client states keyed by their exact key.
type stateCache struct {
	mu         sync.Mutex
	size       int
	byKey      map[string]*clientState
	head, tail *clientState

	residual, full, built, fallbacks, evicted atomic.Int64
}

func newStateCache(size int) *stateCache {
	return &stateCache{size: size, byKey: make(map[string]*clientState, size)}
}

// get returns the state of key, made by known on first sight, and counts the sighting.
func (c *stateCache) get(key []byte, known func() [][2]*ast.Term) *clientState {
	c.mu.Lock()
	s, ok := c.byKey[string(key)]
	if ok {
		c.unlink(s)
		c.pushFront(s)
		c.mu.Unlock()
		s.seen.Add(1)
		return s
	}
	c.mu.Unlock()
	// Building the terms takes longer than everything else here: not under the lock. Two callers
	// racing on a new key both build; the first one stored wins.
	s = &clientState{key: string(key), known: known()}
	s.seen.Store(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.byKey[s.key]; ok {
		prev.seen.Add(1)
		return prev
	}
	c.byKey[s.key] = s
	c.pushFront(s)
	for len(c.byKey) > c.size {
		old := c.tail
		c.unlink(old)
		delete(c.byKey, old.key)
		c.evicted.Add(1)
	}
	return s
}

func (c *stateCache) pushFront(s *clientState) {
	s.prev, s.next = nil, c.head
	if c.head != nil {
		c.head.prev = s
	}
	c.head = s
	if c.tail == nil {
		c.tail = s
	}
}

func (c *stateCache) unlink(s *clientState) {
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		c.head = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	} else {
		c.tail = s.prev
	}
	s.prev, s.next = nil, nil
}

func (c *stateCache) stats() ResidualStats {
	c.mu.Lock()
	n := len(c.byKey)
	c.mu.Unlock()
	return ResidualStats{
		Residual: c.residual.Load(), Full: c.full.Load(),
		Built: c.built.Load(), Fallbacks: c.fallbacks.Load(),
		Evicted: c.evicted.Load(), Entries: n,
	}
}
