package cache

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// health is the up/down state of Redis for this replica. Requests skip Redis while it is down,
// so an outage costs each request nothing once noticed; the probe loop brings it back.
type health struct {
	up        atomic.Bool
	fails     atomic.Int32 // consecutive failed commands
	threshold int32

	mu        sync.Mutex
	downSince time.Time
	runID     string // the Redis server last seen (one node or Sentinel)
}

func (h *health) init(threshold int) { h.threshold = int32(threshold) }

// ok records a command that Redis answered.
func (c *Cache) ok() {
	if c.health.fails.Load() != 0 {
		c.health.fails.Store(0)
	}
}

// failed records a failed Redis command. A command failing because its caller gave up says
// nothing about Redis and is ignored; now marks Redis down without waiting for the threshold
// (invalidations, whose loss would leave stale values readable).
func (c *Cache) failed(ctx context.Context, err error, now bool) {
	if err == nil || errors.Is(err, redis.Nil) {
		return
	}
	if ctx.Err() != nil {
		return
	}
	c.metrics.errors.Inc()
	if !now && errors.Is(err, redis.ErrPoolTimeout) {
		// Every connection busy is a burst of traffic, not an outage: this request goes without
		// Redis, the state stays. A hung Redis still shows as the busy connections' timeouts.
		return
	}
	if n := c.health.fails.Add(1); now || n >= c.health.threshold {
		c.markDown(err)
	}
}

func (c *Cache) markDown(err error) {
	if !c.health.up.CompareAndSwap(true, false) {
		return
	}
	c.health.mu.Lock()
	c.health.downSince = time.Now()
	c.health.mu.Unlock()
	c.metrics.up.Set(0)
	c.log.Warn("cache: redis unavailable: values are computed without the shared cache until it answers",
		"addrs", c.addrs, "error", err)
	if c.opts.OnStateChange != nil {
		c.opts.OnStateChange(false)
	}
}

func (c *Cache) markUp() {
	if !c.health.up.CompareAndSwap(false, true) {
		return
	}
	c.health.fails.Store(0)
	c.health.mu.Lock()
	down := time.Since(c.health.downSince)
	c.health.mu.Unlock()
	c.metrics.up.Set(1)
	c.log.Info("cache: redis answers again: shared cache back in use", "addrs", c.addrs, "down_for", down.Round(time.Millisecond).String())
	if c.opts.OnStateChange != nil {
		c.opts.OnStateChange(true)
	}
}

// probe pings Redis every ProbeInterval. While up, failed pings count like failed commands (an
// outage is noticed without traffic) and invalidations left pending are written. While down, a
// ping that succeeds starts the recovery.
func (c *Cache) probe() {
	defer c.wg.Done()
	t := time.NewTicker(c.opts.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.opts.DialTimeout+c.opts.Timeout)
		// Failures are judged against a context of their own: the probe's deadline expiring is
		// Redis being slow, not a caller leaving.
		if !c.health.up.Load() {
			if err := c.checkServer(ctx); err == nil {
				c.recover(ctx)
			}
		} else if err := c.replayPending(ctx); err != nil {
			c.failed(context.Background(), err, true) // an unwritten invalidation: stop reading Redis
		} else if err := c.checkServer(ctx); err != nil {
			c.failed(context.Background(), err, false) // one slow ping is not an outage
		} else {
			c.ok()
		}
		cancel()
	}
}

// recover brings Redis back into use after an outage: first the invalidations that could not be
// written (so no replica reads a value invalidated during the outage), then a flush of this
// replica's in-process level (it may hold values another replica invalidated while messages
// could not pass), then the state goes up. A failure leaves it down for the next probe.
func (c *Cache) recover(ctx context.Context) {
	if err := c.replayPending(ctx); err != nil {
		return
	}
	for _, n := range c.namespaces() {
		n.flushLocal()
	}
	c.markUp()
}

// checkServer is the probe's ping. On one node or Sentinel it asks for the server's run_id,
// which changes when Redis restarts or fails over: the new server may have come back from an
// older snapshot, or be a replica that missed the last writes, so invalidations made since may
// be gone from it and the values they removed back. Every namespace's generation is then
// bumped, which makes whatever that server holds unreachable. (Redis Cluster has one run_id per
// node and no single answer; there the probe only pings. README.md: limits.)
func (c *Cache) checkServer(ctx context.Context) error {
	if c.cluster {
		return c.rdb.Ping(ctx).Err()
	}
	info, err := c.rdb.Info(ctx, "server").Result()
	if err != nil {
		return err
	}
	var id string
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
			id = v
			break
		}
	}
	c.health.mu.Lock()
	last := c.health.runID
	c.health.runID = id
	c.health.mu.Unlock()
	if last == "" || id == "" || id == last {
		return nil
	}
	c.log.Warn("cache: redis restarted or failed over: every cached value is invalidated, as invalidations since its last snapshot may be lost",
		"addrs", c.addrs)
	for _, n := range c.namespaces() {
		n.pend.setAll()
	}
	return c.replayPending(ctx)
}
