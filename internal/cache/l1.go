package cache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// l1Shards spreads the lock of the in-process level over shards so concurrent readers of
// different ids do not share one mutex.
const l1Shards = 16

// l1 is the in-process level: a bounded map per namespace, with a TTL per entry.
//
// Coherence with invalidations that race a fill (a value read or computed before an
// invalidation and stored after it) is kept by marks: a fill takes a mark (epoch, seq) before it
// reads, and put refuses the value when the epoch moved (flush, InvalidateAll) or when the id
// was invalidated after the mark (a tombstone with a later seq). Tombstones are dropped only by
// a later put, a flush or eviction; eviction raises the shard's lost mark, so a fill older than
// a forgotten tombstone is refused too. A stale value therefore never enters through a race.
type l1 struct {
	ttl      time.Duration // the longest an entry lives here
	perShard int           // capacity of each shard
	now      func() int64  // monotonic nanoseconds; replaced in tests
	seed     maphash.Seed
	epoch    atomic.Uint64 // bumped by flush
	seq      atomic.Uint64 // bumped by every invalidation
	shards   [l1Shards]l1Shard
}

type l1Shard struct {
	mu   sync.RWMutex
	m    map[string]l1Entry
	lost uint64 // the highest seq of a tombstone evicted from this shard
	_    [32]byte
}

// l1Entry is a value, or a tombstone (val nil, tomb > 0) left by an invalidation.
type l1Entry struct {
	val  []byte
	exp  int64
	tomb uint64
}

// l1Mark is taken before a fill reads Redis or computes; put compares it with what happened since.
type l1Mark struct{ epoch, seq uint64 }

var monoStart = time.Now()

func monotonic() int64 { return int64(time.Since(monoStart)) }

func newL1(ttl time.Duration, size int) *l1 {
	per := max(size/l1Shards, 1)
	s := &l1{ttl: ttl, perShard: per, now: monotonic, seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = make(map[string]l1Entry)
	}
	return s
}

func (s *l1) shard(id string) *l1Shard {
	return &s.shards[maphash.String(s.seed, id)%l1Shards]
}

// get answers a live value; tombstones and expired entries are misses.
func (s *l1) get(id string) ([]byte, bool) {
	sh := s.shard(id)
	sh.mu.RLock()
	e, ok := sh.m[id]
	sh.mu.RUnlock()
	if !ok || e.val == nil || e.exp <= s.now() {
		return nil, false
	}
	return e.val, true
}

func (s *l1) mark() l1Mark { return l1Mark{epoch: s.epoch.Load(), seq: s.seq.Load()} }

// put stores val for at most ttl (capped by the level's TTL) unless an invalidation or a flush
// happened since m was taken. It reports whether the value was stored.
func (s *l1) put(id string, val []byte, ttl time.Duration, m l1Mark) bool {
	if val == nil {
		val = []byte{} // nil marks a tombstone
	}
	ttl = min(ttl, s.ttl)
	sh := s.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if s.epoch.Load() != m.epoch || sh.lost > m.seq {
		return false
	}
	old, exists := sh.m[id]
	if exists && old.tomb > m.seq {
		return false
	}
	if !exists && len(sh.m) >= s.perShard {
		s.evict(sh)
	}
	sh.m[id] = l1Entry{val: val, exp: s.now() + int64(ttl)}
	return true
}

// invalidate replaces the ids by tombstones, so a fill that started before cannot store them.
func (s *l1) invalidate(ids []string) {
	seq := s.seq.Add(1)
	for _, id := range ids {
		sh := s.shard(id)
		sh.mu.Lock()
		if _, exists := sh.m[id]; !exists && len(sh.m) >= s.perShard {
			s.evict(sh)
		}
		sh.m[id] = l1Entry{tomb: seq}
		sh.mu.Unlock()
	}
}

// flush forgets everything: the epoch moves first, so a fill racing the flush is refused.
func (s *l1) flush() {
	s.epoch.Add(1)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		clear(sh.m)
		sh.mu.Unlock()
	}
}

// len counts entries and tombstones (tests and metrics).
func (s *l1) len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

// evict makes room in a full shard (its lock held): expired values first, then an arbitrary
// eighth of the shard (map order is random in Go, which is as good as sampling here).
func (s *l1) evict(sh *l1Shard) {
	now := s.now()
	for id, e := range sh.m {
		if e.val != nil && e.exp <= now {
			delete(sh.m, id)
		}
	}
	if len(sh.m) < s.perShard {
		return
	}
	drop := max(s.perShard/8, 1)
	for id, e := range sh.m {
		if drop == 0 {
			break
		}
		if e.tomb > sh.lost {
			sh.lost = e.tomb
		}
		delete(sh.m, id)
		drop--
	}
}
