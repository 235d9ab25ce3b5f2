package solvency

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/fault"
)

// fakeClock is a settable clock for breaker cool-downs.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestBreakerStates(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	var changes []string
	b := newBreaker(BreakerOptions{Failures: 3, CoolDown: time.Minute}, clock.Now, func(from, to BreakerState) {
		changes = append(changes, from.String()+">"+to.String())
	})
	steps := []struct {
		do        string // allow, ok, fail, release, wait
		wantAllow bool
		want      BreakerState
	}{
		{"allow", true, BreakerClosed}, {"fail", false, BreakerClosed},
		{"allow", true, BreakerClosed}, {"fail", false, BreakerClosed},
		{"allow", true, BreakerClosed}, {"ok", false, BreakerClosed}, // a success resets the count
		{"fail", false, BreakerClosed}, {"fail", false, BreakerClosed}, {"fail", false, BreakerOpen},
		{"allow", false, BreakerOpen},
		{"wait", false, BreakerOpen},
		{"allow", true, BreakerHalfOpen},  // the trial
		{"allow", false, BreakerHalfOpen}, // only one trial at a time
		{"fail", false, BreakerOpen},      // the trial failed: open again, new cool-down
		{"allow", false, BreakerOpen},
		{"wait", false, BreakerOpen},
		{"allow", true, BreakerHalfOpen},
		{"release", false, BreakerHalfOpen}, // the caller gave up: the trial slot is free again
		{"allow", true, BreakerHalfOpen},
		{"ok", false, BreakerClosed},
		{"allow", true, BreakerClosed},
	}
	for i, s := range steps {
		switch s.do {
		case "allow":
			if got := b.allow(); got != s.wantAllow {
				t.Fatalf("step %d: allow = %v, want %v", i, got, s.wantAllow)
			}
		case "ok":
			b.success()
		case "fail":
			b.failure()
		case "release":
			b.release()
		case "wait":
			clock.Add(time.Minute)
		}
		if got := b.current(); got != s.want {
			t.Fatalf("step %d (%s): state %s, want %s", i, s.do, got, s.want)
		}
	}
	want := []string{"closed>open", "open>half_open", "half_open>open", "open>half_open", "half_open>closed"}
	if mustJSON(t, changes) != mustJSON(t, want) {
		t.Errorf("transitions %q, want %q", changes, want)
	}
}

func TestProviderBreakerOpensAndHalfOpens(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	var healthy atomic.Bool
	var h hits
	srv := MustServer(t, func(w http.ResponseWriter, r *http.Request) {
		h.add()
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, http.StatusOK, MustReadTestdata(t, "bodacc_none.json"))
	})
	opts := fastOptions()
	opts.MaxAttempts = 2
	opts.Now = clock.Now
	opts.Breaker = BreakerOptions{Failures: 2, CoolDown: 30 * time.Second}
	var states []BreakerState
	opts.Hooks.OnBreaker = func(p string, _, to BreakerState) { states = append(states, to) }
	b, _ := NewBODACC(srv.URL, opts)
	c := Company{ClientID: "C-1", RegistrationID: "812345676"}
	fetch := func() error { _, err := b.Fetch(context.Background(), c); return err }

	for i := 0; i < 2; i++ {
		if err := fetch(); err == nil || errors.Is(err, ErrCircuitOpen) {
			t.Fatalf("fetch %d: err = %v, want a provider failure", i, err)
		}
	}
	if h.count() != 4 || b.BreakerState() != BreakerOpen {
		t.Fatalf("after two failed fetches: %d requests, breaker %s", h.count(), b.BreakerState())
	}
	// Open: fail fast, no request, a distinct error the HTTP layer maps to 503.
	err := fetch()
	if !errors.Is(err, ErrCircuitOpen) || fault.Code(err) != fault.Unavailable || h.count() != 4 {
		t.Fatalf("while open: err = %v, %d requests", err, h.count())
	}
	// After the cool-down one trial goes through; the provider is back, so the circuit closes.
	clock.Add(30 * time.Second)
	healthy.Store(true)
	if err := fetch(); err != nil {
		t.Fatalf("trial fetch: %v", err)
	}
	if b.BreakerState() != BreakerClosed || h.count() != 5 {
		t.Errorf("after a good trial: breaker %s, %d requests", b.BreakerState(), h.count())
	}
	if mustJSON(t, states) != mustJSON(t, []BreakerState{BreakerOpen, BreakerHalfOpen, BreakerClosed}) {
		t.Errorf("breaker hook saw %v", states)
	}
}

func TestUnsupportedCompanyDoesNotTripTheBreaker(t *testing.T) {
	opts := fastOptions()
	opts.Breaker = BreakerOptions{Failures: 1}
	b, _ := NewBODACC("http://127.0.0.1:1", opts)
	for i := 0; i < 3; i++ {
		if _, err := b.Fetch(context.Background(), Company{ClientID: "C", RegistrationID: "GB123"}); !errors.Is(err, ErrUnsupported) {
			t.Fatal(err)
		}
	}
	if b.BreakerState() != BreakerClosed {
		t.Errorf("breaker %s", b.BreakerState())
	}
}
