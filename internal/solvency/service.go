package solvency

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// The Service is solvency data end to end on top of the adapters: snapshots in storage, the
// merged view that scoring and decisions read (from storage only, never from a provider), the
// refresh endpoint, bureau CSV imports, the background refresh and the fetch for new clients.

// ServiceStore is what the Service needs from storage; postgres.Solvency implements it. Every
// read answers for the client's current company only: snapshots and failures stored while the
// client had another registration id or country no longer count.
type ServiceStore interface {
	// Company returns one client's company; a fault NotFound error when there is no such client.
	Company(ctx context.Context, clientID string) (Company, error)
	// DueStates lists at most q.Limit clients whose company a provider can look up (a French
	// SIREN, SIRET or VAT number) and for which some provider of q.Providers has no snapshot
	// fetched at or after q.StaleBefore and no failure after both its snapshot and q.FailedSince;
	// never-fetched clients first, then by their oldest snapshot. Each comes with the state of
	// every provider.
	DueStates(ctx context.Context, q DueQuery) ([]FetchState, error)
	// SaveSnapshots stores snapshots in one transaction, each becoming its client's latest for its
	// provider unless a newer one is stored, and clears the provider's failure when the snapshot
	// is newer than it. Snapshots of clients that do not exist are not stored: their indexes are
	// returned. With info.Atomic nothing is stored when any client is missing.
	SaveSnapshots(ctx context.Context, snaps []Snapshot, info SaveInfo) (missing []int, err error)
	// MissingClients returns the ids, among these, of clients that do not exist.
	MissingClients(ctx context.Context, clientIDs []string) ([]string, error)
	// RecordFailure notes a failed fetch (time and error); the last good snapshot stays.
	RecordFailure(ctx context.Context, clientID, provider string, at time.Time, cause error) error
	// States returns the client's latest snapshot and last failure per provider, raw payloads
	// included when withRaw; a fault NotFound error when there is no such client.
	States(ctx context.Context, clientID string, withRaw bool) ([]ProviderState, error)
	// StatesByClient is States for many clients, without raw payloads; clients with no state
	// (or that do not exist) are absent.
	StatesByClient(ctx context.Context, clientIDs []string) (map[string][]ProviderState, error)
}

// DueQuery selects the clients the background refresh should fetch.
type DueQuery struct {
	Providers   []string
	StaleBefore time.Time // a snapshot fetched before this is due
	FailedSince time.Time // a failure after this (and after the snapshot) holds the fetch back
	Limit       int
}

// SaveInfo says where stored snapshots come from.
type SaveInfo struct {
	Actor  string // who asked: a key name, "cli", or SystemActor for the background refresh
	Source string // SourceFetch or SourceImport
	Atomic bool
}

// Snapshot sources.
const (
	SourceFetch  = "fetch"
	SourceImport = "import"
)

// SystemActor records the snapshots the background refresh and new-client fetches store.
const SystemActor = "system:solvency"

// ProviderState is one provider's latest snapshot of a client (nil when none) and its last failed
// fetch (nil when none, or when a snapshot came after it).
type ProviderState struct {
	Provider string
	Snapshot *Snapshot
	FailedAt *time.Time
	Failure  string
}

// lastFetchFailed: the provider failed since its latest snapshot (or failed and has none).
func (p ProviderState) lastFetchFailed() bool {
	return p.FailedAt != nil && (p.Snapshot == nil || p.FailedAt.After(p.Snapshot.FetchedAt))
}

// ServiceConfig is what NewService needs. Zero durations and rates take the Refresher defaults.
type ServiceConfig struct {
	Store     ServiceStore
	Providers []Provider
	// MaxAge is how old a snapshot may get before it is stale and refreshed (CREDO_SOLVENCY_MAX_AGE).
	MaxAge time.Duration
	// Interval, PerMinute and RetryFailedAfter tune the background refresh (RefresherOptions).
	Interval         time.Duration
	PerMinute        float64
	RetryFailedAfter time.Duration
	// PassLimit caps the clients one background pass lists (default 30 minutes of fetches at
	// PerMinute, at least 50), so a large portfolio is refreshed in bounded slices, oldest first.
	PassLimit int
	// Mapping maps letter grades and scores of imported bureau exports; nil: imports must carry
	// Credo grades.
	Mapping *Mapping
	// Invalidate drops the cached scores of clients after a new snapshot (scoring.Service.Invalidate).
	Invalidate func(ctx context.Context, clientIDs ...string)
	Log        *slog.Logger
	Now        func() time.Time
}

// Service stores, merges, refreshes and imports solvency snapshots. Its methods are safe for
// concurrent use.
type Service struct {
	cfg       ServiceConfig
	store     ServiceStore
	providers []Provider
	refresher *Refresher
	log       *slog.Logger
	// newClients queues clients to fetch at once (new, or their company changed); Run drains it.
	newClients chan string
}

// newClientQueue bounds the new-client queue; a client dropped when it is full is still fetched
// by the next background pass (it has no snapshot, so it comes first).
const newClientQueue = 1024

// NewService checks cfg and builds the service and its background refresher.
func NewService(cfg ServiceConfig) (*Service, error) {
	if cfg.Store == nil {
		return nil, errors.New("solvency service: no store")
	}
	seen := map[string]bool{}
	for _, p := range cfg.Providers {
		if seen[p.Name()] {
			return nil, fmt.Errorf("solvency service: provider %q given twice", p.Name())
		}
		seen[p.Name()] = true
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.PerMinute <= 0 {
		cfg.PerMinute = 20
	}
	if cfg.PassLimit <= 0 {
		cfg.PassLimit = max(int(cfg.PerMinute*30), 50)
	}
	if cfg.RetryFailedAfter <= 0 {
		cfg.RetryFailedAfter = time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Service{cfg: cfg, store: cfg.Store, providers: slices.Clone(cfg.Providers), log: cfg.Log,
		newClients: make(chan string, newClientQueue)}
	s.refresher = s.newRefresher(storeAdapter{s: s, actor: SystemActor}, s.providers)
	return s, nil
}

// newRefresher builds a Refresher over store and providers with the service's settings.
func (s *Service) newRefresher(store Store, providers []Provider) *Refresher {
	return NewRefresher(store, providers, RefresherOptions{MaxAge: s.cfg.MaxAge, Interval: s.cfg.Interval,
		PerMinute: s.cfg.PerMinute, RetryFailedAfter: s.cfg.RetryFailedAfter, OnSaved: s.saved,
		Logger: s.log, Now: s.cfg.Now})
}

// MaxAge is the age past which a snapshot is stale.
func (s *Service) MaxAge() time.Duration { return s.cfg.MaxAge }

// Providers names the enabled providers, in configuration order.
func (s *Service) Providers() []string {
	out := make([]string, len(s.providers))
	for i, p := range s.providers {
		out[i] = p.Name()
	}
	return out
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// saved runs after each snapshot a fetch stored: the client's cached score is out of date.
func (s *Service) saved(clientID string) { s.invalidate(context.Background(), []string{clientID}) }

func (s *Service) invalidate(ctx context.Context, ids []string) {
	if s.cfg.Invalidate == nil || len(ids) == 0 {
		return
	}
	// Invalidation is best effort and must not hang a fetch: the cache bounds its own calls, this
	// bounds ours.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	s.cfg.Invalidate(ctx, ids...)
}

// Run refreshes due snapshots in the background and fetches queued new clients until ctx ends.
// Without providers it returns at once.
func (s *Service) Run(ctx context.Context) {
	if len(s.providers) == 0 {
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.refresher.Run(ctx) })
	wg.Go(func() { s.drainNewClients(ctx) })
	wg.Wait()
}

// ClientIdentityChanged queues a fetch for a client that was created or whose name, registration
// id or country changed (the ledger's hook). It never blocks: the fetch runs in Run, and only
// for the providers whose snapshot of the client's current company is missing or due.
func (s *Service) ClientIdentityChanged(_ context.Context, c ledger.Client) {
	if len(s.providers) == 0 {
		return
	}
	if _, err := (Company{ClientID: c.ClientID, RegistrationID: c.RegistrationID, Country: c.Country}).SIREN(); err != nil {
		return // no provider can look this company up
	}
	select {
	case s.newClients <- c.ClientID:
	default:
		s.log.Warn("solvency: new-client queue full; the background refresh will fetch the client", "client_id", c.ClientID)
	}
}

// drainNewClients fetches queued clients one at a time, so a burst of new clients cannot flood
// the providers.
func (s *Service) drainNewClients(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-s.newClients:
			if err := s.fetchIfDue(ctx, id); err != nil && ctx.Err() == nil {
				s.log.Warn("solvency fetch for a new or changed client failed", "client_id", id, "error", err.Error())
			}
		}
	}
}

// fetchIfDue fetches the providers that have no fresh snapshot of the client's current company
// and did not just fail: a client renamed keeps its snapshots, one with a new SIREN is fetched.
func (s *Service) fetchIfDue(ctx context.Context, clientID string) error {
	states, err := s.store.States(ctx, clientID, false)
	if fault.Code(err) == fault.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	byName := map[string]ProviderState{}
	for _, st := range states {
		byName[st.Provider] = st
	}
	now := s.now()
	var due []Provider
	for _, p := range s.providers {
		st := byName[p.Name()]
		fresh := st.Snapshot != nil && now.Sub(st.Snapshot.FetchedAt) <= s.cfg.MaxAge
		justFailed := st.lastFetchFailed() && now.Sub(*st.FailedAt) < s.cfg.RetryFailedAfter
		if !fresh && !justFailed {
			due = append(due, p)
		}
	}
	if len(due) == 0 {
		return nil
	}
	_, err = s.newRefresher(storeAdapter{s: s, actor: SystemActor}, due).FetchNow(ctx, clientID)
	if errors.Is(err, ErrUnsupported) {
		return nil
	}
	return err
}

// storeAdapter is the Refresher's Store on the service's store.
type storeAdapter struct {
	s     *Service
	actor string
}

func (a storeAdapter) FetchStates(ctx context.Context) ([]FetchState, error) {
	now := a.s.now()
	return a.s.store.DueStates(ctx, DueQuery{Providers: a.s.Providers(), StaleBefore: now.Add(-a.s.cfg.MaxAge),
		FailedSince: now.Add(-a.s.cfg.RetryFailedAfter), Limit: a.s.cfg.PassLimit})
}

func (a storeAdapter) Company(ctx context.Context, clientID string) (Company, error) {
	return a.s.store.Company(ctx, clientID)
}

func (a storeAdapter) SaveSnapshot(ctx context.Context, snap Snapshot) error {
	missing, err := a.s.store.SaveSnapshots(ctx, []Snapshot{snap}, SaveInfo{Actor: a.actor, Source: SourceFetch})
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fault.Errorf(fault.NotFound, "no client %q", snap.ClientID)
	}
	return nil
}

func (a storeAdapter) RecordFailure(ctx context.Context, clientID, provider string, at time.Time, cause error) error {
	return a.s.store.RecordFailure(ctx, clientID, provider, at, cause)
}
