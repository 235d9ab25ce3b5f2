package policy

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/policies"
)

// MustEventually waits up to limit for cond.
func MustEventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
	}
}

// activateDirectly changes the active version in the store only, as another replica would.
func activateDirectly(t *testing.T, store *memStore, v int) {
	t.Helper()
	if _, err := store.Activate(context.Background(), Activation{Version: v, Actor: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
}

func MustDraftVersion(t *testing.T, store *memStore, src string) int {
	t.Helper()
	modules, data := MustEmbedded(t)
	modules["extra.rego"] = src
	hash, _ := decision.ContentHash(modules, data)
	v, err := store.Create(context.Background(), Version{Parent: new(1), Modules: modules, Data: data, Hash: hash, Author: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	return v.Version
}

func TestProviderFollowsActivations(t *testing.T) {
	tests := []struct {
		name string
		bus  bool
		poll time.Duration
	}{
		{"through the bus", true, time.Hour},
		{"through the poll, without a bus", false, 20 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := &memStore{}
			var bus Bus
			rb := &recordingBus{}
			if tc.bus {
				bus = rb
			}
			var swaps []int
			var mu sync.Mutex
			p := NewProvider(store, NewEngines(store, decision.Options{}, 0), bus, ProviderConfig{PollInterval: tc.poll, Bootstrap: policies.FS,
				Swapped: func(_, to int) { mu.Lock(); swaps = append(swaps, to); mu.Unlock() }})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if err := p.Load(ctx); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { p.Run(ctx); close(done) }()
			if p.Active().Version != 1 {
				t.Fatalf("serving %d after Load, want the bootstrapped 1", p.Active().Version)
			}
			v := MustDraftVersion(t, store, extraRule)
			activateDirectly(t, store, v)
			if tc.bus {
				_ = rb.Publish(ctx, Topic, notice{Version: v}.payload())
			}
			MustEventually(t, 2*time.Second, "the new version served", func() bool { return p.Active().Version == v })
			details, err := p.Readiness()
			if err != nil || details["policy_version"] != v || details["policy_hash"] != p.Active().Engine.Hash() {
				t.Fatalf("readiness %v, %v", details, err)
			}
			cancel()
			<-done
			mu.Lock()
			defer mu.Unlock()
			if len(swaps) != 2 || swaps[0] != 1 || swaps[1] != v {
				t.Fatalf("swaps %v, want [1 %d]", swaps, v)
			}
		})
	}
}

func TestProviderKeepsServingWhatItHas(t *testing.T) {
	store := MustStore(t)
	engines := NewEngines(store, decision.Options{}, 0)
	p := NewProvider(store, engines, nil, ProviderConfig{})
	ctx := context.Background()
	if err := p.Load(ctx); err != nil {
		t.Fatal(err)
	}
	// A version whose stored content no longer matches its hash cannot be served.
	v := MustDraftVersion(t, store, extraRule)
	store.mu.Lock()
	store.versions[v-1].Modules["extra.rego"] += "\n# edited behind the store's back\n"
	store.mu.Unlock()
	activateDirectly(t, store, v)
	if err := p.Sync(ctx); err == nil || !strings.Contains(err.Error(), "hashes to") {
		t.Fatalf("sync of a tampered version: %v", err)
	}
	st := p.Serving()
	if p.Active().Version != 1 || st.Active != v || st.Failure == "" {
		t.Fatalf("serving %d, state %+v", p.Active().Version, st)
	}
	details, err := p.Readiness()
	if err != nil || details["policy_active_version"] != v || details["policy_error"] == nil {
		t.Fatalf("readiness %v, %v: still ready on version 1, saying why not %d", details, err, v)
	}
	// The database down: still serving, and saying so.
	store.down.Store(true)
	if err := p.Sync(ctx); err == nil || p.Active().Version != 1 {
		t.Fatalf("sync with the store down: %v, serving %d", err, p.Active().Version)
	}
	store.down.Store(false)
	activateDirectly(t, store, 1) // rolled back elsewhere
	if err := p.Sync(ctx); err != nil || p.Serving().Failure != "" {
		t.Fatalf("after the rollback: %v, %+v", err, p.Serving())
	}
}

func TestProviderNotReadyWithoutAVersion(t *testing.T) {
	store := &memStore{}
	p := NewProvider(store, NewEngines(store, decision.Options{}, 0), nil, ProviderConfig{})
	if err := p.Load(context.Background()); err == nil || p.Active() != nil {
		t.Fatal("a provider without bootstrap folder nor stored version loaded something")
	}
	if _, err := p.Readiness(); err == nil {
		t.Fatal("ready without a policy")
	}
}

func TestEnginesCompileOncePerVersion(t *testing.T) {
	store := MustStore(t)
	var versions []int
	for range 5 {
		versions = append(versions, MustDraftVersion(t, store, extraRule))
	}
	engines := NewEngines(store, decision.Options{}, 2)
	ctx := context.Background()
	before := store.gets.Load()
	var wg sync.WaitGroup
	got := make([]*decision.Policy, 8)
	for i := range got {
		wg.Go(func() {
			var err error
			if got[i], err = engines.Get(ctx, versions[0]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := store.gets.Load() - before; n != 1 {
		t.Fatalf("8 concurrent callers read the version %d times, want once", n)
	}
	for _, p := range got {
		if p != got[0] {
			t.Fatal("callers got different engines for one version")
		}
	}
	for _, v := range versions {
		if _, err := engines.Get(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	engines.mu.Lock()
	kept := len(engines.entries)
	engines.mu.Unlock()
	if kept != 2 {
		t.Fatalf("%d engines kept, want 2", kept)
	}
	// A store failure is not remembered; a missing version is not compiled.
	store.down.Store(true)
	if _, err := engines.Get(ctx, 1); err == nil {
		t.Fatal("compiled with the store down")
	}
	store.down.Store(false)
	if p, err := engines.Get(ctx, 1); err != nil || p.Version != 1 {
		t.Fatalf("after the store came back: %v", err)
	}
	if _, err := engines.Get(ctx, 99); err == nil {
		t.Fatal("compiled a version that does not exist")
	}
}
