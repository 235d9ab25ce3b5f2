package cache

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
)

// flight runs one fill per key at a time inside the process: the callers that arrive while it
// runs wait for its result instead of reading Redis or computing again.
//
// The first caller runs the fill itself: handing it to another goroutine doubled the time of a
// Redis hit on a busy 2-CPU machine (two more wake-ups per request). The fill runs on a context
// detached from that caller, so one impatient caller does not fail the others; it is cancelled
// when every caller has given up. The first caller waits for the fill it runs; the others
// return as soon as their context ends.
type flight struct {
	mu    sync.Mutex
	calls map[string]*call
}

type call struct {
	done    chan struct{}
	val     []byte
	err     error
	waiters int
	cancel  context.CancelFunc
}

// do runs fn for key, or joins the run in progress, and answers its result.
func (f *flight) do(ctx context.Context, key string, fn func(context.Context) ([]byte, error)) ([]byte, error) {
	f.mu.Lock()
	if c, ok := f.calls[key]; ok {
		c.waiters++
		f.mu.Unlock()
		select {
		case <-c.done:
			return c.val, c.err
		case <-ctx.Done():
			f.leave(key, c)
			return nil, ctx.Err()
		}
	}
	if f.calls == nil {
		f.calls = make(map[string]*call)
	}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &call{done: make(chan struct{}), waiters: 1, cancel: cancel}
	f.calls[key] = c
	f.mu.Unlock()

	stop := context.AfterFunc(ctx, func() { f.leave(key, c) })
	defer stop()
	f.run(fctx, key, c, fn)
	return c.val, c.err
}

// run calls fn and publishes its result to the waiters.
func (f *flight) run(ctx context.Context, key string, c *call, fn func(context.Context) ([]byte, error)) {
	defer func() {
		// A panic must not leave the waiters blocked forever; it becomes their error.
		if r := recover(); r != nil {
			c.val, c.err = nil, fmt.Errorf("cache: fill of %q panicked: %v\n%s", key, r, debug.Stack())
		}
		f.mu.Lock()
		if f.calls[key] == c {
			delete(f.calls, key)
		}
		f.mu.Unlock()
		c.cancel()
		close(c.done)
	}()
	c.val, c.err = fn(ctx)
}

// leave records a caller giving up. When none is left the fill is cancelled, and the next caller
// starts afresh rather than joining a cancelled fill.
func (f *flight) leave(key string, c *call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c.waiters--
	if c.waiters == 0 {
		c.cancel()
		if f.calls[key] == c {
			delete(f.calls, key)
		}
	}
}
