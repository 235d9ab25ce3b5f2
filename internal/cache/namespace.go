package cache

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Namespace is one kind of cached value (scores, say), keyed by id. Values are bytes (the
// caller marshals them, usually to the JSON it will answer), so a hit is served without
// re-encoding. A value handed to the cache or returned by it is shared: never modify it.
type Namespace struct {
	c    *Cache
	name string
	ttl  time.Duration
	l1   *l1 // nil when the in-process level is disabled (Redis mode, L1TTL < 0)

	fills     flight // GetOrCompute: one read-or-compute per id at a time
	refreshes flight // Refresh: one recompute per id at a time
	gen       atomic.Int64
	pend      pending

	keyGen, keyVal, keyInv string

	hitL1, hitRedis, miss prometheus.Counter
}

func newNamespace(c *Cache, name string, ttl time.Duration) *Namespace {
	base := c.prefix + "c:" + name + ":"
	n := &Namespace{
		c: c, name: name, ttl: ttl,
		keyGen: base + "gen", keyVal: base + "v:", keyInv: base + "i:",
		hitL1:    c.metrics.lookups.WithLabelValues(name, "l1"),
		hitRedis: c.metrics.lookups.WithLabelValues(name, "redis"),
		miss:     c.metrics.lookups.WithLabelValues(name, "miss"),
	}
	n.gen.Store(-1) // no generation seen yet
	switch {
	case c.rdb == nil:
		n.l1 = newL1(ttl, c.opts.L1Size) // the in-process level is the whole cache
	case c.opts.L1TTL > 0:
		n.l1 = newL1(min(ttl, c.opts.L1TTL), c.opts.L1Size)
	}
	return n
}

// Name is the namespace's name.
func (n *Namespace) Name() string { return n.name }

// TTL is how long a value lives in Redis (or in process without Redis).
func (n *Namespace) TTL() time.Duration { return n.ttl }

// Get answers the cached value of id and whether there is one: from this process, else from
// Redis. Redis failing is a miss, never an error.
func (n *Namespace) Get(ctx context.Context, id string) ([]byte, bool) {
	var m l1Mark
	if n.l1 != nil {
		if v, ok := n.l1.get(id); ok {
			n.hitL1.Inc()
			return v, true
		}
		m = n.l1.mark()
	}
	if _, v, hit, _ := n.readRemote(ctx, id, true); hit {
		n.hitRedis.Inc()
		n.putLocal(id, v, n.ttl, m)
		return v, true
	}
	n.miss.Inc()
	return nil, false
}

// Set stores value for id for ttl (the namespace TTL when ttl <= 0 or longer). Prefer
// GetOrCompute: Set cannot know whether value was computed before an invalidation of id.
func (n *Namespace) Set(ctx context.Context, id string, value []byte, ttl time.Duration) {
	if ttl <= 0 || ttl > n.ttl {
		ttl = n.ttl
	}
	var m l1Mark
	if n.l1 != nil {
		m = n.l1.mark()
	}
	if st, _, _, ok := n.readRemote(ctx, id, false); ok {
		n.writeRemote(ctx, id, value, st, ttl)
	}
	n.putLocal(id, value, ttl, m)
}

// GetOrCompute answers the cached value of id, or computes, stores and answers it. Concurrent
// calls for one id in this process share one Redis read and one compute (there is no lock
// across replicas: README.md says why). A compute error is returned and nothing is stored; a
// Redis failure is never returned. The first caller runs compute, on a context that survives
// that caller giving up as long as another caller still waits for the same id (so the first
// caller waits for its compute; the others return when their context ends).
func (n *Namespace) GetOrCompute(ctx context.Context, id string, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	if n.l1 != nil {
		if v, ok := n.l1.get(id); ok {
			n.hitL1.Inc()
			return v, nil
		}
	}
	return n.fills.do(ctx, id, func(ctx context.Context) ([]byte, error) {
		var m l1Mark
		if n.l1 != nil {
			// The mark comes before any read: an invalidation after it keeps this fill out of L1.
			m = n.l1.mark()
			if v, ok := n.l1.get(id); ok { // filled while this call waited to start
				n.hitL1.Inc()
				return v, nil
			}
		}
		st, v, hit, redisOK := n.readRemote(ctx, id, true)
		if hit {
			n.hitRedis.Inc()
			n.putLocal(id, v, n.ttl, m)
			return v, nil
		}
		n.miss.Inc()
		return n.compute(ctx, id, compute, st, redisOK, m)
	})
}

// Refresh computes the value of id again and stores it, whatever is cached (a caller's
// ?refresh=true). Concurrent refreshes of one id in this process share one compute.
func (n *Namespace) Refresh(ctx context.Context, id string, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	return n.refreshes.do(ctx, id, func(ctx context.Context) ([]byte, error) {
		var m l1Mark
		if n.l1 != nil {
			m = n.l1.mark()
		}
		st, _, _, redisOK := n.readRemote(ctx, id, false)
		return n.compute(ctx, id, compute, st, redisOK, m)
	})
}

// compute runs the caller's compute and stores its result under the stamps read before it, so a
// value computed from data that an invalidation since replaced is unreachable once stored.
func (n *Namespace) compute(ctx context.Context, id string, compute func(context.Context) ([]byte, error), st stamp, redisOK bool, m l1Mark) ([]byte, error) {
	v, err := compute(ctx)
	if err != nil {
		return nil, err
	}
	if redisOK {
		n.writeRemote(ctx, id, v, st, n.ttl)
	}
	n.putLocal(id, v, n.ttl, m)
	return v, nil
}

// Invalidate drops the cached values of ids, here and on every replica; call it after the
// commit that changed them. On return this replica no longer serves the old values; other
// replicas drop theirs when the message reaches them (README.md: coherence). Redis failing is
// not returned: the invalidation is kept and written when Redis answers again.
func (n *Namespace) Invalidate(ctx context.Context, ids ...string) {
	if len(ids) == 0 {
		return
	}
	if n.l1 != nil {
		n.l1.invalidate(ids)
	}
	if n.c.rdb == nil {
		return
	}
	if !n.c.redisOn() {
		n.pend.add(ids)
		return
	}
	// The commit is done: the caller leaving must not cancel the invalidation.
	ctx = context.WithoutCancel(ctx)
	if err := n.writeInvalidation(ctx, ids); err != nil {
		n.pend.add(ids)
		n.c.failed(ctx, err, true)
	}
	if n.l1 != nil {
		// Again after Redis: a fill that read the old value just before the write, with a mark
		// taken after the first tombstone, is refused now.
		n.l1.invalidate(ids)
	}
}

// InvalidateAll makes every value of the namespace unreachable, here and on every replica (a
// model change, a list refresh), by bumping its generation: no scan, old entries expire by TTL.
func (n *Namespace) InvalidateAll(ctx context.Context) {
	n.flushLocal()
	if n.c.rdb == nil {
		return
	}
	if !n.c.redisOn() {
		n.pend.setAll()
		return
	}
	ctx = context.WithoutCancel(ctx)
	if err := n.writeGeneration(ctx); err != nil {
		n.pend.setAll()
		n.c.failed(ctx, err, true)
	}
	n.flushLocal() // again after Redis, for a fill that read the old generation meanwhile
}

func (n *Namespace) putLocal(id string, v []byte, ttl time.Duration, m l1Mark) {
	if n.l1 != nil {
		n.l1.put(id, v, ttl, m)
	}
}

func (n *Namespace) flushLocal() {
	if n.l1 != nil {
		n.l1.flush()
	}
}

// noteGen mirrors the generation read from Redis. A change this replica did not make (its
// message lost) flushes the in-process level; so does a reset (Redis restarted empty).
func (n *Namespace) noteGen(g int64) {
	for {
		old := n.gen.Load()
		if old == g {
			return
		}
		if n.gen.CompareAndSwap(old, g) {
			if old != -1 {
				n.flushLocal()
			}
			return
		}
	}
}
