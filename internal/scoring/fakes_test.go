package scoring

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/receivables"
)

// The service's sources, in memory. They follow the contracts the service documents, so the
// service's own logic (caching, staleness, ordering of stamps and facts) is what these tests
// check; the Postgres store and the Redis cache have their own tests against the real servers.

// fakeFacts serves facts per client; before runs at the start of each FactsByClient call.
type fakeFacts struct {
	mu     sync.Mutex
	facts  map[string]receivables.Facts
	calls  int
	before func(ids []string)
}

func (f *fakeFacts) set(id string, fs receivables.Facts) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.facts[id] = fs
}

func (f *fakeFacts) ClientFacts(_ context.Context, id string, asOf ledger.Date, _ bool) (receivables.Facts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	fs, ok := f.facts[id]
	if !ok {
		return receivables.Facts{}, fault.Errorf(fault.NotFound, "client %q not found", id)
	}
	fs.AsOf = asOf
	return fs, nil
}

func (f *fakeFacts) FactsByClient(_ context.Context, asOf ledger.Date, ids []string) (map[string]receivables.Facts, error) {
	if f.before != nil {
		f.before(ids)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	out := map[string]receivables.Facts{}
	for _, id := range ids {
		if fs, ok := f.facts[id]; ok {
			fs.AsOf = asOf
			out[id] = fs
		}
	}
	return out, nil
}

// fakeStore records scores as postgres.Scores does: a history row when the score or the class
// of a client under a model version differs from its latest one.
type fakeStore struct {
	mu      sync.Mutex
	latest  map[[2]string]HistoryEntry
	history []HistoryEntry
	clients []string
}

func newFakeStore(clients ...string) *fakeStore {
	return &fakeStore{latest: map[[2]string]HistoryEntry{}, clients: clients}
}

func (s *fakeStore) Record(_ context.Context, es []HistoryEntry) ([]Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Change
	for _, e := range es {
		k := [2]string{e.ClientID, e.ModelVersion}
		prev, ok := s.latest[k]
		if ok && prev.Score == e.Score && prev.RiskClass == e.RiskClass {
			continue
		}
		s.latest[k] = e
		s.history = append(s.history, e)
		out = append(out, Change{ClientID: e.ClientID, From: prev.RiskClass, To: e.RiskClass})
	}
	return out, nil
}

func (s *fakeStore) History(_ context.Context, id string, limit int) ([]HistoryEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []HistoryEntry
	for i := len(s.history) - 1; i >= 0 && len(out) < limit; i-- {
		if s.history[i].ClientID == id {
			out = append(out, s.history[i])
		}
	}
	return out, nil
}

func (s *fakeStore) ClientIDs(context.Context) ([]string, error) {
	out := append([]string(nil), s.clients...)
	sort.Strings(out)
	return out, nil
}

// stampCache keeps the cache's promise the service relies on: Refresh and GetOrCompute read the
// id's stamp before computing and store the result only if no invalidation happened since.
type stampCache struct {
	mu       sync.Mutex
	vals     map[string][]byte
	stamps   map[string]int
	gen      int
	computes int
}

func newStampCache() *stampCache {
	return &stampCache{vals: map[string][]byte{}, stamps: map[string]int{}}
}

func (c *stampCache) stamp(id string) [2]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return [2]int{c.gen, c.stamps[id]}
}

func (c *stampCache) fill(ctx context.Context, id string, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	st := c.stamp(id)
	v, err := compute(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.computes++
	if st == [2]int{c.gen, c.stamps[id]} {
		c.vals[id] = v
	}
	return v, nil
}

func (c *stampCache) GetOrCompute(ctx context.Context, id string, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	v, ok := c.vals[id]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	return c.fill(ctx, id, compute)
}

func (c *stampCache) Refresh(ctx context.Context, id string, compute func(context.Context) ([]byte, error)) ([]byte, error) {
	return c.fill(ctx, id, compute)
}

func (c *stampCache) Invalidate(_ context.Context, ids ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		c.stamps[id]++
		delete(c.vals, id)
	}
}

func (c *stampCache) InvalidateAll(context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	clear(c.vals)
}

func (c *stampCache) get(id string) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.vals[id]
	return v, ok
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testDay is the ledger date of the service tests.
var testDay = ledger.DateOf(2026, 3, 31)

// payer is the facts of a client with a first invoice 30 months ago, paid invoices dbt days
// late on average over the year, and open amounts (cents) overdue by overdueDays.
func payer(id string, dbt int, open ledger.Money, overdueDays int) receivables.Facts {
	first := testDay.AddMonths(-30)
	f := receivables.Facts{
		AsOf:         testDay,
		FirstInvoice: &first,
		Paid: []receivables.PaidGroup{
			{ClientID: id, DBT: dbt, Recent: true, Count: 6, Amount: 600_000, SumDaysToPay: 6 * int64(30+dbt)},
			{ClientID: id, DBT: dbt, Recent: false, Count: 8, Amount: 800_000, SumDaysToPay: 8 * int64(30+dbt)},
		},
		Issued12m: 1_400_000 + open,
	}
	if open > 0 {
		f.Open = []receivables.OpenItem{{ClientID: id, DueDate: testDay.AddDays(-overdueDays), Balance: open, Count: 1}}
	}
	return f
}

// MustService returns a service over the default model and the fakes, on a clock at noon of
// testDay.
func MustService(t testing.TB, facts *fakeFacts, store *fakeStore, c Cache, clk *clock) *Service {
	t.Helper()
	svc, err := NewService(Config{Model: MustDefaultModel(t), Facts: facts, Store: store, Cache: c, Now: clk.Now,
		Workers: 2, ChunkSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func newClock() *clock {
	return &clock{t: testDay.Time().Add(12 * time.Hour)}
}
