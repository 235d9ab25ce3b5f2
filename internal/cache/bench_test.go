package cache

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// benchValue is about the size of a score answer with four reasons.
var benchValue = make([]byte, 900)

func benchCompute(context.Context) ([]byte, error) { return benchValue, nil }

// BenchmarkGetOrCompute measures one lookup: served from the in-process level, from Redis (the
// in-process level disabled), and a miss that reads Redis, computes (a constant here) and writes.
func BenchmarkGetOrCompute(b *testing.B) {
	url := MustRedisURL(b)
	ctx := context.Background()
	open := func(b *testing.B, url string, l1TTL time.Duration) *Namespace {
		// A lenient timeout: on a loaded 2-CPU machine a 50 ms stall is a scheduling delay, and
		// the figure must be a Redis round trip, not the fallback path.
		opts := Options{L1TTL: l1TTL, Timeout: time.Second}
		prefix := ""
		if url != "" {
			prefix = MustPrefix(b, url)
		}
		c := MustOpen(b, url, prefix, opts)
		b.Cleanup(func() { MustNoRedisErrors(b, c) })
		return c.Namespace("score", time.Hour)
	}
	hit := func(b *testing.B, ns *Namespace) {
		if _, err := ns.GetOrCompute(ctx, "C1", benchCompute); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := ns.GetOrCompute(ctx, "C1", benchCompute); err != nil {
				b.Fatal(err)
			}
		}
	}
	miss := func(b *testing.B, ns *Namespace) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, err := ns.GetOrCompute(ctx, "M"+strconv.Itoa(i), benchCompute); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("l1_hit", func(b *testing.B) { hit(b, open(b, url, 0)) })
	b.Run("l1_hit_parallel", func(b *testing.B) {
		ns := open(b, url, 0)
		ns.GetOrCompute(ctx, "C1", benchCompute)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := ns.GetOrCompute(ctx, "C1", benchCompute); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("redis_hit", func(b *testing.B) { hit(b, open(b, url, -1)) })
	b.Run("redis_hit_parallel", func(b *testing.B) {
		// Distinct ids, or single-flight would merge the concurrent reads into one.
		ns := open(b, url, -1)
		const ids = 1024
		for i := range ids {
			ns.GetOrCompute(ctx, "P"+strconv.Itoa(i), benchCompute)
		}
		var next atomic.Int64
		b.ReportAllocs()
		b.SetParallelism(16) // 32 goroutines on 2 CPUs, like wrk -c32
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := "P" + strconv.Itoa(int(next.Add(1)%ids))
				if _, err := ns.GetOrCompute(ctx, id, benchCompute); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("miss_compute", func(b *testing.B) { miss(b, open(b, url, 0)) })
	b.Run("memory_hit", func(b *testing.B) { hit(b, open(b, "", 0)) })
	b.Run("memory_miss_compute", func(b *testing.B) { miss(b, open(b, "", 0)) })
}

// MustNoRedisErrors fails a benchmark whose Redis commands failed: its figure would be a compute
// from the fallback path, not a Redis round trip.
func MustNoRedisErrors(b *testing.B, c *Cache) {
	b.Helper()
	if n := metricValue(b, c.metrics.errors); n > 0 {
		b.Errorf("%v Redis commands failed during the benchmark: the figure is not what it says", n)
	}
}

// BenchmarkInvalidate measures invalidating one id: Redis write, message to the other replicas.
func BenchmarkInvalidate(b *testing.B) {
	url := MustRedisURL(b)
	c := MustOpen(b, url, MustPrefix(b, url), Options{Timeout: time.Second})
	ns := c.Namespace("score", time.Hour)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		ns.Invalidate(ctx, "C1")
	}
	MustNoRedisErrors(b, c)
}
