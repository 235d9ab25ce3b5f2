package cache

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// MustReplicas opens two caches on one Redis prefix: two replicas of the service. Their
// in-process level lives a minute, so what drops a copy in these tests is a message, not a TTL.
func MustReplicas(t *testing.T) (a, b *Cache) {
	t.Helper()
	url := MustRedisURL(t)
	prefix := MustPrefix(t, url)
	opts := testOptions()
	opts.L1TTL = time.Minute
	return MustOpen(t, url, prefix, opts), MustOpen(t, url, prefix, opts)
}

// inL1 reports whether the namespace holds a live in-process copy of id.
func inL1(n *Namespace, id string) bool {
	_, ok := n.l1.get(id)
	return ok
}

func TestInvalidateReachesOtherReplicas(t *testing.T) {
	a, b := MustReplicas(t)
	ctx := context.Background()
	na, nb := a.Namespace("score", time.Hour), b.Namespace("score", time.Hour)
	fa, fb := &counting{value: "A"}, &counting{value: "B"}
	for _, id := range []string{"C1", "C2"} {
		na.GetOrCompute(ctx, id, fa.compute)
		nb.GetOrCompute(ctx, id, fb.compute)
	}
	if !inL1(nb, "C1") || !inL1(nb, "C2") || fb.calls.Load() != 0 {
		t.Fatalf("setup: B holds C1 %v, C2 %v, computed %d (want both from Redis)", inL1(nb, "C1"), inL1(nb, "C2"), fb.calls.Load())
	}

	na.Invalidate(ctx, "C1")
	if inL1(na, "C1") {
		t.Error("A still holds C1 right after its own Invalidate")
	}
	MustEventually(t, 2*time.Second, "B drops its copy of C1", func() bool { return !inL1(nb, "C1") })
	if v, _ := nb.GetOrCompute(ctx, "C1", fb.compute); string(v) != "B#1" {
		t.Errorf("B after the invalidation = %q, want its own fresh compute B#1", v)
	}
	if !inL1(nb, "C2") {
		t.Error("B dropped C2, which nobody invalidated")
	}
	if v, _ := na.GetOrCompute(ctx, "C1", fa.compute); string(v) != "B#1" {
		t.Errorf("A after B recomputed = %q, want B#1 from Redis", v)
	}
}

func TestInvalidateAllByGeneration(t *testing.T) {
	a, b := MustReplicas(t)
	ctx := context.Background()
	na, nb := a.Namespace("score", time.Hour), b.Namespace("score", time.Hour)
	f := &counting{value: "v"}
	ids := []string{"C1", "C2", "C3"}
	for _, id := range ids {
		na.GetOrCompute(ctx, id, f.compute)
		nb.GetOrCompute(ctx, id, f.compute)
	}
	gen := a.rdb.Get(ctx, na.keyGen).Val()

	na.InvalidateAll(ctx)
	MustEventually(t, 2*time.Second, "B drops every copy", func() bool { return nb.l1.len() == 0 })
	if g := a.rdb.Get(ctx, na.keyGen).Val(); g == gen {
		t.Errorf("generation still %q after InvalidateAll", g)
	}
	for _, id := range ids {
		// No scan: the old values are still in Redis, unreachable under the new generation.
		if a.rdb.Exists(ctx, na.keyVal+id).Val() != 1 {
			t.Errorf("the old value of %s was deleted; InvalidateAll must not scan", id)
		}
		if v, ok := nb.Get(ctx, id); ok {
			t.Errorf("B still answers %s = %q after InvalidateAll", id, v)
		}
	}
	before := f.calls.Load()
	for _, id := range ids {
		nb.GetOrCompute(ctx, id, f.compute)
	}
	if got := f.calls.Load() - before; got != int64(len(ids)) {
		t.Errorf("%d computes after InvalidateAll, want %d", got, len(ids))
	}
}

// A replica that missed the generation message (lost on the way) still refuses the old values
// once its in-process copies are gone: the generation is read with each value.
func TestMissedGenerationMessage(t *testing.T) {
	url := MustRedisURL(t)
	opts := testOptions()
	opts.L1TTL = 200 * time.Millisecond
	c := MustOpen(t, url, MustPrefix(t, url), opts)
	ns := c.Namespace("score", time.Hour)
	ctx := context.Background()
	f := &counting{value: "v"}
	ns.GetOrCompute(ctx, "C1", f.compute)
	c.rdb.Incr(ctx, ns.keyGen) // another replica's InvalidateAll whose message never came
	time.Sleep(300 * time.Millisecond)
	if v, _ := ns.GetOrCompute(ctx, "C1", f.compute); string(v) != "v#2" {
		t.Errorf("after a missed generation bump = %q, want a recomputed v#2", v)
	}
}

// The race stamps exist for: a compute starts from old data, the data changes and is
// invalidated, and the slow compute finishes after. Its value must not be served afterwards,
// here or on another replica (the caller that asked before the change gets it, which is fine).
func TestFillRacingAnInvalidationIsNotServed(t *testing.T) {
	for _, all := range []bool{false, true} {
		t.Run(fmt.Sprintf("InvalidateAll=%v", all), func(t *testing.T) {
			a, b := MustReplicas(t)
			ctx := context.Background()
			na, nb := a.Namespace("score", time.Hour), b.Namespace("score", time.Hour)
			started, release := make(chan struct{}), make(chan struct{})
			slow := func(context.Context) ([]byte, error) {
				close(started)
				<-release
				return []byte("old"), nil
			}
			got := make(chan string)
			go func() {
				v, _ := na.GetOrCompute(ctx, "C1", slow)
				got <- string(v)
			}()
			<-started
			heard := receivedBy(t, a)
			if all {
				nb.InvalidateAll(ctx)
			} else {
				nb.Invalidate(ctx, "C1")
			}
			// A must have heard of it before the slow compute ends, as in the real race.
			MustEventually(t, 2*time.Second, "A hears of the invalidation", func() bool { return receivedBy(t, a) > heard })
			close(release)
			if v := <-got; v != "old" {
				t.Fatalf("the racing caller got %q, want old", v)
			}
			f := &counting{value: "new"}
			for name, n := range map[string]*Namespace{"A": na, "B": nb} {
				if v, _ := n.GetOrCompute(ctx, "C1", f.compute); string(v) == "old" {
					t.Errorf("replica %s serves the value computed before the invalidation", name)
				}
			}
		})
	}
}

// receivedBy counts the bus messages a replica received from Redis.
func receivedBy(t *testing.T, c *Cache) float64 {
	t.Helper()
	return metricValue(t, c.metrics.published.WithLabelValues("received"))
}

// Invalidating many ids at once (an import) goes through in chunks and reaches the other replica.
func TestInvalidateManyIDs(t *testing.T) {
	a, b := MustReplicas(t)
	ctx := context.Background()
	na, nb := a.Namespace("score", time.Hour), b.Namespace("score", time.Hour)
	f := &counting{value: "v"}
	ids := make([]string, 3*invalidateChunk+7)
	for i := range ids {
		ids[i] = fmt.Sprintf("C%04d", i)
		nb.GetOrCompute(ctx, ids[i], f.compute)
	}
	na.Invalidate(ctx, ids...)
	MustEventually(t, 2*time.Second, "B drops every invalidated copy", func() bool {
		for _, id := range ids {
			if inL1(nb, id) {
				return false
			}
		}
		return true
	})
	for _, id := range []string{ids[0], ids[len(ids)-1]} {
		if _, ok := nb.Get(ctx, id); ok {
			t.Errorf("%s is still served after Invalidate", id)
		}
	}
}

// Writers change a fake database and invalidate through either replica while readers on both
// fill and read concurrently. Once the writers stop, both replicas must converge on the latest
// data within message delivery (their L1 lives a minute, so only invalidations can get them
// there), whatever fills raced whatever invalidations.
func TestConcurrentWritersLeaveNoStaleValue(t *testing.T) {
	a, b := MustReplicas(t)
	ctx := context.Background()
	replicas := []*Namespace{a.Namespace("score", time.Hour), b.Namespace("score", time.Hour)}
	const ids = 8
	var versions [ids]atomic.Int64
	var generation atomic.Int64
	compute := func(i int) func(context.Context) ([]byte, error) {
		return func(context.Context) ([]byte, error) {
			v, g := versions[i].Load(), generation.Load()
			time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond) // a fill slow enough to race
			return fmt.Appendf(nil, "%d/%d", v, g), nil
		}
	}
	stop := make(chan struct{})
	var readers, writers sync.WaitGroup
	for r := range 8 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			ns := replicas[r%2]
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := rand.IntN(ids)
				if _, err := ns.GetOrCompute(ctx, strconv.Itoa(i), compute(i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for w := range 2 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			ns := replicas[w]
			for n := range 150 {
				if n%50 == 10 { // never last: the final writes are per id
					generation.Add(1) // a model change: everything differs
					ns.InvalidateAll(ctx)
				} else {
					i := rand.IntN(ids)
					versions[i].Add(1) // the commit, then the invalidation
					ns.Invalidate(ctx, strconv.Itoa(i))
				}
				time.Sleep(time.Duration(rand.IntN(500)) * time.Microsecond)
			}
		}()
	}
	writers.Wait()
	close(stop)
	readers.Wait()
	for r, ns := range replicas {
		for i := range ids {
			want := fmt.Sprintf("%d/%d", versions[i].Load(), generation.Load())
			MustEventually(t, 2*time.Second, fmt.Sprintf("replica %d serves %s for id %d", r, want, i), func() bool {
				got, _ := ns.GetOrCompute(ctx, strconv.Itoa(i), compute(i))
				return string(got) == want
			})
		}
	}
}
