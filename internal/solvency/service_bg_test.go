package solvency

import (
	"context"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/ledger"
)

// MustEventually polls cond every 10 ms until it holds, failing after 10 s.
func MustEventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// MustStoreSnapshot stores a snapshot of a provider as if fetched at the given time.
func MustStoreSnapshot(t *testing.T, store *memServiceStore, clientID, provider string, at time.Time) {
	t.Helper()
	g := 5
	snap := Snapshot{Provider: provider, ClientID: clientID, FetchedAt: at, CompanyStatus: StatusActive, Grade: &g}
	if _, err := store.SaveSnapshots(context.Background(), []Snapshot{snap}, SaveInfo{Actor: "test", Source: SourceFetch}); err != nil {
		t.Fatal(err)
	}
}

// TestServiceBackgroundRefreshIsBounded: the worker fetches the never-fetched client first, then
// snapshots older than the maximum age, oldest first, one request per rate interval, and leaves
// fresh snapshots and companies no provider covers alone.
func TestServiceBackgroundRefreshIsBounded(t *testing.T) {
	w := MustWorld(t)
	store := newMemServiceStore(
		Company{ClientID: "OLD-1", RegistrationID: "904123783"},
		Company{ClientID: "OLD-2", RegistrationID: "443061841"},
		Company{ClientID: "OLD-3", RegistrationID: "812345676"},
		Company{ClientID: "FRESH", RegistrationID: "798456125"},
		Company{ClientID: "NEW", RegistrationID: "833120454"},
		Company{ClientID: "DE", RegistrationID: "DE811569869", Country: "DE"},
		Company{ClientID: "NONE"},
	)
	clock := func() time.Time { return serviceClock }
	MustStoreSnapshot(t, store, "OLD-1", "bureau", serviceClock.Add(-31*24*time.Hour))
	MustStoreSnapshot(t, store, "OLD-2", "bureau", serviceClock.Add(-90*24*time.Hour))
	MustStoreSnapshot(t, store, "OLD-3", "bureau", serviceClock.Add(-45*24*time.Hour))
	MustStoreSnapshot(t, store, "FRESH", "bureau", serviceClock.Add(-29*24*time.Hour))
	providers := w.MustProviders(t, clock)
	const perMinute = 600 // one fetch per 100 ms
	s, inv := MustService(t, w, store, ServiceConfig{Providers: providers[2:], PerMinute: perMinute, Interval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	MustEventually(t, "four background fetches stored", func() bool {
		store.mu.Lock()
		defer store.mu.Unlock()
		return len(store.stored) >= 8
	})
	cancel()
	<-done

	var order []string
	for _, snap := range store.stored[4:] {
		order = append(order, snap.ClientID)
	}
	if want := []string{"NEW", "OLD-2", "OLD-3", "OLD-1"}; mustJSON(t, order) != mustJSON(t, want) {
		t.Errorf("fetched %v, want %v", order, want)
	}
	// The limiter lets one request go per interval; arrival times also carry each request's
	// latency, so the bound is checked over the whole run, with a little slack for it.
	times := w.hits["bureau"].times
	gap := time.Minute / perMinute
	if span := times[len(times)-1].Sub(times[0]); span < time.Duration(len(times)-1)*gap-20*time.Millisecond {
		t.Errorf("%d requests in %v, want at least %v between each", len(times), span, gap)
	}
	if got := inv.list(); len(got) != 4 {
		t.Errorf("invalidated %v, want the four refreshed clients", got)
	}
	if s := store.latest("FRESH", "bureau"); !s.snap.FetchedAt.Equal(serviceClock.Add(-29 * 24 * time.Hour)) {
		t.Errorf("a fresh snapshot was refetched: %v", s.snap.FetchedAt)
	}
}

// TestServiceFetchesNewAndChangedClients: the ledger hook queues a new client and Run fetches it
// at once; a client renamed keeps its snapshots, one whose SIREN changed is fetched again and its
// old company's snapshots no longer count; a company no provider covers is not queued.
func TestServiceFetchesNewAndChangedClients(t *testing.T) {
	w := MustWorld(t)
	store := newMemServiceStore()
	s, _ := MustService(t, w, store, ServiceConfig{Interval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	client := ledger.Client{ClientID: "C-9", Name: "Distribution Exemple", RegistrationID: "812345676", Country: "FR"}
	store.setCompany(Company{ClientID: client.ClientID, Name: client.Name, RegistrationID: client.RegistrationID, Country: client.Country})
	s.ClientIdentityChanged(ctx, client)
	MustEventually(t, "the new client's snapshots", func() bool {
		st, _ := store.States(ctx, "C-9", false)
		return len(st) == 3
	})
	v, ok, err := s.View(ctx, "C-9")
	if err != nil || !ok || !v.Insolvency.Open {
		t.Fatalf("view %+v ok %v err %v", v, ok, err)
	}

	requests := func() int { return w.requests("bodacc") + w.requests("sirene") + w.requests("bureau") }
	before := requests()
	if err := s.fetchIfDue(ctx, "C-9"); err != nil {
		t.Fatal(err)
	}
	if requests() != before {
		t.Error("a client with fresh snapshots was fetched again")
	}

	store.setCompany(Company{ClientID: "C-9", Name: client.Name, RegistrationID: "904123783", Country: "FR"})
	if v, ok, _ := s.View(ctx, "C-9"); ok || v.Available {
		t.Errorf("the old company's snapshots still count: %+v", v)
	}
	if err := s.fetchIfDue(ctx, "C-9"); err != nil {
		t.Fatal(err)
	}
	if requests() < before+3 {
		t.Errorf("%d requests after the SIREN changed, want one per provider", requests()-before)
	}
	if v, ok, _ := s.View(ctx, "C-9"); !ok || v.Insolvency.Open || v.CompanyStatus != StatusActive {
		t.Errorf("view of the new company %+v", v)
	}

	s.ClientIdentityChanged(ctx, ledger.Client{ClientID: "DE-1", RegistrationID: "DE811569869", Country: "DE"})
	s.ClientIdentityChanged(ctx, ledger.Client{ClientID: "X-1"})
	if n := len(s.newClients); n != 0 {
		t.Errorf("%d clients queued that no provider can look up", n)
	}
}
