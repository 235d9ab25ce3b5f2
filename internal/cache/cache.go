// Package cache is Credo's shared cache and message bus on Redis (go-redis UniversalClient:
// one node, Sentinel or Cluster), with an in-process level in front and an in-process fallback.
//
// A Cache holds namespaces of byte values keyed by id (scores by client, for example), each
// with a TTL, per-id invalidation, whole-namespace invalidation by a generation counter, and
// single-flight fills. Its Bus carries named topics between replicas over Redis pub/sub.
// Redis being down, slow or absent never fails a caller: values are computed, the state goes
// down with one log line and a metric, and comes back by itself. README.md gives the design:
// keys, TTLs, coherence guarantees and failure behaviour.
package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Options tune a Cache. The zero value is the production default.
type Options struct {
	// Log receives one line per Redis state change (never one per request). Default: discard.
	Log *slog.Logger
	// Registerer receives the cache's metrics (credo_cache_*, credo_bus_*) when not nil.
	Registerer prometheus.Registerer
	// OnStateChange runs after Redis goes down (false) or comes back (true).
	OnStateChange func(up bool)

	// Timeout bounds each Redis read and write, so a slow Redis costs a request at most this
	// much before the value is computed without it (default 50 ms).
	Timeout time.Duration
	// DialTimeout bounds a new connection (default 250 ms).
	DialTimeout time.Duration
	// ProbeInterval is how often Redis is pinged: while up to notice an outage without traffic,
	// while down to notice its return (default 500 ms).
	ProbeInterval time.Duration
	// FailureThreshold is the number of consecutive failed commands or pings that marks Redis
	// down (default 3); a failed invalidation marks it down at once.
	FailureThreshold int
	// PoolSize is the number of Redis connections per node (default: go-redis's, 10 per CPU).
	PoolSize int

	// L1TTL is the longest a value stays in the in-process level when Redis is configured: the
	// bound on staleness when an invalidation message is lost (default 5 s; negative: no
	// in-process level, every read goes to Redis). Without Redis the in-process level is the
	// cache and entries live for their namespace TTL.
	L1TTL time.Duration
	// L1Size caps the entries kept in process per namespace (default 100,000).
	L1Size int
}

func (o Options) withDefaults() Options {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		o.Timeout = 50 * time.Millisecond
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = 250 * time.Millisecond
	}
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = 500 * time.Millisecond
	}
	if o.FailureThreshold <= 0 {
		o.FailureThreshold = 3
	}
	if o.L1TTL == 0 {
		o.L1TTL = 5 * time.Second
	}
	if o.L1Size <= 0 {
		o.L1Size = 100_000
	}
	return o
}

// Cache is the shared cache of one replica. Its methods are safe for concurrent use.
type Cache struct {
	prefix  string
	opts    Options
	log     *slog.Logger
	metrics *metrics
	rdb     redis.UniversalClient // nil: in-process only (REDIS_URL empty)
	cluster bool                  // rdb is a Redis Cluster client
	addrs   []string
	origin  string // this instance, so it skips its own invalidation messages
	bus     *Bus
	health  health

	mu     sync.Mutex
	spaces map[string]*Namespace

	stop   chan struct{}
	wg     sync.WaitGroup
	closed atomic.Bool
}

// Open connects to Redis at url (see ParseURL for its forms), with every key and channel under
// prefix (CREDO_REDIS_PREFIX). An empty url gives an in-process cache for a single replica.
// Redis not answering is not an error: the cache starts down and recovers by itself. Only a
// malformed url fails.
func Open(url, prefix string, opts Options) (*Cache, error) {
	opts = opts.withDefaults()
	var id [8]byte
	_, _ = rand.Read(id[:])
	c := &Cache{
		prefix:  prefix,
		opts:    opts,
		log:     opts.Log,
		metrics: newMetrics(opts.Registerer),
		origin:  hex.EncodeToString(id[:]),
		spaces:  make(map[string]*Namespace),
		stop:    make(chan struct{}),
	}
	c.health.init(opts.FailureThreshold)
	if url == "" {
		c.bus = newBus(c)
		c.log.Info("cache: in-process only (REDIS_URL is empty): one replica")
		return c, nil
	}
	uo, err := ParseURL(url)
	if err != nil {
		return nil, err
	}
	routeRedisLog(c.log)
	uo.ReadTimeout, uo.WriteTimeout, uo.DialTimeout = opts.Timeout, opts.Timeout, opts.DialTimeout
	// A request waits for a free connection no longer than for an answer.
	uo.PoolTimeout = opts.Timeout
	uo.PoolSize = opts.PoolSize
	// One attempt per command and per dial: a retry doubles the wait of every request when Redis
	// is slow, and the health state already routes requests around a failing Redis.
	uo.MaxRetries, uo.DialerRetries = -1, 1
	uo.ContextTimeoutEnabled = true
	uo.DisableIdentity = true
	uo.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	c.rdb = redis.NewUniversalClient(uo)
	_, c.cluster = c.rdb.(*redis.ClusterClient)
	c.addrs = uo.Addrs

	ctx, cancel := context.WithTimeout(context.Background(), opts.DialTimeout+opts.Timeout)
	err = c.checkServer(ctx) // a ping that also learns the server's identity
	cancel()
	if err == nil {
		c.health.up.Store(true)
		c.metrics.up.Set(1)
		c.log.Info("cache: redis answers", "addrs", c.addrs)
	} else {
		c.health.downSince = time.Now()
		c.log.Warn("cache: redis unavailable at start: values are computed without the shared cache until it answers",
			"addrs", c.addrs, "error", err)
	}
	c.bus = newBus(c)
	c.wg.Add(1)
	go c.probe()
	return c, nil
}

// Close stops the background work and closes the Redis connections.
func (c *Cache) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	close(c.stop)
	c.wg.Wait()
	c.bus.close()
	if c.rdb != nil {
		return c.rdb.Close()
	}
	return nil
}

// Mode is "redis" when REDIS_URL is set, "memory" when the cache is in-process only.
func (c *Cache) Mode() string {
	if c.rdb == nil {
		return "memory"
	}
	return "redis"
}

// Up reports whether Redis is configured and answering (for /readyz details and tests).
func (c *Cache) Up() bool { return c.rdb != nil && c.health.up.Load() }

// Bus is the message bus of this cache: Redis pub/sub, or in-process without Redis.
func (c *Cache) Bus() *Bus { return c.bus }

var namespaceName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Namespace answers the namespace name (lower-case letters, digits, '.', '_' or '-') whose
// values live ttl in Redis. Asking twice for one name answers the same Namespace; a different
// ttl for an existing name, a bad name or a ttl under a millisecond panics, as they are
// programming errors.
func (c *Cache) Namespace(name string, ttl time.Duration) *Namespace {
	if !namespaceName.MatchString(name) {
		panic(fmt.Sprintf("cache: invalid namespace name %q", name))
	}
	if ttl < time.Millisecond {
		panic(fmt.Sprintf("cache: namespace %q needs a TTL of at least 1ms, got %s", name, ttl))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.spaces[name]; ok {
		if n.ttl != ttl {
			panic(fmt.Sprintf("cache: namespace %q opened with TTL %s, then %s", name, n.ttl, ttl))
		}
		return n
	}
	n := newNamespace(c, name, ttl)
	c.spaces[name] = n
	return n
}

// namespaces is a snapshot of the open namespaces.
func (c *Cache) namespaces() []*Namespace {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*Namespace, 0, len(c.spaces))
	for _, n := range c.spaces {
		out = append(out, n)
	}
	return out
}

func (c *Cache) namespace(name string) *Namespace {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.spaces[name]
}

// redisOn reports whether requests should use Redis now.
func (c *Cache) redisOn() bool { return c.rdb != nil && c.health.up.Load() }

// opContext bounds a Redis operation that must outlive its caller (an invalidation after a
// commit must not be dropped because the HTTP request finished).
func (c *Cache) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), c.opts.DialTimeout+c.opts.Timeout)
}
