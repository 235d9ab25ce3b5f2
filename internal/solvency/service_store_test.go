package solvency

import (
	"cmp"
	"context"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/credorisk/credo/internal/fault"
)

// memServiceStore is an in-memory ServiceStore with the Postgres store's rules (company keys,
// latest by fetch time, failures cleared by a newer snapshot), so the service tests run without
// a database; internal/postgres tests the real one against the same rules.
type memServiceStore struct {
	mu        sync.Mutex
	companies map[string]Company
	states    map[string]map[string]*memState // client -> provider
	saves     int                             // SaveSnapshots calls that stored something
	stored    []Snapshot                      // every snapshot stored, in order
	reads     int                             // States and StatesByClient calls
}

type memState struct {
	key      string
	snap     *Snapshot
	failedAt *time.Time
	failure  string
}

func newMemServiceStore(cs ...Company) *memServiceStore {
	m := &memServiceStore{companies: map[string]Company{}, states: map[string]map[string]*memState{}}
	for _, c := range cs {
		m.companies[c.ClientID] = c
	}
	return m
}

func memKey(c Company) string { return c.Country + "|" + c.RegistrationID }

// setCompany changes a client's registration id or country, as a ledger write would.
func (m *memServiceStore) setCompany(c Company) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.companies[c.ClientID] = c
}

func (m *memServiceStore) Company(_ context.Context, id string) (Company, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.companies[id]
	if !ok {
		return Company{}, fault.Errorf(fault.NotFound, "no client %q", id)
	}
	return c, nil
}

var memLookupRE = regexp.MustCompile(`^([0-9]{9}|[0-9]{14}|FR[0-9]{11})$`)

func (m *memServiceStore) DueStates(_ context.Context, q DueQuery) ([]FetchState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	type cand struct {
		st     FetchState
		oldest time.Time
	}
	var cands []cand
	for id, c := range m.companies {
		if !memLookupRE.MatchString(c.RegistrationID) || (c.Country != "" && c.Country != "FR") {
			continue
		}
		st := FetchState{Company: c, LastSnapshot: map[string]time.Time{}, LastFailure: map[string]time.Time{}}
		for p, s := range m.current(id) {
			if s.snap != nil {
				st.LastSnapshot[p] = s.snap.FetchedAt
			}
			if s.failedAt != nil {
				st.LastFailure[p] = *s.failedAt
			}
		}
		due, oldest := false, time.Time{}
		for _, p := range q.Providers {
			last, seen := st.LastSnapshot[p]
			failed, hasFailed := st.LastFailure[p]
			if seen && !last.Before(q.StaleBefore) || hasFailed && failed.After(last) && failed.After(q.FailedSince) {
				continue
			}
			if !due || last.Before(oldest) {
				oldest = last
			}
			due = true
		}
		if due {
			cands = append(cands, cand{st, oldest})
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		return cmp.Or(a.oldest.Compare(b.oldest), cmp.Compare(a.st.Company.ClientID, b.st.Company.ClientID))
	})
	var out []FetchState
	for i, c := range cands {
		if i == q.Limit {
			break
		}
		out = append(out, c.st)
	}
	return out, nil
}

// current is the client's states under its current company key; m.mu is held.
func (m *memServiceStore) current(id string) map[string]*memState {
	out := map[string]*memState{}
	key := memKey(m.companies[id])
	for p, s := range m.states[id] {
		if s.key == key {
			out[p] = s
		}
	}
	return out
}

func (m *memServiceStore) SaveSnapshots(_ context.Context, snaps []Snapshot, info SaveInfo) ([]int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var missing []int
	for i, s := range snaps {
		if err := s.Validate(); err != nil {
			return nil, err
		}
		if _, ok := m.companies[s.ClientID]; !ok {
			missing = append(missing, i)
		}
	}
	if info.Atomic && len(missing) > 0 {
		return missing, nil
	}
	for i, s := range snaps {
		if slices.Contains(missing, i) {
			continue
		}
		s.FetchedAt = s.FetchedAt.UTC().Truncate(time.Microsecond)
		m.stored = append(m.stored, s)
		key := memKey(m.companies[s.ClientID])
		if m.states[s.ClientID] == nil {
			m.states[s.ClientID] = map[string]*memState{}
		}
		st := m.states[s.ClientID][s.Provider]
		if st == nil || st.key != key {
			st = &memState{key: key}
			m.states[s.ClientID][s.Provider] = st
		}
		if st.snap == nil || !s.FetchedAt.Before(st.snap.FetchedAt) {
			snap := s
			st.snap = &snap
		}
		if st.failedAt != nil && !st.failedAt.After(s.FetchedAt) {
			st.failedAt, st.failure = nil, ""
		}
	}
	if len(snaps) > len(missing) {
		m.saves++
	}
	return missing, nil
}

func (m *memServiceStore) MissingClients(_ context.Context, ids []string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, id := range ids {
		if _, ok := m.companies[id]; !ok {
			out = append(out, id)
		}
	}
	return out, nil
}

func (m *memServiceStore) RecordFailure(_ context.Context, id, provider string, at time.Time, cause error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.companies[id]
	if !ok {
		return fault.Errorf(fault.NotFound, "no client %q", id)
	}
	if m.states[id] == nil {
		m.states[id] = map[string]*memState{}
	}
	st := m.states[id][provider]
	if st == nil || st.key != memKey(c) {
		st = &memState{key: memKey(c)}
		m.states[id][provider] = st
	}
	at = at.UTC()
	st.failedAt, st.failure = &at, cause.Error()
	return nil
}

func (m *memServiceStore) States(_ context.Context, id string, withRaw bool) ([]ProviderState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	if _, ok := m.companies[id]; !ok {
		return nil, fault.Errorf(fault.NotFound, "no client %q", id)
	}
	return m.providerStates(id, withRaw), nil
}

func (m *memServiceStore) providerStates(id string, withRaw bool) []ProviderState {
	out := []ProviderState{}
	for p, s := range m.current(id) {
		ps := ProviderState{Provider: p, FailedAt: s.failedAt, Failure: s.failure}
		if s.snap != nil {
			snap := *s.snap
			if !withRaw {
				snap.Raw = nil
			}
			ps.Snapshot = &snap
		}
		out = append(out, ps)
	}
	slices.SortFunc(out, func(a, b ProviderState) int { return cmp.Compare(a.Provider, b.Provider) })
	return out
}

func (m *memServiceStore) StatesByClient(_ context.Context, ids []string) (map[string][]ProviderState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reads++
	out := map[string][]ProviderState{}
	for _, id := range ids {
		if _, ok := m.companies[id]; ok {
			if st := m.providerStates(id, false); len(st) > 0 {
				out[id] = st
			}
		}
	}
	return out, nil
}

// latest returns the stored state of one provider, or nil.
func (m *memServiceStore) latest(id, provider string) *memState {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.current(id)[provider]
	if s == nil {
		return nil
	}
	c := *s
	return &c
}
