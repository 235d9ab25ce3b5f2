package policy

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/credorisk/credo/internal/decision"
)

// DefaultKeepEngines is how many compiled versions an Engines keeps: the active one and the one
// before it, so that a rollback swaps at once. Each serving engine holds its residual cache (up
// to about 100 MB), which is why no more are kept.
const DefaultKeepEngines = 2

// Engines compiles versions once and keeps the most recently used ones. Versions are immutable,
// so a version's number is enough to key its engine; a version that does not compile is
// remembered as such (it never will), a store error is not.
type Engines struct {
	store Store
	opts  decision.Options
	keep  int

	mu      sync.Mutex
	entries map[int]*engineEntry
	tick    uint64
}

type engineEntry struct {
	ready  chan struct{} // closed when policy and err are set
	policy *decision.Policy
	err    error
	used   uint64
}

// NewEngines returns a cache of compiled versions read from store; keep <= 0 means
// DefaultKeepEngines.
func NewEngines(store Store, opts decision.Options, keep int) *Engines {
	if keep <= 0 {
		keep = DefaultKeepEngines
	}
	return &Engines{store: store, opts: opts, keep: keep, entries: map[int]*engineEntry{}}
}

// Get returns version compiled, compiling it at most once however many callers ask together.
func (e *Engines) Get(ctx context.Context, version int) (*decision.Policy, error) {
	e.mu.Lock()
	e.tick++
	ent, ok := e.entries[version]
	if ok {
		ent.used = e.tick
		e.mu.Unlock()
		select {
		case <-ent.ready:
			return ent.policy, ent.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	ent = &engineEntry{ready: make(chan struct{}), used: e.tick}
	e.entries[version] = ent
	e.mu.Unlock()

	// The compile runs on its own context: a caller giving up must not fail the others waiting.
	ent.policy, ent.err = e.compile(context.WithoutCancel(ctx), version)
	close(ent.ready)

	e.mu.Lock()
	var ce *decision.CompileError
	if ent.err != nil && !errors.As(ent.err, &ce) {
		delete(e.entries, version) // a store error may pass: try again next time
	}
	e.evict()
	e.mu.Unlock()
	return ent.policy, ent.err
}

func (e *Engines) compile(ctx context.Context, version int) (*decision.Policy, error) {
	v, err := e.store.Get(ctx, version)
	if err != nil {
		return nil, err
	}
	eng, err := decision.Compile(ctx, v.Modules, v.Data, e.opts)
	if err != nil {
		return nil, fmt.Errorf("compile policy version %d: %w", version, err)
	}
	// The content hash was computed when the version was created: a different one now means the
	// stored modules or data are not what was validated and tested.
	if eng.Hash() != v.Hash {
		return nil, fmt.Errorf("policy version %d: its content hashes to %s, but %s was recorded when it was created", version, eng.Hash(), v.Hash)
	}
	return &decision.Policy{Version: version, Engine: eng}, nil
}

// evict drops the least recently used finished entries beyond keep.
func (e *Engines) evict() {
	for len(e.entries) > e.keep {
		oldest, found := 0, false
		var least uint64
		for v, ent := range e.entries {
			select {
			case <-ent.ready:
			default:
				continue // being compiled: someone is waiting for it
			}
			if !found || ent.used < least {
				oldest, least, found = v, ent.used, true
			}
		}
		if !found {
			return
		}
		delete(e.entries, oldest)
	}
}
