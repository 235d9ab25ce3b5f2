package solvency

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/fault"
)

// memStore is the tiny in-memory Store the refresher tests run on.
type memStore struct {
	mu        sync.Mutex
	companies map[string]Company
	snapshots map[string]map[string]Snapshot  // client -> provider -> latest
	failures  map[string]map[string]time.Time // client -> provider -> last failure
	saved     []string                        // "client/provider" in save order
}

func newMemStore(cs ...Company) *memStore {
	m := &memStore{companies: map[string]Company{}, snapshots: map[string]map[string]Snapshot{}, failures: map[string]map[string]time.Time{}}
	for _, c := range cs {
		m.companies[c.ClientID] = c
	}
	return m
}

func (m *memStore) FetchStates(ctx context.Context) ([]FetchState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []FetchState
	for id, c := range m.companies {
		st := FetchState{Company: c, LastSnapshot: map[string]time.Time{}, LastFailure: map[string]time.Time{}}
		for p, s := range m.snapshots[id] {
			st.LastSnapshot[p] = s.FetchedAt
		}
		for p, f := range m.failures[id] {
			st.LastFailure[p] = f
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b FetchState) int { return compareStrings(a.Company.ClientID, b.Company.ClientID) })
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (m *memStore) Company(ctx context.Context, id string) (Company, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.companies[id]
	if !ok {
		return Company{}, fault.Errorf(fault.NotFound, "client %s not found", id)
	}
	return c, nil
}

func (m *memStore) SaveSnapshot(ctx context.Context, s Snapshot) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.snapshots[s.ClientID] == nil {
		m.snapshots[s.ClientID] = map[string]Snapshot{}
	}
	m.snapshots[s.ClientID][s.Provider] = s
	delete(m.failures[s.ClientID], s.Provider)
	m.saved = append(m.saved, s.ClientID+"/"+s.Provider)
	return nil
}

func (m *memStore) RecordFailure(ctx context.Context, client, provider string, at time.Time, cause error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failures[client] == nil {
		m.failures[client] = map[string]time.Time{}
	}
	m.failures[client][provider] = at
	return nil
}

// funcProvider is a Provider made of a function, counting its calls.
type funcProvider struct {
	name  string
	mu    sync.Mutex
	calls []string
	fetch func(c Company) (Snapshot, error)
}

func (p *funcProvider) Name() string { return p.name }

func (p *funcProvider) Fetch(ctx context.Context, c Company) (Snapshot, error) {
	p.mu.Lock()
	p.calls = append(p.calls, c.ClientID)
	p.mu.Unlock()
	s, err := p.fetch(c)
	if err == nil {
		s.Provider, s.ClientID = p.name, c.ClientID
	}
	return s, err
}

func (p *funcProvider) called() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.calls)
}

func okProvider(name string, now func() time.Time) *funcProvider {
	return &funcProvider{name: name, fetch: func(c Company) (Snapshot, error) {
		return Snapshot{FetchedAt: now(), CompanyStatus: StatusActive}, nil
	}}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestRefreshDue(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)}
	day := 24 * time.Hour
	store := newMemStore(
		Company{ClientID: "new", RegistrationID: "904123783"},
		Company{ClientID: "fresh", RegistrationID: "812345676"},
		Company{ClientID: "old", RegistrationID: "798456125"},
		Company{ClientID: "failed-recently", RegistrationID: "833120454"},
		Company{ClientID: "failed-long-ago", RegistrationID: "512349879"},
		Company{ClientID: "foreign", RegistrationID: "GB01234567", Country: "GB"},
	)
	seed := func(client string, age time.Duration) {
		store.snapshots[client] = map[string]Snapshot{"bodacc": {Provider: "bodacc", ClientID: client, FetchedAt: clock.Now().Add(-age)}}
	}
	seed("fresh", 2*day)
	seed("old", 45*day)
	seed("failed-recently", 40*day)
	seed("failed-long-ago", 40*day)
	store.failures["failed-recently"] = map[string]time.Time{"bodacc": clock.Now().Add(-10 * time.Minute)}
	store.failures["failed-long-ago"] = map[string]time.Time{"bodacc": clock.Now().Add(-3 * time.Hour)}

	p := okProvider("bodacc", clock.Now)
	inner := p.fetch
	p.fetch = func(c Company) (Snapshot, error) {
		if c.Country == "GB" {
			return Snapshot{}, unsupported("not French")
		}
		return inner(c)
	}
	var invalidated []string
	r := NewRefresher(store, []Provider{p}, RefresherOptions{PerMinute: 600000, Now: clock.Now, Logger: quietLogger(),
		OnSaved: func(id string) { invalidated = append(invalidated, id) }})
	saved, err := r.RefreshDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Never-fetched clients first, then the oldest snapshots.
	if got, want := p.called(), []string{"foreign", "new", "old", "failed-long-ago"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("fetched %v, want %v", got, want)
	}
	if saved != 3 || fmt.Sprint(invalidated) != fmt.Sprint([]string{"new", "old", "failed-long-ago"}) {
		t.Errorf("saved %d, invalidated %v", saved, invalidated)
	}
	if _, ok := store.failures["foreign"]; ok {
		t.Error("an unsupported company was recorded as a failure")
	}
	// Second pass: everything is fresh, the foreign client is remembered as unsupported.
	if saved, _ := r.RefreshDue(context.Background()); saved != 0 || len(p.called()) != 4 {
		t.Errorf("second pass saved %d and made %d calls in all", saved, len(p.called()))
	}
	// A month later, all are due again except the one that failed recently... which by now has not.
	clock.Add(31 * day)
	if saved, _ := r.RefreshDue(context.Background()); saved != 5 {
		t.Errorf("a month later saved %d, want 5", saved)
	}
}

func TestRefreshRecordsFailuresAndSkipsDownProviders(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)}
	store := newMemStore(Company{ClientID: "a", RegistrationID: "904123783"}, Company{ClientID: "b", RegistrationID: "812345676"},
		Company{ClientID: "c", RegistrationID: "798456125"})
	broken := &funcProvider{name: "sirene", fetch: func(c Company) (Snapshot, error) {
		return Snapshot{}, unavailable("sirene", &FetchError{Provider: "sirene", Status: 500, Attempts: 3, Err: errors.New("server error")})
	}}
	down := &funcProvider{name: "bureau", fetch: func(c Company) (Snapshot, error) {
		return Snapshot{}, unavailable("bureau", &FetchError{Provider: "bureau", Err: ErrCircuitOpen})
	}}
	bad := &funcProvider{name: "bodacc", fetch: func(c Company) (Snapshot, error) {
		return Snapshot{FetchedAt: clock.Now(), CompanyStatus: "maybe"}, nil // an adapter bug
	}}
	r := NewRefresher(store, []Provider{bad, broken, down}, RefresherOptions{PerMinute: 600000, Now: clock.Now, Logger: quietLogger()})
	saved, err := r.RefreshDue(context.Background())
	if err != nil || saved != 0 {
		t.Fatalf("saved %d, err %v", saved, err)
	}
	if len(broken.called()) != 3 || len(down.called()) != 1 || len(bad.called()) != 3 {
		t.Errorf("calls: sirene %v, bureau %v, bodacc %v; a down provider must be asked once per pass", broken.called(), down.called(), bad.called())
	}
	for _, id := range []string{"a", "b", "c"} {
		if _, ok := store.failures[id]["sirene"]; !ok {
			t.Errorf("client %s: sirene failure not recorded", id)
		}
		if _, ok := store.failures[id]["bodacc"]; !ok {
			t.Errorf("client %s: invalid bodacc snapshot not recorded as a failure", id)
		}
		if _, ok := store.failures[id]["bureau"]; ok {
			t.Errorf("client %s: an open circuit was recorded against the client", id)
		}
	}
	if len(store.saved) != 0 {
		t.Errorf("saved %v", store.saved)
	}
}

func TestFetchNow(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 6, 30, 12, 0, 0, 0, time.UTC)}
	store := newMemStore(Company{ClientID: "a", RegistrationID: "904123783"}, Company{ClientID: "gb", RegistrationID: "X1", Country: "GB"})
	good := okProvider("bodacc", clock.Now)
	failing := &funcProvider{name: "sirene", fetch: func(c Company) (Snapshot, error) {
		if c.Country == "GB" {
			return Snapshot{}, unsupported("not French")
		}
		return Snapshot{}, unavailable("sirene", &FetchError{Provider: "sirene", Status: 503, Attempts: 3, Err: errors.New("down")})
	}}
	good.fetch = func(c Company) (Snapshot, error) {
		if c.Country == "GB" {
			return Snapshot{}, unsupported("not French")
		}
		return Snapshot{FetchedAt: clock.Now(), CompanyStatus: StatusActive}, nil
	}
	var invalidated []string
	var mu sync.Mutex
	r := NewRefresher(store, []Provider{good, failing}, RefresherOptions{Now: clock.Now, Logger: quietLogger(),
		OnSaved: func(id string) { mu.Lock(); invalidated = append(invalidated, id); mu.Unlock() }})

	snaps, err := r.FetchNow(context.Background(), "a")
	if len(snaps) != 1 || snaps[0].Provider != "bodacc" || fault.Code(err) != fault.Unavailable {
		t.Fatalf("snapshots %+v, err %v", snaps, err)
	}
	if store.snapshots["a"]["bodacc"].FetchedAt != clock.Now() || store.failures["a"]["sirene"] != clock.Now() || fmt.Sprint(invalidated) != "[a]" {
		t.Errorf("store %+v failures %+v invalidated %v", store.snapshots, store.failures, invalidated)
	}
	if _, err := r.FetchNow(context.Background(), "gb"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("foreign client: err = %v, want ErrUnsupported", err)
	}
	if _, err := r.FetchNow(context.Background(), "nobody"); fault.Code(err) != fault.NotFound {
		t.Errorf("unknown client: err = %v", err)
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	store := newMemStore(Company{ClientID: "a", RegistrationID: "904123783"})
	p := okProvider("bodacc", time.Now)
	done := make(chan struct{})
	r := NewRefresher(store, []Provider{p}, RefresherOptions{PerMinute: 600000, Interval: time.Hour, Logger: quietLogger(),
		OnSaved: func(string) { close(done) }})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx) }()
	<-done // the first pass runs at once
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}
	if len(p.called()) != 1 {
		t.Errorf("calls %v", p.called())
	}
}
