package cache

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// 100 concurrent misses for one id compute once, in every mode.
func TestSingleFlight(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			c, _, _ := MustModeCache(t, m)
			ns := c.Namespace("score", time.Hour)
			var calls atomic.Int64
			gate := make(chan struct{})
			compute := func(context.Context) ([]byte, error) {
				calls.Add(1)
				<-gate // hold the fill open until every caller has arrived
				return []byte("once"), nil
			}
			const callers = 100
			var wg, arrived sync.WaitGroup
			wg.Add(callers)
			arrived.Add(callers)
			errs := make(chan error, callers)
			for range callers {
				go func() {
					defer wg.Done()
					arrived.Done()
					v, err := ns.GetOrCompute(context.Background(), "C1", compute)
					if err != nil || string(v) != "once" {
						errs <- errors.New("got " + string(v))
					}
				}()
			}
			arrived.Wait()
			time.Sleep(50 * time.Millisecond) // let the callers reach the flight
			close(gate)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("computed %d times for %d concurrent callers, want 1", n, callers)
			}
		})
	}
}

// A waiting caller giving up returns at once and does not stop the fill the others wait for;
// when every caller has given up, the fill is cancelled.
func TestFlightCancellation(t *testing.T) {
	var f flight
	started, release := make(chan struct{}), make(chan struct{})
	cancelled := make(chan struct{})
	fn := func(ctx context.Context) ([]byte, error) {
		close(started)
		select {
		case <-release:
			return []byte("done"), nil
		case <-ctx.Done():
			close(cancelled)
			return nil, ctx.Err()
		}
	}
	leader := make(chan string, 1)
	go func() { v, _ := f.do(context.Background(), "k", fn); leader <- string(v) }()
	<-started
	impatient, cancel := context.WithCancel(context.Background())
	follower := make(chan error, 1)
	go func() { _, err := f.do(impatient, "k", fn); follower <- err }()
	time.Sleep(20 * time.Millisecond) // the follower joins the fill
	cancel()
	if err := <-follower; !errors.Is(err, context.Canceled) {
		t.Errorf("the impatient caller got %v, want context.Canceled", err)
	}
	close(release)
	if v := <-leader; v != "done" {
		t.Errorf("the caller running the fill got %q, want its result", v)
	}

	// Everyone leaves: the fill's context is cancelled.
	started, release = make(chan struct{}), make(chan struct{})
	ctx, cancelAll := context.WithCancel(context.Background())
	go func() { _, _ = f.do(ctx, "k2", fn) }()
	<-started
	cancelAll()
	select {
	case <-cancelled:
	case <-time.After(2 * time.Second):
		t.Fatal("the fill kept running after every caller left")
	}
	// And the next caller starts a new fill instead of joining the cancelled one.
	v, err := f.do(context.Background(), "k2", func(context.Context) ([]byte, error) { return []byte("new"), nil })
	if err != nil || string(v) != "new" {
		t.Errorf("after a cancelled fill: %q, %v, want a new fill", v, err)
	}
}

func TestFlightPanicBecomesAnError(t *testing.T) {
	var f flight
	_, err := f.do(context.Background(), "k", func(context.Context) ([]byte, error) { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), `fill of "k" panicked: boom`) {
		t.Fatalf("error = %v, want the panic as an error", err)
	}
	v, err := f.do(context.Background(), "k", func(context.Context) ([]byte, error) { return []byte("ok"), nil })
	if err != nil || string(v) != "ok" {
		t.Errorf("after a panic: %q, %v, want a fresh run", v, err)
	}
}
