package cache

import (
	"fmt"
	"testing"
	"time"
)

// newTestL1 is an l1 on a clock the test moves.
func newTestL1(ttl time.Duration, size int) (*l1, *int64) {
	s := newL1(ttl, size)
	now := new(int64)
	s.now = func() int64 { return *now }
	return s, now
}

func TestL1TTL(t *testing.T) {
	s, now := newTestL1(time.Second, 100)
	tests := []struct {
		name    string
		ttl     time.Duration
		advance time.Duration
		hit     bool
	}{
		{name: "fresh", ttl: time.Second, advance: 999 * time.Millisecond, hit: true},
		{name: "at expiry", ttl: time.Second, advance: time.Second, hit: false},
		{name: "shorter ttl of the value", ttl: 100 * time.Millisecond, advance: 150 * time.Millisecond, hit: false},
		{name: "ttl above the level's is capped", ttl: time.Hour, advance: 1500 * time.Millisecond, hit: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			*now = 0
			if !s.put(tt.name, []byte("v"), tt.ttl, s.mark()) {
				t.Fatal("put refused with a fresh mark")
			}
			*now = int64(tt.advance)
			if _, hit := s.get(tt.name); hit != tt.hit {
				t.Errorf("get after %s = hit %v, want %v", tt.advance, hit, tt.hit)
			}
		})
	}
}

// A fill that started before an invalidation must not store its value after it.
func TestL1MarksRefuseRacingFills(t *testing.T) {
	tests := []struct {
		name   string
		events func(s *l1) l1Mark // returns the mark the fill took
		stored bool
	}{
		{name: "no invalidation", events: func(s *l1) l1Mark { return s.mark() }, stored: true},
		{name: "invalidated before the mark", events: func(s *l1) l1Mark {
			s.invalidate([]string{"a"})
			return s.mark()
		}, stored: true},
		{name: "invalidated after the mark", events: func(s *l1) l1Mark {
			m := s.mark()
			s.invalidate([]string{"a"})
			return m
		}, stored: false},
		{name: "another id invalidated after the mark", events: func(s *l1) l1Mark {
			m := s.mark()
			s.invalidate([]string{"b"})
			return m
		}, stored: true},
		{name: "flushed after the mark", events: func(s *l1) l1Mark {
			m := s.mark()
			s.flush()
			return m
		}, stored: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestL1(time.Minute, 100)
			m := tt.events(s)
			if got := s.put("a", []byte("v"), time.Minute, m); got != tt.stored {
				t.Fatalf("put = %v, want %v", got, tt.stored)
			}
			if _, hit := s.get("a"); hit != tt.stored {
				t.Errorf("get hit = %v, want %v", hit, tt.stored)
			}
		})
	}
}

func TestL1InvalidateAndFlush(t *testing.T) {
	s, _ := newTestL1(time.Minute, 100)
	for _, id := range []string{"a", "b", "c"} {
		s.put(id, []byte(id), time.Minute, s.mark())
	}
	s.invalidate([]string{"a", "b"})
	for id, want := range map[string]bool{"a": false, "b": false, "c": true} {
		if _, hit := s.get(id); hit != want {
			t.Errorf("after invalidate(a, b): get(%s) hit = %v, want %v", id, hit, want)
		}
	}
	s.flush()
	if _, hit := s.get("c"); hit || s.len() != 0 {
		t.Errorf("after flush: get(c) hit = %v, %d entries left", hit, s.len())
	}
}

// The level never grows past its size; a tombstone it had to forget still refuses older fills.
func TestL1EvictionKeepsBoundAndSafety(t *testing.T) {
	s, _ := newTestL1(time.Minute, l1Shards*8)
	old := s.mark()
	s.invalidate([]string{"victim"})
	for i := range 10 * l1Shards * 8 {
		s.put(fmt.Sprintf("id-%d", i), []byte("v"), time.Minute, s.mark())
	}
	if n := s.len(); n > l1Shards*8 {
		t.Fatalf("%d entries for a size of %d", n, l1Shards*8)
	}
	sh := s.shard("victim")
	sh.mu.RLock()
	_, kept := sh.m["victim"]
	sh.mu.RUnlock()
	if kept {
		t.Skip("the tombstone survived eviction by chance; nothing to check")
	}
	if s.put("victim", []byte("stale"), time.Minute, old) {
		t.Error("a fill older than an evicted tombstone was stored")
	}
	if !s.put("victim", []byte("fresh"), time.Minute, s.mark()) {
		t.Error("a fill newer than the evicted tombstone was refused")
	}
}

// Eviction drops expired values before any live one.
func TestL1ExpiredEntriesGoFirst(t *testing.T) {
	s, now := newTestL1(time.Minute, l1Shards*64)
	sh := &s.shards[0]
	for i := range 64 {
		exp := int64(time.Second) // half expire at 1s, half live on
		if i%2 == 0 {
			exp = int64(time.Hour)
		}
		sh.m[fmt.Sprint(i)] = l1Entry{val: []byte("v"), exp: exp}
	}
	*now = int64(2 * time.Second)
	s.evict(sh)
	if len(sh.m) != 32 {
		t.Fatalf("%d entries after eviction, want the 32 live ones", len(sh.m))
	}
	for id, e := range sh.m {
		if e.exp <= *now {
			t.Errorf("expired entry %s survived while live ones were kept", id)
		}
	}
}
