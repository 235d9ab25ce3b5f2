package solvency

import (
	"sync"
	"time"
)

// BreakerState is the state of a provider's circuit breaker.
type BreakerState int

// Breaker states: closed lets calls through, open refuses them until the cool-down ends,
// half-open lets one trial call through to decide.
const (
	BreakerClosed BreakerState = iota
	BreakerOpen
	BreakerHalfOpen
)

func (s BreakerState) String() string {
	switch s {
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half_open"
	default:
		return "closed"
	}
}

// BreakerOptions tune a circuit breaker.
type BreakerOptions struct {
	// Failures is the number of consecutive failed fetches that opens the circuit (default 5).
	Failures int
	// CoolDown is how long the circuit stays open before one trial call (default 1 minute).
	CoolDown time.Duration
}

func (o BreakerOptions) withDefaults() BreakerOptions {
	if o.Failures <= 0 {
		o.Failures = 5
	}
	if o.CoolDown <= 0 {
		o.CoolDown = time.Minute
	}
	return o
}

// breaker is a consecutive-failure circuit breaker. It counts whole fetches (after their
// retries), not attempts, so one bad minute of a provider costs Failures fetches, then nothing.
type breaker struct {
	opts     BreakerOptions
	now      func() time.Time
	onChange func(from, to BreakerState)

	mu       sync.Mutex
	state    BreakerState
	failures int
	openedAt time.Time
	probing  bool // a half-open trial call is in flight
}

func newBreaker(opts BreakerOptions, now func() time.Time, onChange func(from, to BreakerState)) *breaker {
	return &breaker{opts: opts.withDefaults(), now: now, onChange: onChange}
}

// allow reports whether a call may go ahead. In half-open state only one trial runs at a time;
// the others fail fast as if the circuit were open.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerOpen:
		if b.now().Sub(b.openedAt) < b.opts.CoolDown {
			return false
		}
		b.set(BreakerHalfOpen)
		b.probing = true
		return true
	case BreakerHalfOpen:
		if b.probing {
			return false
		}
		b.probing = true
		return true
	}
	return true
}

// success records a call that reached the provider and got a usable answer.
func (b *breaker) success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures = 0
	b.probing = false
	if b.state != BreakerClosed {
		b.set(BreakerClosed)
	}
}

// failure records a failed call; it opens the circuit after Failures in a row, or at once when the
// half-open trial fails.
func (b *breaker) failure() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	b.probing = false
	if b.state == BreakerHalfOpen || (b.state == BreakerClosed && b.failures >= b.opts.Failures) {
		b.openedAt = b.now()
		b.set(BreakerOpen)
	}
}

// release gives back a half-open trial slot when the call ended without a verdict on the
// provider (the caller cancelled).
func (b *breaker) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}

func (b *breaker) current() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// set changes state; the caller holds mu.
func (b *breaker) set(to BreakerState) {
	from := b.state
	b.state = to
	if b.onChange != nil && from != to {
		b.onChange(from, to)
	}
}
