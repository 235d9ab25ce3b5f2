package solvency

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Outcomes of one provider in a refresh.
const (
	OutcomeSaved       = "saved"        // a snapshot was stored
	OutcomeNotFound    = "not_found"    // the provider does not know the company; that answer was stored
	OutcomeFailed      = "failed"       // the fetch failed; the last good snapshot stays, now stale
	OutcomeUnsupported = "unsupported"  // the provider cannot look this company up
	OutcomeCircuitOpen = "circuit_open" // the provider failed repeatedly and is skipped for now
)

// FetchOutcome is what one provider did in a refresh.
type FetchOutcome struct {
	Provider string `json:"provider"`
	Outcome  string `json:"outcome"`
	// FetchedAt is the stored snapshot's fetch time (saved, not_found).
	FetchedAt *time.Time `json:"fetched_at,omitempty"`
	// Error says why a provider failed or was skipped.
	Error string `json:"error,omitempty"`
}

// RefreshReport is what POST /v1/clients/{id}/solvency/refresh answers: each provider's outcome,
// then the client's solvency as stored afterwards.
type RefreshReport struct {
	ClientID string         `json:"client_id"`
	Results  []FetchOutcome `json:"results"`
	Solvency Report         `json:"solvency"`
}

// Refresh fetches the client from every enabled provider now, stores what succeeded, records what
// failed (the last good snapshots stay, marked stale) and says what each provider did. actor is
// recorded with the snapshots. An unknown client is a fault NotFound error; provider failures are
// outcomes, not errors.
func (s *Service) Refresh(ctx context.Context, clientID, actor string) (RefreshReport, error) {
	if _, err := s.store.Company(ctx, clientID); err != nil {
		return RefreshReport{}, err
	}
	rec := &outcomes{byProvider: map[string]FetchOutcome{}}
	wrapped := make([]Provider, len(s.providers))
	for i, p := range s.providers {
		wrapped[i] = recordingProvider{Provider: p, rec: rec}
	}
	// A Refresher of its own, so that this call's outcomes are told apart from the background's.
	r := s.newRefresher(recordingStore{storeAdapter: storeAdapter{s: s, actor: actor}, rec: rec}, wrapped)
	if _, err := r.FetchNow(ctx, clientID); err != nil && ctx.Err() != nil {
		return RefreshReport{}, ctx.Err()
	}
	rep := RefreshReport{ClientID: clientID, Results: make([]FetchOutcome, 0, len(s.providers))}
	for _, p := range s.providers {
		o, ok := rec.byProvider[p.Name()]
		if !ok {
			o = FetchOutcome{Provider: p.Name(), Outcome: OutcomeFailed, Error: "the provider gave no answer"}
		}
		rep.Results = append(rep.Results, o)
	}
	sol, err := s.Report(ctx, clientID, false)
	if err != nil {
		return RefreshReport{}, err
	}
	rep.Solvency = sol
	return rep, nil
}

// outcomes collects what each provider did during one refresh; the last event of a provider
// (fetch, then save or failure record) is its outcome.
type outcomes struct {
	mu         sync.Mutex
	byProvider map[string]FetchOutcome
}

func (o *outcomes) set(f FetchOutcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.byProvider[f.Provider] = f
}

// recordingProvider notes the fetches that never reach the store: unsupported companies, open
// circuits, cancellations.
type recordingProvider struct {
	Provider
	rec *outcomes
}

func (p recordingProvider) Fetch(ctx context.Context, c Company) (Snapshot, error) {
	snap, err := p.Provider.Fetch(ctx, c)
	switch {
	case err == nil:
	case errors.Is(err, ErrUnsupported):
		p.rec.set(FetchOutcome{Provider: p.Name(), Outcome: OutcomeUnsupported, Error: err.Error()})
	case errors.Is(err, ErrCircuitOpen):
		p.rec.set(FetchOutcome{Provider: p.Name(), Outcome: OutcomeCircuitOpen, Error: err.Error()})
	default:
		p.rec.set(FetchOutcome{Provider: p.Name(), Outcome: OutcomeFailed, Error: err.Error()})
	}
	return snap, err
}

// recordingStore notes saved snapshots and recorded failures (which include snapshots refused
// by validation).
type recordingStore struct {
	storeAdapter
	rec *outcomes
}

func (r recordingStore) SaveSnapshot(ctx context.Context, snap Snapshot) error {
	if err := r.storeAdapter.SaveSnapshot(ctx, snap); err != nil {
		r.rec.set(FetchOutcome{Provider: snap.Provider, Outcome: OutcomeFailed, Error: "the snapshot could not be stored: " + err.Error()})
		return err
	}
	o := FetchOutcome{Provider: snap.Provider, Outcome: OutcomeSaved}
	if snap.NotFound {
		o.Outcome = OutcomeNotFound
	}
	t := snap.FetchedAt.UTC().Truncate(time.Microsecond)
	o.FetchedAt = &t
	r.rec.set(o)
	return nil
}

func (r recordingStore) RecordFailure(ctx context.Context, clientID, provider string, at time.Time, cause error) error {
	r.rec.set(FetchOutcome{Provider: provider, Outcome: OutcomeFailed, Error: cause.Error()})
	return r.storeAdapter.RecordFailure(ctx, clientID, provider, at, cause)
}
