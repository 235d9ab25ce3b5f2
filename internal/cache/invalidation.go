package cache

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"sync"
)

// invalidationTopic carries invalidations between replicas, so each drops its in-process copies.
const invalidationTopic = "cache.invalidate"

// pendingCap bounds the invalidations kept while Redis is down; past it the whole namespace is
// invalidated on recovery, which is correct and cheaper than remembering every id.
const pendingCap = 10_000

// invalidation is the message on invalidationTopic.
type invalidation struct {
	Origin    string   `json:"origin"`
	Namespace string   `json:"ns"`
	IDs       []string `json:"ids,omitempty"`
	All       bool     `json:"all,omitempty"`
	Gen       int64    `json:"gen,omitempty"`
}

func encodeInvalidation(origin, ns string, ids []string, all bool, gen int64) []byte {
	b, err := json.Marshal(invalidation{Origin: origin, Namespace: ns, IDs: ids, All: all, Gen: gen})
	if err != nil {
		panic(err) // strings and numbers always marshal
	}
	return b
}

// onInvalidation applies another replica's invalidation to this one's in-process level. A gap
// (the subscription was lost and is back) may hide any number of messages: everything goes.
func (c *Cache) onInvalidation(m Message) {
	if m.Gap {
		for _, n := range c.namespaces() {
			n.flushLocal()
		}
		return
	}
	var inv invalidation
	if err := json.Unmarshal(m.Payload, &inv); err != nil {
		c.log.Warn("cache: ignoring a malformed invalidation message", "error", err)
		return
	}
	if inv.Origin == c.origin {
		return // applied locally before it was published
	}
	n := c.namespace(inv.Namespace)
	if n == nil || n.l1 == nil {
		return
	}
	if inv.All {
		n.flushLocal()
		if g := n.gen.Load(); inv.Gen > g {
			n.gen.CompareAndSwap(g, inv.Gen)
		}
		return
	}
	n.l1.invalidate(inv.IDs)
}

// pending holds the invalidations of a namespace that Redis did not take.
type pending struct {
	mu  sync.Mutex
	ids map[string]struct{}
	all bool
}

func (p *pending) add(ids []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.all {
		return
	}
	if p.ids == nil {
		p.ids = make(map[string]struct{})
	}
	for _, id := range ids {
		p.ids[id] = struct{}{}
	}
	if len(p.ids) > pendingCap {
		p.all, p.ids = true, nil
	}
}

func (p *pending) setAll() {
	p.mu.Lock()
	p.all, p.ids = true, nil
	p.mu.Unlock()
}

// take empties the set and answers what it held.
func (p *pending) take() (ids []string, all bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids, all = slices.Collect(maps.Keys(p.ids)), p.all
	p.ids, p.all = nil, false
	return ids, all
}

func (p *pending) empty() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.all && len(p.ids) == 0
}

// replayPending writes the invalidations that Redis missed. What fails goes back in the set.
func (c *Cache) replayPending(ctx context.Context) error {
	for _, n := range c.namespaces() {
		if n.pend.empty() {
			continue
		}
		ids, all := n.pend.take()
		if all {
			if err := n.writeGeneration(ctx); err != nil {
				n.pend.setAll()
				return err
			}
			n.flushLocal()
			continue
		}
		if err := n.writeInvalidation(ctx, ids); err != nil {
			n.pend.add(ids)
			return err
		}
		if n.l1 != nil {
			n.l1.invalidate(ids)
		}
	}
	return nil
}
