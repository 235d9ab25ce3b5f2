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
// The fill runs on a context detached from the first caller: one impatient caller must not
// fail the others. It is cancelled only when every waiting caller has given up.
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
		return f.wait(ctx, key, c)
	}
	if f.calls == nil {
		f.calls = make(map[string]*call)
	}
	fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &call{done: make(chan struct{}), waiters: 1, cancel: cancel}
	f.calls[key] = c
	f.mu.Unlock()

	go func() {
		defer cancel()
		defer func() {
			// A panic here would kill the process: the HTTP recover middleware cannot see this
			// goroutine. It becomes the callers' error instead.
			if r := recover(); r != nil {
				c.val, c.err = nil, fmt.Errorf("cache: fill of %q panicked: %v\n%s", key, r, debug.Stack())
			}
			f.mu.Lock()
			if f.calls[key] == c {
				delete(f.calls, key)
			}
			f.mu.Unlock()
			close(c.done)
		}()
		c.val, c.err = fn(fctx)
	}()
	return f.wait(ctx, key, c)
}

func (f *flight) wait(ctx context.Context, key string, c *call) ([]byte, error) {
	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
	}
	f.mu.Lock()
	c.waiters--
	if c.waiters == 0 {
		// Nobody wants the result any more: stop the fill, and let the next caller start afresh
		// rather than join a cancelled one.
		c.cancel()
		if f.calls[key] == c {
			delete(f.calls, key)
		}
	}
	f.mu.Unlock()
	return nil, ctx.Err()
}
