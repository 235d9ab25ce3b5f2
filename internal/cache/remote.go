package cache

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// stampLen is the header of a value in Redis: the namespace generation and the id's
// invalidation counter it was computed under, each a big-endian uint64.
const stampLen = 16

// invalidateChunk bounds one pipeline (three commands per id) so that it answers well within
// the read timeout.
const invalidateChunk = 256

// stamp is what a value must carry to be served: the current generation of its namespace and
// the current invalidation counter of its id.
type stamp struct{ gen, inv int64 }

// readRemote reads the generation, the id's invalidation counter and (withValue) its value in one
// round trip. ok is false when Redis was not used (down, absent, or this read failed); hit is
// true when the value exists and carries the current stamp.
func (n *Namespace) readRemote(ctx context.Context, id string, withValue bool) (st stamp, val []byte, hit, ok bool) {
	if !n.c.redisOn() {
		return st, nil, false, false
	}
	pipe := n.c.rdb.Pipeline()
	g := pipe.Get(ctx, n.keyGen)
	i := pipe.Get(ctx, n.keyInv+id)
	var v *redis.StringCmd
	if withValue {
		v = pipe.Get(ctx, n.keyVal+id)
	}
	cmds, _ := pipe.Exec(ctx)
	if err := pipelineErr(cmds); err != nil {
		n.c.failed(ctx, err, false)
		return st, nil, false, false
	}
	var err error
	if st.gen, err = counter(g); err == nil {
		st.inv, err = counter(i)
	}
	if err != nil {
		// Our own keys hold something else: treat it as a failed read (computed, not trusted).
		n.c.failed(ctx, err, false)
		return st, nil, false, false
	}
	n.c.ok()
	n.noteGen(st.gen)
	if v == nil {
		return st, nil, false, true
	}
	b, err := v.Bytes()
	if err != nil || len(b) < stampLen {
		return st, nil, false, true
	}
	if int64(binary.BigEndian.Uint64(b)) != st.gen || int64(binary.BigEndian.Uint64(b[8:])) != st.inv {
		return st, nil, false, true // written before an invalidation: unreachable
	}
	return st, b[stampLen:], true, true
}

// writeRemote stores v under the stamp read before it was computed.
func (n *Namespace) writeRemote(ctx context.Context, id string, v []byte, st stamp, ttl time.Duration) {
	if !n.c.redisOn() {
		return
	}
	buf := make([]byte, stampLen+len(v))
	binary.BigEndian.PutUint64(buf, uint64(st.gen))
	binary.BigEndian.PutUint64(buf[8:], uint64(st.inv))
	copy(buf[stampLen:], v)
	if err := n.c.rdb.Set(ctx, n.keyVal+id, buf, ttl).Err(); err != nil {
		n.c.failed(ctx, err, false)
		return
	}
	n.c.ok()
}

// writeInvalidation bumps the invalidation counter of each id (so values stamped before are
// unreachable, even one a slow fill writes later), deletes the values (memory), and tells the
// other replicas to drop their in-process copies.
func (n *Namespace) writeInvalidation(ctx context.Context, ids []string) error {
	// The counter outlives any value stamped under its previous count (values live ttl): were it
	// to expire first, its count would restart at zero and could match an old stamp again.
	invTTL := 2 * n.ttl
	for start := 0; start < len(ids); start += invalidateChunk {
		chunk := ids[start:min(start+invalidateChunk, len(ids))]
		pipe := n.c.rdb.Pipeline()
		for _, id := range chunk {
			pipe.Incr(ctx, n.keyInv+id)
			pipe.PExpire(ctx, n.keyInv+id, invTTL)
			pipe.Del(ctx, n.keyVal+id)
		}
		msg := encodeInvalidation(n.c.origin, n.name, chunk, false, 0)
		if !n.c.cluster {
			// One node runs a pipeline in order: the message goes in the same round trip, after
			// the writes, so a replica that hears of it reads the new counters.
			pipe.Publish(ctx, n.c.bus.channel(invalidationTopic), msg)
		}
		cmds, _ := pipe.Exec(ctx)
		if err := pipelineErr(cmds); err != nil {
			return err
		}
		if n.c.cluster {
			// A cluster pipeline runs per node, in parallel: the message must wait for the writes.
			if err := n.c.bus.publishRemote(ctx, invalidationTopic, msg); err != nil {
				return err
			}
		} else {
			n.c.metrics.published.WithLabelValues("published").Inc()
		}
	}
	n.c.ok()
	return nil
}

// writeGeneration bumps the namespace generation and tells the other replicas.
func (n *Namespace) writeGeneration(ctx context.Context) error {
	g, err := n.c.rdb.Incr(ctx, n.keyGen).Result()
	if err != nil {
		return err
	}
	n.gen.Store(g)
	if err := n.c.bus.publishRemote(ctx, invalidationTopic, encodeInvalidation(n.c.origin, n.name, nil, true, g)); err != nil {
		return err
	}
	n.c.ok()
	return nil
}

// pipelineErr is the first error of a pipeline other than a missing key.
func pipelineErr(cmds []redis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}

// counter reads an integer key; a missing key is zero.
func counter(c *redis.StringCmd) (int64, error) {
	s, err := c.Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("cache: key %s holds %q, not a counter", c.Args()[1], s)
	}
	return v, nil
}
