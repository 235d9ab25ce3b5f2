package cache

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrLocalOnly is returned (wrapped) by Publish when Redis could not take a message: it was
// delivered to this replica's subscribers only, and other replicas must catch up another way
// (a Postgres poll, a TTL).
var ErrLocalOnly = errors.New("redis unavailable: the message reached this replica only")

// Message is one delivery to a subscriber.
type Message struct {
	Topic   string
	Payload []byte
	// Gap is true, with no payload, when messages on Topic may have been lost: the subscription
	// to Redis broke and is back. The subscriber resynchronises from the source of truth.
	Gap bool
}

// Bus publishes messages on named topics to every replica: over Redis pub/sub, or in process
// when REDIS_URL is empty (one replica). Delivery is at most once per replica and ordered per
// publisher; handlers run one at a time on the bus's goroutine, so they must be quick (hand slow
// work to another goroutine) and idempotent. A lost subscription is re-established by itself
// and reported to each subscriber as a Gap message.
type Bus struct {
	c  *Cache
	ps *redis.PubSub // nil without Redis

	subMu    sync.Mutex // serialises Subscribe/unsubscribe with their Redis commands
	mu       sync.RWMutex
	handlers map[string][]*handler

	local chan Message
	quit  chan struct{}
	done  chan struct{}
}

type handler struct{ fn func(Message) }

func newBus(c *Cache) *Bus {
	b := &Bus{
		c:        c,
		handlers: make(map[string][]*handler),
		local:    make(chan Message, 1024),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	var remote <-chan any
	if c.rdb != nil {
		b.ps = c.rdb.Subscribe(context.Background())
		// go-redis pings an idle subscription every second and reconnects it when the ping fails;
		// on reconnection it subscribes again, which is how dispatch notices a gap.
		remote = b.ps.ChannelWithSubscriptions(
			redis.WithChannelSize(1024),
			redis.WithChannelHealthCheckInterval(time.Second),
			redis.WithChannelPingTimeout(time.Second),
		)
	}
	go b.dispatch(remote)
	b.Subscribe(invalidationTopic, c.onInvalidation)
	return b
}

func (b *Bus) channel(topic string) string { return b.c.prefix + "bus:" + topic }

// Publish sends payload to the subscribers of topic on every replica, this one included. With
// Redis down the message reaches this replica only and the error wraps ErrLocalOnly.
func (b *Bus) Publish(ctx context.Context, topic string, payload []byte) error {
	if topic == "" {
		return fmt.Errorf("cache: publish needs a topic")
	}
	if b.c.closed.Load() {
		return fmt.Errorf("cache: publish on %q after Close", topic)
	}
	m := Message{Topic: topic, Payload: slices.Clone(payload)}
	if b.ps == nil {
		return b.deliverLocal(ctx, m)
	}
	var cause error = errors.New("marked down")
	if b.c.redisOn() {
		cause = b.publishRemote(ctx, topic, payload)
		if cause == nil {
			return nil
		}
		b.c.failed(ctx, cause, false)
	}
	if err := b.deliverLocal(ctx, m); err != nil {
		return err
	}
	b.c.metrics.published.WithLabelValues("local").Inc()
	return fmt.Errorf("cache: publish on %q: %w (%v)", topic, ErrLocalOnly, cause)
}

// publishRemote sends on Redis only (the cache's own messages: their origin applied them).
func (b *Bus) publishRemote(ctx context.Context, topic string, payload []byte) error {
	if err := b.c.rdb.Publish(ctx, b.channel(topic), payload).Err(); err != nil {
		return err
	}
	b.c.metrics.published.WithLabelValues("published").Inc()
	return nil
}

func (b *Bus) deliverLocal(ctx context.Context, m Message) error {
	select {
	case b.local <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-b.quit:
		return fmt.Errorf("cache: publish on %q after Close", m.Topic)
	}
}

// Subscribe calls fn with every message published on topic from now on, on every replica,
// until the returned function is called.
func (b *Bus) Subscribe(topic string, fn func(Message)) (unsubscribe func()) {
	if topic == "" || fn == nil {
		panic("cache: Subscribe needs a topic and a handler")
	}
	h := &handler{fn: fn}
	b.subMu.Lock()
	b.mu.Lock()
	first := len(b.handlers[topic]) == 0
	b.handlers[topic] = append(b.handlers[topic], h)
	b.mu.Unlock()
	if first && b.ps != nil {
		// With Redis down this fails, but go-redis keeps the channel and subscribes on connecting.
		ctx, cancel := context.WithTimeout(context.Background(), b.c.opts.DialTimeout+b.c.opts.Timeout)
		_ = b.ps.Subscribe(ctx, b.channel(topic))
		cancel()
	}
	b.subMu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { b.unsubscribe(topic, h) }) }
}

func (b *Bus) unsubscribe(topic string, h *handler) {
	b.subMu.Lock()
	defer b.subMu.Unlock()
	b.mu.Lock()
	hs := slices.DeleteFunc(slices.Clone(b.handlers[topic]), func(x *handler) bool { return x == h })
	if len(hs) == 0 {
		delete(b.handlers, topic)
	} else {
		b.handlers[topic] = hs
	}
	b.mu.Unlock()
	if len(hs) == 0 && b.ps != nil && !b.c.closed.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), b.c.opts.DialTimeout+b.c.opts.Timeout)
		_ = b.ps.Unsubscribe(ctx, b.channel(topic))
		cancel()
	}
}

// dispatch delivers messages to handlers, one at a time, until Close.
func (b *Bus) dispatch(remote <-chan any) {
	defer close(b.done)
	confirmed := make(map[string]bool) // channels whose first subscription Redis confirmed
	prefix := b.c.prefix + "bus:"
	for {
		select {
		case <-b.quit:
			return
		case m := <-b.local:
			b.deliver(m)
		case raw, ok := <-remote:
			if !ok {
				remote = nil
				continue
			}
			switch msg := raw.(type) {
			case *redis.Message:
				if topic, ok := strings.CutPrefix(msg.Channel, prefix); ok {
					b.c.metrics.published.WithLabelValues("received").Inc()
					b.deliver(Message{Topic: topic, Payload: []byte(msg.Payload)})
				}
			case *redis.Subscription:
				switch msg.Kind {
				case "subscribe":
					// A second confirmation of a channel is go-redis subscribing again after a
					// reconnection: whatever was published in between is lost.
					if confirmed[msg.Channel] {
						if topic, ok := strings.CutPrefix(msg.Channel, prefix); ok {
							b.deliver(Message{Topic: topic, Gap: true})
						}
					}
					confirmed[msg.Channel] = true
				case "unsubscribe":
					delete(confirmed, msg.Channel)
				}
			}
		}
	}
}

func (b *Bus) deliver(m Message) {
	b.mu.RLock()
	hs := b.handlers[m.Topic]
	b.mu.RUnlock()
	for _, h := range hs {
		b.call(h, m)
	}
}

// call runs one handler; a panic is logged rather than stopping the bus for every subscriber.
func (b *Bus) call(h *handler, m Message) {
	defer func() {
		if r := recover(); r != nil {
			b.c.log.Error("cache: bus handler panicked", "topic", m.Topic, "panic", fmt.Sprint(r))
		}
	}()
	h.fn(m)
}

func (b *Bus) close() {
	close(b.quit)
	<-b.done
	if b.ps != nil {
		_ = b.ps.Close()
	}
}
