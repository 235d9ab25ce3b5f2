package cache

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// mode is one way to run the cache: in process only, Redis with the in-process level, Redis alone.
type mode struct {
	name  string
	redis bool
	l1TTL time.Duration
}

var modes = []mode{
	{name: "memory"},
	{name: "redis", redis: true},
	{name: "redis without L1", redis: true, l1TTL: -1},
}

// MustModeCache opens a cache in mode m, and answers the URL and prefix a second replica would use.
func MustModeCache(t *testing.T, m mode) (c *Cache, url, prefix string) {
	t.Helper()
	opts := testOptions()
	opts.L1TTL = m.l1TTL
	if m.redis {
		url = MustRedisURL(t)
		prefix = MustPrefix(t, url)
	}
	return MustOpen(t, url, prefix, opts), url, prefix
}

func TestGetSetTTL(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, _, _ := MustModeCache(t, m)
			ns := c.Namespace("score", time.Hour)
			ctx := context.Background()
			if v, ok := ns.Get(ctx, "C1"); ok {
				t.Fatalf("Get of a never-set id = %q, want a miss", v)
			}
			ns.Set(ctx, "C1", []byte(`{"score":612}`), 0)
			ns.Set(ctx, "short", []byte("brief"), 200*time.Millisecond)
			if v, ok := ns.Get(ctx, "C1"); !ok || string(v) != `{"score":612}` {
				t.Fatalf("Get(C1) = %q, %v, want the value set", v, ok)
			}
			if v, ok := ns.Get(ctx, "short"); !ok || string(v) != "brief" {
				t.Fatalf("Get(short) before its TTL = %q, %v", v, ok)
			}
			time.Sleep(300 * time.Millisecond)
			if v, ok := ns.Get(ctx, "short"); ok {
				t.Errorf("Get(short) after its TTL = %q, want a miss", v)
			}
			if _, ok := ns.Get(ctx, "C1"); !ok {
				t.Error("Get(C1) missed before its TTL")
			}
			if m.redis {
				pttl := c.rdb.PTTL(ctx, ns.keyVal+"C1").Val()
				if pttl <= 59*time.Minute || pttl > time.Hour {
					t.Errorf("Redis TTL of C1 = %s, want the namespace TTL of 1h", pttl)
				}
			}
		})
	}
}

func TestGetOrCompute(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, _, _ := MustModeCache(t, m)
			ns := c.Namespace("score", time.Hour)
			ctx := context.Background()
			f := &counting{value: "C1"}
			for i := range 3 {
				v, err := ns.GetOrCompute(ctx, "C1", f.compute)
				if err != nil || string(v) != "C1#1" {
					t.Fatalf("call %d = %q, %v, want the first computed value", i, v, err)
				}
			}
			if n := f.calls.Load(); n != 1 {
				t.Fatalf("computed %d times for 3 calls, want 1", n)
			}
			ns.Invalidate(ctx, "C1")
			if v, _ := ns.GetOrCompute(ctx, "C1", f.compute); string(v) != "C1#2" {
				t.Errorf("after Invalidate = %q, want a recomputed C1#2", v)
			}
			if v, _ := ns.Refresh(ctx, "C1", f.compute); string(v) != "C1#3" {
				t.Errorf("Refresh = %q, want C1#3", v)
			}
			if v, _ := ns.GetOrCompute(ctx, "C1", f.compute); string(v) != "C1#3" {
				t.Errorf("after Refresh = %q, want the refreshed C1#3", v)
			}
		})
	}
}

func TestComputeErrorIsReturnedAndNotCached(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, _, _ := MustModeCache(t, m)
			ns := c.Namespace("score", time.Hour)
			notFound := errors.New("client not found")
			calls := 0
			failing := func(context.Context) ([]byte, error) { calls++; return nil, notFound }
			for range 2 {
				if _, err := ns.GetOrCompute(context.Background(), "nobody", failing); !errors.Is(err, notFound) {
					t.Fatalf("error = %v, want the compute's error", err)
				}
			}
			if calls != 2 {
				t.Errorf("a failed compute ran %d times for 2 calls, want 2 (errors are not cached)", calls)
			}
			if _, ok := ns.Get(context.Background(), "nobody"); ok {
				t.Error("a failed compute left a value")
			}
		})
	}
}

// Namespaces are separate: the same id in two of them holds two values.
func TestNamespacesAreSeparate(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, _, _ := MustModeCache(t, m)
			ctx := context.Background()
			a, b := c.Namespace("score", time.Hour), c.Namespace("explanation", time.Hour)
			if c.Namespace("score", time.Hour) != a {
				t.Fatal("a second Namespace(score) is another namespace")
			}
			a.Set(ctx, "C1", []byte("a"), 0)
			b.Set(ctx, "C1", []byte("b"), 0)
			a.InvalidateAll(ctx)
			if _, ok := a.Get(ctx, "C1"); ok {
				t.Error("score:C1 survived InvalidateAll of score")
			}
			if v, ok := b.Get(ctx, "C1"); !ok || string(v) != "b" {
				t.Errorf("explanation:C1 = %q, %v after InvalidateAll of score, want b", v, ok)
			}
		})
	}
}

// A second replica reads the first one's value from Redis without computing.
func TestRedisHitFromAnotherReplica(t *testing.T) {
	a, url, prefix := MustModeCache(t, modes[1])
	b := MustOpen(t, url, prefix, testOptions())
	ctx := context.Background()
	fa, fb := &counting{value: "A"}, &counting{value: "B"}
	if v, _ := a.Namespace("score", time.Hour).GetOrCompute(ctx, "C1", fa.compute); string(v) != "A#1" {
		t.Fatalf("replica A computed %q", v)
	}
	nb := b.Namespace("score", time.Hour)
	if v, _ := nb.GetOrCompute(ctx, "C1", fb.compute); string(v) != "A#1" {
		t.Fatalf("replica B answered %q, want A's value from Redis", v)
	}
	if v, _ := nb.GetOrCompute(ctx, "C1", fb.compute); string(v) != "A#1" {
		t.Fatalf("replica B answered %q the second time", v)
	}
	if fb.calls.Load() != 0 {
		t.Errorf("replica B computed %d times, want 0", fb.calls.Load())
	}
	if got := metricValue(t, nb.hitRedis); got != 1 {
		t.Errorf("B's Redis hits = %v, want 1 (the second call is an L1 hit)", got)
	}
	if got := metricValue(t, nb.hitL1); got != 1 {
		t.Errorf("B's L1 hits = %v, want 1", got)
	}
}

// Without the in-process level every read goes to Redis, so a change there shows at once; with
// it a replica serves its copy until the copy's TTL (the bound README.md states).
func TestL1BoundsStaleness(t *testing.T) {
	for _, tt := range []struct {
		name  string
		l1TTL time.Duration
		stale bool
	}{
		{name: "no L1", l1TTL: -1, stale: false},
		{name: "L1 copy within its TTL", l1TTL: time.Minute, stale: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			url := MustRedisURL(t)
			opts := testOptions()
			opts.L1TTL = tt.l1TTL
			c := MustOpen(t, url, MustPrefix(t, url), opts)
			ns := c.Namespace("score", time.Hour)
			ctx := context.Background()
			ns.Set(ctx, "C1", []byte("v1"), 0)
			if _, ok := ns.Get(ctx, "C1"); !ok {
				t.Fatal("miss right after Set")
			}
			// Delete behind the cache's back: no message, as when one is lost.
			c.rdb.Del(ctx, ns.keyVal+"C1")
			if _, ok := ns.Get(ctx, "C1"); ok != tt.stale {
				t.Errorf("Get after the Redis key vanished = hit %v, want %v", ok, tt.stale)
			}
		})
	}
}

func TestNamespacePanicsOnProgrammingErrors(t *testing.T) {
	c := MustOpen(t, "", "", Options{})
	c.Namespace("score", time.Hour)
	for _, tt := range []struct {
		name string
		fn   func()
		want string
	}{
		{name: "bad name", fn: func() { c.Namespace("Score:v1", time.Hour) }, want: "invalid namespace name"},
		{name: "empty name", fn: func() { c.Namespace("", time.Hour) }, want: "invalid namespace name"},
		{name: "no ttl", fn: func() { c.Namespace("x", 0) }, want: "TTL of at least 1ms"},
		{name: "other ttl", fn: func() { c.Namespace("score", time.Minute) }, want: "opened with TTL 1h0m0s, then 1m0s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(r.(string), tt.want) {
					t.Errorf("panic = %v, want one containing %q", r, tt.want)
				}
			}()
			tt.fn()
		})
	}
}

func TestMetricsRegistered(t *testing.T) {
	reg := prometheus.NewRegistry()
	url := MustRedisURL(t)
	opts := testOptions()
	opts.Registerer = reg
	a := MustOpen(t, url, MustPrefix(t, url), opts)
	b := MustOpen(t, url, MustPrefix(t, url), opts) // same registry: shares the series, no panic
	ctx := context.Background()
	f := &counting{value: "x"}
	a.Namespace("score", time.Hour).GetOrCompute(ctx, "C1", f.compute)
	b.Namespace("score", time.Hour).GetOrCompute(ctx, "C1", f.compute)
	a.Namespace("score", time.Hour).GetOrCompute(ctx, "C1", f.compute)
	if got := metricValue(t, a.metrics.lookups.WithLabelValues("score", "miss")); got != 2 {
		t.Errorf("misses = %v, want 2 (one per replica, separate prefixes)", got)
	}
	if got := metricValue(t, a.metrics.lookups.WithLabelValues("score", "l1")); got != 1 {
		t.Errorf("L1 hits = %v, want 1", got)
	}
	if got := metricValue(t, a.metrics.up); got != 1 {
		t.Errorf("credo_cache_redis_up = %v, want 1", got)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := map[string]int{}
	for _, f := range families {
		series[f.GetName()] = len(f.GetMetric())
	}
	if series["credo_cache_redis_up"] != 1 || series["credo_cache_lookups_total"] != 3 {
		t.Errorf("gathered series %v, want credo_cache_redis_up once and the 3 lookup results of score", series)
	}
}

// metricValue reads a counter or gauge.
func metricValue(t testing.TB, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Counter != nil {
		return d.Counter.GetValue()
	}
	return d.Gauge.GetValue()
}
